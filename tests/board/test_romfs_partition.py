"""A profile board's ROMFS partition, as the nrf port's (MicroPython >= 1.28): vfs.rom_ioctl gives
it as a block device, `mpremote romfs deploy` writes it, the image is mounted at /rom (on
sys.path) at the next start, and the partition's file is not in the board's listings."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from mpremote.transport_serial import SerialTransport

from host.board.virtual_board import ROMFS_FILE, VirtualBoard

pytestmark = pytest.mark.slow

MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")


def _eval(board: VirtualBoard, expression: str):
    t = SerialTransport(board.port)
    try:
        t.enter_raw_repl()
        t.exec("import vfs, os, sys")
        return t.eval(expression)
    finally:
        t.close()


def test_mpremote_romfs_deploy_writes_the_partition_and_the_next_start_mounts_it(tmp_path: Path) -> None:
    flash, source = tmp_path / "flash", tmp_path / "rom"
    source.mkdir()
    (source / "greeting.py").write_text("TEXT = 'from rom'\n")
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False, log=lambda _m: None) as board:
        assert _eval(board, "(vfs.rom_ioctl(1), vfs.rom_ioctl(2, 0).ioctl(4, 0) * vfs.rom_ioctl(2, 0).ioctl(5, 0))") \
            == (1, 128 * 1024)
        assert _eval(board, "os.listdir('/')") == ["flash"]  # nothing in the partition: no /rom
        done = subprocess.run([MPREMOTE, "connect", board.port, "romfs", "deploy", str(source)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "ROMFS image deployed" in done.stdout
        assert (flash / ROMFS_FILE).exists()
        got = _eval(board, "(sorted(os.listdir('/')), os.listdir('/rom'), __import__('greeting').TEXT, "
                           f"sys.path, {ROMFS_FILE!r} in os.listdir('/flash'))")
    assert got == (["flash", "rom"], ["greeting.mpy"], "from rom",
                   ["", "/rom", "/rom/lib", "/flash", "/flash/lib"], False)


def test_a_board_without_a_partition_has_no_rom_ioctl(tmp_path: Path) -> None:
    with VirtualBoard(str(tmp_path), log=lambda _m: None) as board:
        assert _eval(board, "hasattr(vfs, 'rom_ioctl')") is False


def test_a_partition_size_is_whole_blocks() -> None:
    with pytest.raises(ValueError, match="4096"):
        VirtualBoard(romfs_size=1000)
