"""`flash.py info`'s "the firmware takes" figure: the heap the firmware holds once booted (live,
after a collection) less the REPL's right after a soft reset, whatever the tool ran at the REPL
before. It agrees with benchmarks/flash_bench.py's FIRMWARE_HEAP_PROBE run on the same board,
and `flash.py app`'s budget message gives the same figures. On the pca10040 virtual board."""
from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator

import pytest
from mpremote.transport_serial import SerialTransport

from benchmarks.flash_bench import FIRMWARE_HEAP_PROBE
from host.board import VirtualBoard
from host.flashing import cli
from host.flashing.apps import AppSlots
from host.flashing.board import connect
from host.flashing.firmware_install import install_firmware, install_firmware_romfs
from tests.flash.conftest import ROOT, flash_py

pytestmark = pytest.mark.slow

# FIRMWARE_HEAP_PROBE measured from a baseline taken before it (first thing after a soft reset)
# holds what the boot holds, plus its own code object and globals, less main.py's; the rest is
# how MicroPython's name pools grow (in steps). Its own figure is lower still: its baseline is
# taken after its text was compiled, so the names it interned are in it (docs/flashing.md).
# The probe's own objects do not shrink with the firmware: a fixed part beside the relative one
# (the probe above the info figure by 832 bytes of 27 616 once the firmware was cut to that).
TOLERANCE = 0.03
PROBE_OWN = 1024


def boot_once(board: VirtualBoard, romfs: bool = False) -> None:
    """The firmware installed (.mpy files, or a ROMFS image) and booted once (the first boot
    makes the run flag's file, which every later boot reads: a few bytes more)."""
    with connect(board.port) as b:
        (install_firmware_romfs if romfs else install_firmware)(b)
        assert b.restart_firmware() is not None


@pytest.fixture
def booted_board(board: VirtualBoard) -> Iterator[VirtualBoard]:
    boot_once(board)
    yield board


def probe_heap(port: str) -> int:
    """FIRMWARE_HEAP_PROBE's heap from a baseline measured first, over mpremote's own transport."""
    absolute = FIRMWARE_HEAP_PROBE.replace("print(gc.mem_alloc() - base)", "print(gc.mem_alloc())")
    assert absolute != FIRMWARE_HEAP_PROBE
    transport = SerialTransport(port)
    try:
        transport.enter_raw_repl()  # Ctrl-C, Ctrl-A, Ctrl-D: a freshly soft-reset raw REPL
        base = int(transport.exec("import gc\ngc.collect()\nprint(gc.mem_alloc())"))
        return int(transport.exec(absolute)) - base
    finally:
        transport.close()


def info_heap(port: str) -> dict:
    done = flash_py("info", "--port", port, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["heap"]


@pytest.mark.parametrize("romfs", [False, True], ids=["mpy", "romfs"])
def test_info_gives_what_the_probe_measures(board: VirtualBoard, romfs: bool) -> None:
    boot_once(board, romfs)
    firmware = info_heap(board.port)["firmware"]
    probe = probe_heap(board.port)
    assert abs(firmware - probe) <= TOLERANCE * probe + PROBE_OWN, (firmware, probe)


def test_the_figures_do_not_move_with_the_repl_work_before(booted_board: VirtualBoard,
                                                            capsys: pytest.CaptureFixture) -> None:
    first, second = info_heap(booted_board.port), info_heap(booted_board.port)
    assert first == second
    with connect(booted_board.port) as board:  # info after more REPL work than its own
        slots = AppSlots(board)
        board.exec("import json, struct\n_hog = bytearray(2000)\n_more = list(range(300))")
        assert cli._info(argparse.Namespace(json=True), board, slots) == 0
    assert json.loads(capsys.readouterr().out)["heap"] == first


def test_app_budget_message_has_infos_figures(booted_board: VirtualBoard) -> None:
    heap = info_heap(booted_board.port)
    done = flash_py("app", str(ROOT / "examples" / "hello.py"), "--port", booted_board.port,
                    "--ram-budget", "100")
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    found = re.search(r"the board has (\d+) left for an app \((\d+) free at the REPL, the "
                      r"firmware takes (\d+)\)", last)
    assert found, last
    left, free, firmware = map(int, found.groups())
    assert (free, firmware) == (heap["free_at_repl"], heap["firmware"])
    assert left == free - firmware
