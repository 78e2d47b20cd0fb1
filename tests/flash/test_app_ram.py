"""The app's RAM: the firmware measures the heap the app holds after setup() (live, after a
collection); `flash.py app` prints it and refuses (disables) an app over its budget or over what
the board has left; `flash.py info` shows it. On the pca10040 virtual board (conftest.py)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from host.board import VirtualBoard
from host.flashing.board import connect
from host.flashing.firmware_install import install_firmware
from tests.flash.conftest import ROOT, flash_py

pytestmark = pytest.mark.slow

HELLO = str(ROOT / "examples" / "hello.py")


@pytest.fixture
def firmware_board(board: VirtualBoard) -> Iterator[VirtualBoard]:
    with connect(board.port) as b:
        install_firmware(b)
    yield board


def assert_error_line(done, *words: str) -> None:
    """Exit code 2, the progress lines of the upload, then one error line naming the problem."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("flash.py: error: "), done.stderr
    for word in words:
        assert word in last, last


def app_ram_line(stdout: str) -> int:
    line = next(x for x in stdout.splitlines() if x.startswith("app RAM after setup(): "))
    return int(line.split()[4])


def test_app_prints_its_ram_and_info_shows_it(firmware_board: VirtualBoard) -> None:
    done = flash_py("app", HELLO, "--port", firmware_board.port)
    assert done.returncode == 0, done.stderr
    ram = app_ram_line(done.stdout)
    assert 0 < ram < 4096 * 1.5
    info = flash_py("info", "--port", firmware_board.port)
    assert info.returncode == 0, info.stderr
    assert f"the app held {ram} bytes after setup()" in info.stdout


def test_an_app_over_its_budget_is_refused_with_the_figures_and_disabled(firmware_board: VirtualBoard) -> None:
    done = flash_py("app", HELLO, "--port", firmware_board.port, "--ram-budget", "100")
    assert_error_line(done, "over its RAM budget", "the budget is 150", "left for an app",
                          "the firmware takes")
    info = flash_py("info", "--port", firmware_board.port)
    assert "slot 0: " in info.stdout and "disabled" in info.stdout


def test_an_app_past_the_heap_left_is_refused_and_disabled(firmware_board: VirtualBoard, tmp_path: Path) -> None:
    hog = tmp_path / "hog.py"
    hog.write_text("hog = None\ndef setup():\n    global hog\n    hog = bytearray(400000)\n")
    done = flash_py("app", str(hog), "--port", firmware_board.port, "--ram-budget", "1000000")
    assert_error_line(done, "setup() failed on the board", "MemoryError")
    info = flash_py("info", "--port", firmware_board.port)
    assert "disabled" in info.stdout
