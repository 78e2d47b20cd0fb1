"""Serial link figures, measured on virtual boards (a real MicroPython VM behind a pty), taken as
benchmarks/measure.py says: every figure once a round, the serial run and its echo baseline one
right after the other in alternating order, a ratio per round; medians with NAME_min/NAME_max;
wall time (they wait on a line):

- serial_round_trips_per_s: requests (a pin write each) handled per second through the serial
  link: host controller -> frame -> pty -> VM (board firmware, runtime, app) -> frame -> host;
- pty_echo_round_trips_per_s: a second VM on its own pty echoing as many bytes (the mean round
  trip of the serial run, half each way) with no protocol: its main.py reads them and writes
  them back;
- serial_efficiency: the first over the second, per round (goal: at least 0.5);
- uart_requests_per_s: the same requests through a line paced at 115200 baud, 10 bits a byte
  (the virtual board's own pacing, VirtualBoard(baud=...)), as a real board's UART (goal: at least 600);
- uart_line_share: that rate over what the line itself allows for the bytes those requests
  sent (11 520 bytes/s over serial_frame_bytes): the part of the line the link keeps busy;
- serial_frame_bytes: bytes actually sent per round trip, both ways together, frames and
  resends included (the link's byte counters over its round trips);
- uart_resends_per_1000: frames resent per 1000 round trips on that line (a timer that fires
  before the answer could come: the resend timer's floor and the round trip's jitter);
- uart_late_us: how long after their line time the paced board let bytes through, per write,
  both directions (its LinePacer accounting; bytes let through early: uart_bytes_early, always 0);
(firmware_heap_bytes and app_heap_bytes are in flash_bench.py, measured on a pca10040 board.)
"""
from __future__ import annotations

import os
import select
import shutil
import tempfile
import time

import serial

from benchmarks.measure import ROUNDS, ratio, spread, wall_clock
from host.board.virtual_board import VirtualBoard, profile_heap
from host.board_install import install_to_dir
from host.limits import Limits
from host.links.serial_link import SerialLink
from host.simulator import Simulation

BAUD = 115200
REQUESTS = 600  # a round of the serial figures
UART_REQUESTS = 400
# The firmware with containment's loader no longer leaves a PCA10040 room for an app
# (tests/board/test_board_heap.py): these boards get a PCA10056's heap, as the serial tests do.
HEAP = profile_heap("pca10056")

APP = """
import microapp
def setup():
    microapp.pinMode(3, microapp.OUTPUT)
def loop():
    write = microapp.digitalWrite
    for i in range(100):
        write(3, i & 1)
"""
ECHO_MAIN = b"""import sys
read = sys.stdin.buffer.read
write = sys.stdout.buffer.write
while True:
    write(read(%d))
"""


def requests_per_s(port: str, requests: int) -> tuple[float, float, float]:
    """(requests a second, bytes sent per round trip, resends per 1000 round trips) of the app's
    pin writes through `port`."""
    with SerialLink(port, watchdog_ms=10_000) as link:
        sim = Simulation(None, limits=Limits(entry_budget=10**9), link=link)
        sim.run(2)  # setup, and a first loop
        before = sum(sim.controller.requests)
        frames, sent = link.stats["frames"], link.stats["bytes_out"] + link.stats["bytes_in"]
        resent = link.stats["resent"]
        t = wall_clock()
        sim.run(max(1, requests // 100))
        elapsed = wall_clock() - t
        assert sim.controller.faults == [], sim.controller.faults
        done = sum(sim.controller.requests) - before
        trips = link.stats["frames"] - frames
        size = (link.stats["bytes_out"] + link.stats["bytes_in"] - sent) / trips
        resends = 1000 * (link.stats["resent"] - resent) / trips
    return done / elapsed, size, resends


def echo_round_trips_per_s(port: serial.Serial, size: int, n: int) -> float:
    """n round trips of `size` bytes each way, read as the link reads (select, then os.read)."""
    message = b"A" * size
    fd = port.fileno()
    t = wall_clock()
    for _ in range(n):
        port.write(message)
        got = 0
        while got < size:
            select.select((fd,), (), (), 5)
            got += len(os.read(fd, 4096))
    return n / (wall_clock() - t)


def figures() -> dict[str, float]:
    flash, echo_flash = tempfile.mkdtemp(prefix="serial-bench-"), tempfile.mkdtemp(prefix="echo-bench-")
    rounds: dict[str, list[float]] = {k: [] for k in (
        "serial_round_trips_per_s", "pty_echo_round_trips_per_s", "uart_requests_per_s",
        "uart_line_share", "serial_frame_bytes", "uart_resends_per_1000", "uart_late_us")}
    try:
        install_to_dir(flash, APP.encode())
        with VirtualBoard(flash, heap_size=HEAP) as board:
            size = requests_per_s(board.port, 200)[1]  # the echo's message: a mean round trip
        with open(os.path.join(echo_flash, "main.py"), "wb") as f:
            f.write(ECHO_MAIN % round(size / 2))
        with VirtualBoard(flash, heap_size=HEAP) as board, \
                VirtualBoard(flash, heap_size=HEAP, baud=BAUD) as paced_board, \
                VirtualBoard(echo_flash) as echo_board, \
                serial.serial_for_url(echo_board.port, timeout=5) as echo:
            time.sleep(1.0)  # the echo board's boot and banner
            echo.reset_input_buffer()
            for i in range(ROUNDS):
                if i % 2:
                    echo_rate = echo_round_trips_per_s(echo, round(size / 2), REQUESTS)
                    rate, size, _ = requests_per_s(board.port, REQUESTS)
                else:
                    rate, size, _ = requests_per_s(board.port, REQUESTS)
                    echo_rate = echo_round_trips_per_s(echo, round(size / 2), REQUESTS)
                pacers = (paced_board.in_pacer, paced_board.out_pacer)
                late, writes = sum(p.late_s for p in pacers), sum(p.writes for p in pacers)
                uart_rate, uart_size, resends = requests_per_s(paced_board.port, UART_REQUESTS)
                rounds["uart_late_us"].append(
                    1e6 * (sum(p.late_s for p in pacers) - late) / (sum(p.writes for p in pacers) - writes))
                rounds["serial_round_trips_per_s"].append(rate)
                rounds["pty_echo_round_trips_per_s"].append(echo_rate)
                rounds["uart_requests_per_s"].append(uart_rate)
                rounds["uart_line_share"].append(uart_rate * uart_size / (BAUD / 10))
                rounds["serial_frame_bytes"].append(uart_size)
                rounds["uart_resends_per_1000"].append(resends)
            early = sum(p.early for p in pacers)
    finally:
        shutil.rmtree(flash, ignore_errors=True)
        shutil.rmtree(echo_flash, ignore_errors=True)
    out: dict[str, float] = {}
    for name, values in rounds.items():
        out.update(spread(name, values))
        if name == "pty_echo_round_trips_per_s":
            out.update(ratio("serial_efficiency", rounds["serial_round_trips_per_s"], values))
    out["uart_bytes_early"] = early
    return out
