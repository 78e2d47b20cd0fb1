"""`flash.py freeze DIR` writes the firmware's modules as the board build compiles them, for a
MicroPython image with them frozen in: the constants folded in, so that a boot loads neither
the protocol's module nor the version's (docs/flashing.md, "Frozen modules")."""
from __future__ import annotations

import os

from tests.flash.conftest import assert_one_line_error, flash_py
from tests.micropython_vm import run_micropython

# What a boot imports (benchmarks/flash_bench.py's probe), then the firmware's modules loaded.
BOOT = """
import sys
sys.path[:] = ['/flash']
from firmware import run_flag
from firmware.board_main import Board, _app_source
board = Board(sys.stdin.buffer, sys.stdout.buffer, run_flag)
print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('firmware', 'shared_buffers'))))
"""


def test_the_frozen_sources_are_the_board_builds_and_boot_in_the_vm(tmp_path) -> None:
    folder = tmp_path / "frozen"
    done = flash_py("freeze", str(folder))
    assert done.returncode == 0, done.stderr
    assert "modules written" in done.stdout
    assert not (folder / "main.py").exists()  # main.py goes on the board's /flash
    runtime = (folder / "firmware" / "runtime.py").read_text()
    assert "shared_buffers.protocol" not in runtime  # its numbers are folded in
    # The real VM boots from them without the protocol or the version module.
    code, out, err = run_micropython(BOOT, flash_dir=str(folder))
    assert code == 0 and not err, err
    loaded = out.split()
    assert "firmware.board_main" in loaded and "shared_buffers.serial_frame" in loaded
    assert "shared_buffers.protocol" not in loaded and "firmware.version" not in loaded


def test_a_folder_that_cannot_be_written_gets_one_line(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_one_line_error(flash_py("freeze", os.path.join(str(blocker), "sub")), str(blocker))
