"""Serial link figures, measured on one virtual board (a real MicroPython VM behind a pty):

- serial_round_trips_per_s: requests (a pin write each) handled per second through the serial
  link: host controller -> frame -> pty -> VM (board firmware, runtime, app) -> frame -> host;
- pty_echo_round_trips_per_s: the same VM on the same pty echoing the same number of bytes (the
  average frame of that run) with no protocol: its main.py reads them and writes them back;
- serial_efficiency: the first over the second (goal: at least 0.5);
- serial_frame_bytes: the average frame, host to board and back;
- firmware_heap_bytes: MicroPython heap the firmware takes once imported and set up (gc.mem_alloc
  after gc.collect, less the VM's own), measured in the same VM build.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time

import serial

from host.board.virtual_board import FIRMWARE_HEAP, VirtualBoard
from host.board_install import MAIN_PY, install_to_dir
from host.limits import Limits
from host.links.serial_link import SerialLink
from host.simulator import Simulation
from shared_buffers import protocol as P
from shared_buffers import serial_frame as F
from shared_buffers.buffers import new_buffer, write_header

REPEATS = 3
REQUESTS_PER_TICK = 500
TICKS = 4

APP = f"""
import microapp
def setup():
    microapp.pinMode(3, microapp.OUTPUT)
def loop():
    write = microapp.digitalWrite
    for i in range({REQUESTS_PER_TICK}):
        write(3, i & 1)
"""
ECHO_MAIN = b"""import sys
read = sys.stdin.buffer.read
write = sys.stdout.buffer.write
while True:
    write(read(%d))
"""


def frame_bytes() -> float:
    """The average of the two frames of one pin write: the host's RESUME (the ack, and the
    tick in b2m) and the board's YIELD (the request)."""
    m2b, b2m = new_buffer(), new_buffer()
    write_header(m2b, P.PIN, P.REQUEST, 1, 3)
    write_header(b2m, P.CONTINUE, P.NO_REQUEST, 1, 4)
    encoder = F.Encoder()
    to_board = len(encoder.buffers(1, F.RESUME, m2b, b2m))
    to_host = len(encoder.buffers(1, F.YIELD, m2b, b2m))
    return (to_board + to_host) / 2


def serial_round_trips_per_s(board: VirtualBoard) -> float:
    best = 0.0
    with SerialLink(board.port, watchdog_ms=10_000) as link:
        sim = Simulation(None, limits=Limits(entry_budget=10**9), link=link)
        sim.run(2)  # setup, and a first loop
        for _ in range(REPEATS):
            before = sum(sim.controller.requests)
            t = time.perf_counter()
            sim.run(TICKS)
            elapsed = time.perf_counter() - t
            best = max(best, (sum(sim.controller.requests) - before) / elapsed)
        assert sim.controller.faults == [], sim.controller.faults
    return best


def pty_echo_round_trips_per_s(board: VirtualBoard, size: int, n: int) -> float:
    """The board restarted with an echo as its main.py; n round trips of `size` bytes."""
    with open(os.path.join(board.flash_dir, "main.py"), "wb") as f:
        f.write(ECHO_MAIN % size)
    board.hard_reset()
    message = b"A" * (size - 1) + b"\n"
    best = 0.0
    with serial.serial_for_url(board.port, timeout=5) as port:
        time.sleep(0.5)  # the banner and the REPL's output of the boot
        port.reset_input_buffer()
        for _ in range(REPEATS):
            t = time.perf_counter()
            for _ in range(n):
                port.write(message)
                if port.read(size) != message:
                    raise RuntimeError("the echo came back wrong")
            best = max(best, n / (time.perf_counter() - t))
    with open(os.path.join(board.flash_dir, "main.py"), "wb") as f:
        f.write(MAIN_PY)
    return best


def firmware_heap_bytes() -> int:
    from tests.micropython_vm import run_micropython
    code, out, err = run_micropython("""
import gc, sys
gc.collect()
base = gc.mem_alloc()
from firmware.board_main import Board
board = Board(sys.stdin.buffer, sys.stdout.buffer)
gc.collect()
print(gc.mem_alloc() - base)
""")
    if code or err:
        raise RuntimeError(f"the VM failed: {err}")
    return int(out)


def figures() -> dict[str, float]:
    flash = tempfile.mkdtemp(prefix="serial-bench-")
    try:
        install_to_dir(flash, APP.encode())
        with VirtualBoard(flash, heap_size=FIRMWARE_HEAP) as board:
            serial_rate = serial_round_trips_per_s(board)
            size = round(frame_bytes())
            echo_rate = pty_echo_round_trips_per_s(board, size, REQUESTS_PER_TICK * TICKS)
    finally:
        shutil.rmtree(flash, ignore_errors=True)
    return {
        "serial_round_trips_per_s": serial_rate,
        "pty_echo_round_trips_per_s": echo_rate,
        "serial_efficiency": serial_rate / echo_rate,
        "serial_frame_bytes": frame_bytes(),
        "firmware_heap_bytes": firmware_heap_bytes(),
    }

