"""`flash.py firmware --romfs`: the firmware as a ROMFS image in a PCA10040's partition (the nrf
port's, since MicroPython 1.28), main.py alone in /flash; the modules import from /rom."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from mpremote.transport_serial import SerialTransport

from host.board import VirtualBoard
from host.board.virtual_board import ROMFS_FILE
from host.board_install import MAIN_PY, firmware_files
from host.flashing.mpy import precompiled
from host.flashing.romfs import ROMFS_ROOT, romfs_image
from tests.flash.conftest import BOARD_MPY, assert_one_line_error, flash_py

pytestmark = pytest.mark.slow


def _where_from(board: VirtualBoard) -> str:
    t = SerialTransport(board.port)
    try:
        t.enter_raw_repl()
        return t.eval("__import__('firmware.board_main').board_main.__file__")
    finally:
        t.close()


def test_the_firmware_goes_into_the_romfs_partition_and_runs_from_rom(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    stale = flash / "firmware"
    stale.mkdir()
    (stale / "runtime.mpy").write_bytes(b"an old copy that would hide /rom's")
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False, log=lambda _m: None) as board:
        done = flash_py("firmware", "--romfs", "--port", board.port)
        assert done.returncode == 0, done.stderr
        assert "ROMFS image (written, verified)" in done.stdout
        modules = [f for f in precompiled(firmware_files(), BOARD_MPY, ROMFS_ROOT)[0] if f[0] != "main.py"]
        image = romfs_image(modules)
        assert (flash / ROMFS_FILE).read_bytes()[:len(image)] == image
        assert sorted(os.listdir(flash)) == [ROMFS_FILE, "main.py", "microapp_running"]
        assert (flash / "main.py").read_bytes() == MAIN_PY
        assert _where_from(board) == "/rom/firmware/board_main.mpy"
        again = flash_py("firmware", "--romfs", "--port", board.port)
        assert again.returncode == 0, again.stderr
        assert "ROMFS image (unchanged)" in again.stdout


def test_a_board_without_a_romfs_partition_gets_one_line(tmp_path: Path) -> None:
    with VirtualBoard(str(tmp_path), log=lambda _m: None) as board:
        done = flash_py("firmware", "--romfs", "--port", board.port)
    assert_one_line_error(done, "no ROMFS partition")
    assert not (tmp_path / "main.py").exists()


def test_romfs_and_source_do_not_go_together() -> None:
    assert_one_line_error(flash_py("firmware", "--romfs", "--source", "--port", "/dev/null"), "--romfs")
