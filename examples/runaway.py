"""A microapp whose loop never yields: the watchdog stops it (1 s of wall time in the simulator),
flags it did-reboot and disables it; the host goes on ticking. `microapp status` shows the
flag; `microapp enable runaway` clears it."""
from microapp import *


def setup():
    print("starting; the next loop() never returns")


def loop():
    n = 0
    while True:  # no request, no return: nothing gives the host control back
        n += 1
