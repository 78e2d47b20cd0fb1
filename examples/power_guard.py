"""A power guard: the outlet turns itself off when the load draws more than 2 kW for two
samples in a row (one a second), and tells the hub why (Message.write: the output channel of a
release build)."""
from microapp import *

LIMIT_MW = 2_000_000
over = 0


def setup():
    CrownstoneSwitch.turnOn(False)


def loop():
    global over
    mw = PowerUsage.getPowerUsageMilliWatts()
    over = over + 1 if mw > LIMIT_MW else 0
    if over == 2:
        CrownstoneSwitch.turnOff()
        Message.write("guard: off at %d W" % (mw // 1000))
        print("tripped at", mw, "mW")
    delay(1000)
