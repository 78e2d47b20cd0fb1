"""tools/flash.py's errors a user can act on: one line, exit code 2, no traceback, nothing
changed. The "not MicroPython" and "raw REPL refused" devices are real ptys with a peer that
behaves as such a device does."""
from __future__ import annotations

import os
import pty
import select
import threading
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.flash.conftest import assert_one_line_error, flash_py


@contextmanager
def serial_device(answer: Callable[[bytes], bytes]) -> Iterator[str]:
    """A pty whose other end answers each chunk it receives with answer(chunk)."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            if select.select([master], [], [], 0.05)[0]:
                try:
                    reply = answer(os.read(master, 1024))
                except OSError:
                    return
                if reply:
                    os.write(master, reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield os.ttyname(slave)
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)


def test_no_such_port() -> None:
    assert_one_line_error(flash_py("firmware", "--port", "/dev/ttyACM97"),
                          "no such port: /dev/ttyACM97")


@pytest.mark.slow
def test_a_device_that_is_not_a_micropython_board() -> None:
    gps = b"$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n"
    with serial_device(lambda _: gps) as port:
        assert_one_line_error(flash_py("info", "--port", port), "is not a MicroPython board")


@pytest.mark.slow
def test_a_board_whose_repl_refuses_the_raw_repl() -> None:
    def repl(data: bytes) -> bytes:  # a friendly REPL that ignores Ctrl-A
        return b"\r\nKeyboardInterrupt: \r\n>>> " if b"\x03" in data else b""

    with serial_device(repl) as port:
        assert_one_line_error(flash_py("firmware", "--port", port), "refused the raw REPL")


def test_hex_needs_pyocd_or_nrfutil(tmp_path) -> None:
    image = tmp_path / "micropython.hex"
    image.write_text(":00000001FF\n")
    env_path = os.environ["PATH"]
    os.environ["PATH"] = str(tmp_path)  # neither tool on the PATH
    try:
        done = flash_py("firmware", "--port", "/dev/ttyACM97", "--hex", str(image),
                        "--board", "pca10040")
    finally:
        os.environ["PATH"] = env_path
    assert_one_line_error(done, "--hex needs pyocd or nrfutil installed")


@pytest.mark.parametrize("args, words", [
    (["app", "examples/hello.py", "--port", "/dev/null", "--slot", "x"], ["invalid int value"]),
    (["flash"], ["invalid choice"]),
    (["app", "no_such_app.py", "--port", "/dev/ttyACM97"], ["no_such_app.py", "No such file"]),
    (["firmware", "--port", "/dev/ttyACM97", "--hex", "x.hex"], ["--hex needs --board"]),
])
def test_bad_arguments(args: list[str], words: list[str]) -> None:
    done = flash_py(*args)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and all(w in lines[-1] for w in words), done.stderr


def test_an_app_that_does_not_compile_is_refused_before_the_board(tmp_path) -> None:
    app = tmp_path / "broken.py"
    app.write_text("def loop(:\n    pass\n")
    assert_one_line_error(flash_py("app", str(app), "--port", "/dev/ttyACM97"), "broken.py:1")
