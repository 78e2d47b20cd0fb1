"""UART pacing of the virtual board: 10 bits a byte, both ways."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import serial

from host.board.virtual_board import SPIN_S, LinePacer, VirtualBoard


def test_pacer_lets_bytes_through_at_ten_bits_each() -> None:
    pacer = LinePacer(1000)  # 100 bytes/s: a byte every 10 ms
    pacer.queued(now=5.0, was_empty=True)
    assert pacer.ready(5.0, 50) == 0
    assert pacer.ready(5.095, 50) == 9
    assert pacer.ready(5.2, 50) == 20
    pacer.sent(20)
    assert pacer.ready(5.2, 30) == 0  # those 20 took the line until 5.2
    assert pacer.wait_s(5.2, 3) == pytest.approx(0.03)


def test_pacer_saves_no_credit_while_the_line_is_idle() -> None:
    pacer = LinePacer(1000)
    pacer.queued(now=1.0, was_empty=True)
    pacer.sent(1)
    pacer.queued(now=60.0, was_empty=True)  # a minute later: the first byte still takes 10 ms
    assert pacer.ready(60.0, 5) == 0
    assert pacer.ready(60.011, 5) == 1


class _FakeTime:
    """A clock that only moves when slept on (each sleep overshooting as a loaded host's does)
    or read (a read takes 1 us): the pacer's waits without wall time."""

    def __init__(self, overshoot_s: float) -> None:
        self.now = 0.0
        self.overshoot_s = overshoot_s
        self.slept: list[float] = []

    def clock(self) -> float:
        self.now += 1e-6
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s + self.overshoot_s


def test_a_wait_sleeps_short_of_the_bytes_time_and_spins_the_rest() -> None:
    fake = _FakeTime(overshoot_s=SPIN_S / 2)
    pacer = LinePacer(115200, clock=fake.clock, sleep=fake.sleep)
    pacer.queued(fake.clock(), was_empty=True)
    due = pacer.wait_s(0.0, 8)  # 8 bytes: 694 us after 0
    now = pacer.wait_until_ready(8)
    assert fake.slept == [pytest.approx(due - SPIN_S, abs=5e-6)]
    assert pacer.ready(now, 8) == 8  # never before the bytes' time...
    assert now - due < 5e-6  # ...and not the sleep's overshoot after it
    pacer.sent(8, now)
    assert (pacer.bytes, pacer.writes, pacer.early) == (8, 1, 0)
    assert pacer.line_s == pytest.approx(8 * 10 / 115200)


def test_a_sleep_that_overshoots_the_spin_is_not_slept_again() -> None:
    fake = _FakeTime(overshoot_s=3 * SPIN_S)
    pacer = LinePacer(115200, clock=fake.clock, sleep=fake.sleep)
    pacer.queued(fake.clock(), was_empty=True)
    now = pacer.wait_until_ready(20)
    assert len(fake.slept) == 1 and pacer.ready(now, 20) == 20


def test_the_accounting_counts_bytes_let_through_early_and_how_late() -> None:
    pacer = LinePacer(1000)  # a byte every 10 ms
    pacer.queued(now=1.0, was_empty=True)
    pacer.sent(2, now=1.015)  # due at 1.02: 5 ms early
    assert pacer.early == 2
    pacer.sent(1, now=1.04)  # due at 1.03: 10 ms late
    assert pacer.early == 2 and pacer.late_s == pytest.approx(0.01)
    assert (pacer.bytes, pacer.writes) == (3, 2)


def test_pacer_rejects_a_baud_rate_that_is_not_positive() -> None:
    with pytest.raises(ValueError):
        LinePacer(0)
    with pytest.raises(ValueError):
        VirtualBoard(baud=-9600)


@pytest.mark.slow
def test_a_slow_line_takes_its_line_time_both_ways(tmp_path: Path) -> None:
    # 4800 baud = 480 bytes/s. A lower bound only: a paced line can never be faster than this.
    with VirtualBoard(str(tmp_path / "flash"), baud=4800, log=lambda _m: None) as board:
        with serial.Serial(board.port, timeout=0.05) as port:
            port.write(b"'ok'\r")
            got = b""
            deadline = time.monotonic() + 10
            while not got.endswith(b"'ok'\r\n>>> ") and time.monotonic() < deadline:
                got += port.read(64)
            line = b"x=" + b"1" * 94 + b"\r"  # 97 bytes in, echoed back (97 out)
            start = time.monotonic()
            port.write(line)
            echo = b""
            while not echo.endswith(b">>> ") and time.monotonic() < deadline:
                echo += port.read(64)
            took = time.monotonic() - start
            start = time.monotonic()
            port.write(b"print('a' * 200)\r")  # 17 bytes in, over 200 out
            printed = b""
            while printed.count(b">>> ") < 1 and time.monotonic() < deadline:
                printed += port.read(256)
            took_out = time.monotonic() - start
        assert b"a" * 200 in printed
        assert took_out >= 200 * 10 / 4800
        assert echo.startswith(line[:-1])
        # in: 97 bytes = 0.20 s; the echo overlaps it, so in + out is at least the input's time
        assert took >= 97 * 10 / 4800


@pytest.mark.slow
def test_a_long_transfer_at_115200_keeps_the_line_rate_by_the_relays_own_accounting(tmp_path: Path) -> None:
    # 20 000 bytes out and a line in: every byte through the pacer, none before its line time
    # (10 bits a byte), as the relay's own accounting says (no wall-clock assertion).
    with VirtualBoard(str(tmp_path / "flash"), baud=115200, log=lambda _m: None) as board:
        with serial.Serial(board.port, timeout=0.05) as port:
            deadline = time.monotonic() + 30
            got = b""
            while b">>> " not in got and time.monotonic() < deadline:
                got += port.read(256)
            port.write(b"print('a' * 20000)\r")
            printed = b""
            while not printed.endswith(b">>> ") and time.monotonic() < deadline:
                printed += port.read(4096)
        assert b"a" * 20000 in printed
        out, into = board.out_pacer, board.in_pacer
        assert out.bytes == len(got) + len(printed)  # all of the VM's output went through it
        assert into.bytes == len(b"print('a' * 20000)\r")
        assert out.early == 0 and into.early == 0
        assert out.writes >= 20000 // out.chunk()  # in UART-burst-sized pieces, each paced
        assert out.line_s == pytest.approx(out.bytes * 10 / 115200)
