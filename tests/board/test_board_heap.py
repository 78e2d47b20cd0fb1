"""The board profiles' heaps with the firmware on them: an app that allocates past a PCA10040's
heap gets MemoryError, contained as a fault (the board goes on serving), and fits on a PCA10056."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from host.board.virtual_board import VirtualBoard
from host.board_install import install_to_dir
from host.links.serial_link import SerialLink
from host.simulator import Simulation

pytestmark = pytest.mark.slow

# 100 000 bytes: past a PCA10040's 53 248-byte heap (times the 64-bit build's 1.5), within a
# PCA10056's 249 856.
HOG_APP = b"""
hog = None
def setup():
    global hog
    hog = bytearray(100000)
    print("hog", len(hog))
def loop():
    print("still", len(hog))
"""
LIGHT_APP = b"def loop():\n    print('light')\n"


def run_app(board: VirtualBoard, name: str, source: bytes, ticks: int = 3, reset: bool = True) -> dict:
    with open(os.path.join(board.flash_dir, name), "wb") as f:
        f.write(source)
    with SerialLink(board.port, name, reset=reset) as link:
        summary = Simulation(None, link=link).run(ticks)
        summary["resets"] = link.stats["resets"]
        return summary


def test_an_app_past_a_pca10040_heap_faults_with_memory_error_and_the_board_serves_on(tmp_path: Path) -> None:
    # the firmware in the board's ROMFS partition (tools/flash.py firmware --romfs): from .mpy
    # files in /flash its bytecode and names would fill the heap before any app loads
    install_to_dir(str(tmp_path), romfs=True)
    with VirtualBoard.for_profile("pca10040", str(tmp_path), paced=False, log=lambda _m: None) as board:
        hog = run_app(board, "hog.py", HOG_APP)
        assert hog["faults"], hog
        assert all("MemoryError" in f["error"] for f in hog["faults"])
        assert not any("hog" in text for _, text in hog["log"])
        # the firmware that caught it serves the next app: no reset, no new VM
        light = run_app(board, "light.py", LIGHT_APP, reset=False)
        assert light["resets"] == 0
        assert light["faults"] == []
        assert [text for _, text in light["log"]][-1] == "light"


def test_the_same_app_fits_on_a_pca10056(tmp_path: Path) -> None:
    install_to_dir(str(tmp_path))
    with VirtualBoard.for_profile("pca10056", str(tmp_path), paced=False, log=lambda _m: None) as board:
        hog = run_app(board, "hog.py", HOG_APP)
    assert hog["faults"] == []
    assert [text for _, text in hog["log"]][:2] == ["hog 100000", "still 100000"]
