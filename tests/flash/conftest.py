"""Fixtures for tools/flash.py against the virtual board (a real MicroPython VM behind a pty)."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from host.board import VirtualBoard
from host.board_install import firmware_files
from host.flashing.mpy import precompiled

ROOT = Path(__file__).resolve().parents[2]
FLASH_PY = str(ROOT / "tools" / "flash.py")


@pytest.fixture
def board(tmp_path: Path) -> Iterator[VirtualBoard]:
    """A PCA10040-sized board (its heap, collector on, its raw-paste window), the board issue 11
    asks the flashing suite to run on; unpaced: these tests check what is sent,
    tests/board/test_baud.py checks line time."""
    with VirtualBoard.for_profile("pca10040", str(tmp_path / "flash"), paced=False,
                                  log=lambda message: None) as b:
        yield b


def flash_py(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run tools/flash.py as a user would (its own process; stderr is not a terminal)."""
    return subprocess.run([sys.executable, FLASH_PY, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit code 2, one line on stderr naming the problem, no traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flash.py: error: "), done.stderr
    for word in words:
        assert word in lines[0], done.stderr


def expected_files(source: bool = False) -> dict[str, bytes]:
    """What `install_firmware` puts on the virtual board: every module as .mpy for its bytecode
    version (main.py as source), or the sources."""
    files = firmware_files()
    return dict(files) if source else dict(precompiled(files, BOARD_MPY)[0])


# sys.implementation._mpy of the virtual board's VM (bytecode 6.3, x64)
BOARD_MPY = 2822


def board_files(flash_dir: str, source: bool = False) -> dict[str, bytes]:
    """The firmware's files as they are on the board's flash, by path (both forms looked for)."""
    found = {}
    paths = [p for p, _ in firmware_files()]
    for path in paths + [p[:-3] + ".mpy" for p in paths]:
        target = os.path.join(flash_dir, path)
        if os.path.exists(target):
            with open(target, "rb") as f:
                found[path] = f.read()
    return found
