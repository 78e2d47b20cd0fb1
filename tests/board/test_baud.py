"""UART pacing of the virtual board: 10 bits a byte, both ways."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import serial

from host.board.virtual_board import LinePacer, VirtualBoard


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
