"""An app cannot reach the firmware's runtime through `microapp` (issue 12): not on the virtual
board (the real MicroPython VM, whose functions show their __globals__ and objects their
__class__), not in the simulator. The app walks every object it can get to from the SDK, the
builtins it is given and the SDK's lazy modules, and looks for the runtime (its dispatch table and
call id, which it could rewrite), the loader's globals (its real open() and in_app flag) and
sys (sys.modules holds every firmware module)."""
import textwrap
from pathlib import Path

import pytest

from host.board.virtual_board import VirtualBoard
from host.board_install import install_to_dir
from host.limits import Limits
from host.links.serial_link import SerialLink
from host.simulator import Simulation

WALKER = textwrap.dedent("""
    import gc
    import microapp
    import sys  # a view of it (on a board: of firmware/sdk_view.py's class)

    # A PCA10040 holds the lazy SDK modules (.mpy, in its heap) and the walk's lists only just:
    # a block kept from before their import leaves the walk room that they cannot fragment
    # (8 KiB since the SDK's helpers are in _Lazy's class, which every stand-in leads to).
    _room = bytearray(8192)

    def kind(o):
        if hasattr(o, "call_id") and hasattr(o, "handlers"):
            return "runtime"
        if hasattr(o, "modules") and hasattr(o, "path"):
            return "sys"
        if isinstance(o, dict) and ("in_app" in o or "_original_open" in o or "_rt" in o):
            return "loader or runtime globals"
        return None

    def edges(o):
        if isinstance(o, (str, bytes, bytearray, int, float, bool)) or o is None:
            return []
        if isinstance(o, dict):
            return list(o.values())
        if isinstance(o, (list, tuple)):
            return list(o)
        out = []
        try:  # MicroPython's dir() asks a module's __getattr__ (protocol.py's imports)
            names = [n for n in dir(o) if not n.startswith("__")] + ["__glob" + "als__"]  # the board shows it
        except Exception:
            return out
        for name in names:
            try:
                out.append(getattr(o, name))
            except Exception:  # a hidden name (the simulator), a proxy that raises
                pass
        return out

    def roots():
        found = [microapp, print, getattr, setattr, hasattr, delattr]
        # a bound method of each lazy module's object: its __globals__ are that module's (a
        # view's class's __init__: firmware/sdk_view.py's)
        for get in (lambda: open, lambda: microapp.Wire.begin, lambda: microapp.BLE.scan,
                    lambda: microapp.Mesh.listen, lambda: microapp.Serial.print,
                    lambda: type(sys).__init__):
            try:
                found.append(get())
            except Exception:
                pass
        return found

    def setup():
        global _room
        todo = roots()
        _room = None
        gc.collect()  # the kept block free before the walk's first allocation
        # The set of the objects seen at its full size first (389 slots; a board's walk sees about
        # 330), in the block just freed: grown during the walk, each larger table would need a
        # block of its own among the walk's objects, which fragment that block (on a PCA10040 one
        # layout in two of this app's heap failed so). Small ints are no object's id; removed
        # last first, they leave the slots empty.
        seen = set(range(300))
        for i in range(299, -1, -1):
            seen.discard(i)
        found = []
        while todo and len(seen) < 3000:
            o = todo.pop()
            if id(o) in seen:
                continue
            seen.add(id(o))
            try:
                k = kind(o)
            except Exception:  # a module's __getattr__ that imports (protocol.py's on a board)
                k = None
            if k and k not in found:
                found.append(k)
            todo.extend(edges(o))
        for k in found:
            print("reached", k)
        print("walked", len(seen) > 50)
        print("_rt", hasattr(microapp, "_rt"))
        try:
            from firmware import sdk_world
            print("imported", sdk_world)
        except ImportError:
            print("no firmware import")
""")
CLEAN = ["walked True", "_rt False", "no firmware import"]


def test_in_the_simulator_nothing_of_the_sdk_leads_to_the_runtime():
    sim = Simulation(WALKER, limits=Limits(watchdog_ms=10_000))
    summary = sim.run(2)
    assert [text for _, text in summary["log"]] == CLEAN
    assert summary["faults"] == []


@pytest.mark.slow
def test_on_the_virtual_board_nothing_of_the_sdk_leads_to_the_runtime(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    install_to_dir(str(flash))
    (flash / "walker.py").write_text(WALKER)
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False, log=lambda _m: None) as board:
        with SerialLink(board.port, "walker.py", watchdog_ms=20_000, reset=True) as link:
            summary = Simulation(None, link=link, limits=Limits(watchdog_ms=20_000)).run(2)
    assert summary["faults"] == []
    assert [text for _, text in summary["log"]] == CLEAN
