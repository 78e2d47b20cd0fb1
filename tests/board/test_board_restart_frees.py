"""On a board too a restarted app starts from a fresh namespace and the replaced one is freed:
the heap the firmware holds before each new copy of a faulting app's setup() stays where it was,
however often the app is restarted (each copy holds 4 KB; a leak would add that per restart)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from host.board.virtual_board import VirtualBoard
from host.board_install import install_to_dir
from host.faults import FaultPolicy
from host.links.serial_link import SerialLink
from host.simulator import Simulation

pytestmark = pytest.mark.slow

RESTARTS = 8
HOLDS = 4000
FAULTING_APP = b"""
import gc
from microapp import *
held = None
def on_mesh(msg):
    pass
def setup():
    global held
    gc.collect()
    print("heap", gc.mem_alloc())
    held = bytearray(%d)
    Mesh.setIncomingMeshMsgHandler(on_mesh)
    Mesh.listen()
def loop():
    raise ValueError("again")
""" % HOLDS


def test_a_restarted_app_on_a_board_leaves_nothing_of_the_replaced_one_alive(tmp_path: Path) -> None:
    install_to_dir(str(tmp_path))
    with open(tmp_path / "faulting.py", "wb") as f:
        f.write(FAULTING_APP)
    with VirtualBoard.for_profile("pca10040", str(tmp_path), paced=False, log=lambda _m: None) as board, \
            SerialLink(board.port, "faulting.py", reset=True) as link:
        summary = Simulation(None, link=link, policy=FaultPolicy.parse("restart")).run(2 * RESTARTS + 2)
    heaps = [int(text.split()[1]) for _, text in summary["log"] if text.startswith("heap ")]
    assert summary["restarts"] >= RESTARTS and len(heaps) >= RESTARTS, summary
    # The first copy's heap may still hold what loading the firmware left; from the second on,
    # each starts where the one before it did.
    assert max(heaps[1:]) - min(heaps[1:]) < HOLDS // 2, heaps
