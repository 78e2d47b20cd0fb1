"""Firmware install speed as a user meets it: the two command lines a user types, each putting the
firmware's files on an empty virtual board whose line is paced at 115200 baud, in wall time over
interleaved rounds (benchmarks.measure):

    flash_bytes_per_s        `python tools/flash.py firmware --port PORT`: connect, hash check,
                             write, read-back hash of every file, soft reset and the firmware's
                             boot answer checked (its exit code 0); the firmware's source
                             bytes / seconds, whatever form flash.py sends them in
    mpremote_cp_bytes_per_s  `mpremote connect PORT cp -r firmware main.py shared_buffers :` from a
                             folder holding exactly the firmware's files (no check, no reset)
    flash_vs_mpremote        the per-round ratio of the two (goal: at least 1.7)

and the heap (not timed):

    firmware_heap_bytes      live heap the firmware holds once imported and set up, the app
                             store's lookup done (gc.mem_alloc after gc.collect(), less what the
                             REPL held before), on a pca10040 virtual board with the firmware in
                             its ROMFS partition (tools/flash.py firmware --romfs; goal: at most
                             8192); this VM is 64-bit
    firmware_heap_bytes_32bit  the same in the 32-bit WASI build (the nRF52's word size), the
                             ROMFS image mounted at /rom from a buffer allocated before the
                             baseline (on the chip it is flash)
    firmware_heap_bytes_32bit_mpy  the same with the modules as .mpy files (flash.py firmware
                             without --romfs): bytecode and names copied into the heap
    app_heap_bytes           what examples/hello.py holds after setup(), as the firmware measures
                             it, on a pca10040 board (firmware in ROMFS), the app as
                             `tools/flash.py app` stores it (precompiled; the figure it prints)
    app_heap_bytes_source    the same, the app as source (app.py): compiled on the board when it
                             loads

`python benchmarks/flash_bench.py heap` prints the heap figures alone; `heap --split` adds
heap_32bit_MODULE for each module a boot loads (32-bit, ROMFS): the heap its import adds, the
modules imported one at a time in dependency order, then heap_32bit_Board() and
heap_32bit_app_lookup. The interned-name table grows in pools, each allocated whole by the name
that finds the last one full (20, 40, 80, 160 names...): so that a step's figure holds its own
objects only, the split's probe fills the pools before its baseline, and heap_32bit_names is
what the names take in firmware_heap_bytes_32bit (the figure less the steps' sum: the pools
the firmware's names need, less their room left). `heap --kinds` adds
heap_32bit_kind_KIND: firmware_heap_bytes_32bit by the kind of object that holds it (the heap's
block map, micropython.mem_info(1)): names (the pools of interned names, ~7 B a name, their
text stays in ROM), functions, str (str and bytes objects), dicts (dict objects; their tables
are in other), tuples, lists, bytearrays, modules, other (dict and attribute tables, classes,
instances, raw code, closures), and names_count (how many names the firmware interns).

Each install is a fresh process (interpreter start and imports count, as for the user) onto a
fresh empty board; starting the board is not timed.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from typing import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.measure import interleaved, ratio, spread, timed, wall_clock  # noqa: E402
from host.board import VirtualBoard  # noqa: E402
from host.board_install import firmware_files  # noqa: E402

ROUNDS = 5
BAUD = 115200
FLASH = [sys.executable, os.path.join(ROOT, "tools", "flash.py"), "firmware", "--port"]
MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")


def _install_s(argv: list[str], cwd: str, check: Callable[[VirtualBoard], None] | None = None) -> float:
    """Wall seconds of one command line installing the firmware onto a fresh board ({port} in
    argv is its port); check(board) afterwards."""
    with VirtualBoard(baud=BAUD, log=lambda _m: None) as board:
        argv = [a.replace("{port}", board.port) for a in argv]
        result: list[subprocess.CompletedProcess] = []
        seconds = timed(lambda: result.append(subprocess.run(argv, cwd=cwd, capture_output=True)), wall_clock)
        assert result[0].returncode == 0, (argv, result[0].stderr[-2000:])
        if check is not None:
            check(board)
    return seconds


def _files_are_there(files: list[tuple[str, bytes]]) -> Callable[[VirtualBoard], None]:
    def check(board: VirtualBoard) -> None:
        for path, data in files:
            with open(os.path.join(board.flash_dir, path), "rb") as f:
                assert f.read() == data, path
    return check


FIRMWARE_HEAP_PROBE = """
import gc, sys
gc.collect()
base = gc.mem_alloc()
from firmware import run_flag
from firmware.board_main import Board, _app_source
board = Board(sys.stdin.buffer, sys.stdout.buffer, run_flag)  # as main() makes it
run_flag.at_boot("app.py")
try:
    _app_source("app.py")  # what a boot loads to find the installed app stays (names interned)
except OSError:  # no app installed here
    pass
gc.collect()
print(gc.mem_alloc() - base)
"""


# Mounts the image in the WASI VM's /flash/fw.romfs at /rom, before the probe's baseline.
_MOUNT_ROMFS = """
import sys, vfs
_image = open('fw.romfs', 'rb').read()
vfs.mount(vfs.VfsRom(_image), '/rom')
sys.path.insert(0, '/rom')
"""


def heap_32bit(romfs: bool) -> int:
    """FIRMWARE_HEAP_PROBE's figure in the 32-bit WASI VM, the firmware's modules precompiled
    as .mpy files in its /flash or in a ROMFS image."""
    return int(_run_32bit(FIRMWARE_HEAP_PROBE, romfs))


def _run_32bit(probe: str, romfs: bool) -> str:
    """What `probe` prints in the 32-bit WASI VM, the firmware installed as heap_32bit says."""
    from host.board_install import VIRTUAL_BOARD_MPY
    from host.flashing.mpy import precompiled
    from host.flashing.romfs import ROMFS_ROOT, romfs_image
    from tests.micropython_vm import run_micropython
    modules = [f for f in precompiled(firmware_files(), VIRTUAL_BOARD_MPY, ROMFS_ROOT if romfs else "")[0]
               if f[0] != "main.py"]
    with tempfile.TemporaryDirectory() as flash:
        if romfs:
            files = [("fw.romfs", romfs_image(modules))]
        else:
            files = modules
        for path, data in files:
            os.makedirs(os.path.dirname(os.path.join(flash, path)), exist_ok=True)
            with open(os.path.join(flash, path), "wb") as f:
                f.write(data)
        prologue = "import sys, os\nos.chdir('/flash')\nsys.path[:] = ['/flash']\n"
        code, out, err = run_micropython(prologue + (_MOUNT_ROMFS if romfs else "") + probe,
                                         flash_dir=flash)
    if code or err:
        raise RuntimeError(f"the WASI VM failed: {err}")
    return out


# The firmware's modules FIRMWARE_HEAP_PROBE leaves loaded (on the board: what a boot loads).
_LOADED_PROBE = FIRMWARE_HEAP_PROBE.replace(
    "print(gc.mem_alloc() - base)",
    "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('firmware', 'shared_buffers'))))")
# The heap each step adds: STEPS is one import line per module (the WASI build's collector
# frees what a loop over them would hold in wasm locals), then the probe's Board() and app lookup.
# The names' pools are made first (hasattr interns the name it asks for): 300 names fill those
# of 20, 40, 80 and 160 and start one of 320, where the firmware's names then fit.
_SPLIT_PROBE = """
import gc, sys
for i in range(300):
    hasattr(sys, 'zq%d' % i)
last = 0
def step(what):
    global last
    gc.collect()
    now = gc.mem_alloc()
    if what:
        print(what, now - last)
    last = gc.mem_alloc()
step('')
STEPS
from firmware import run_flag
from firmware.board_main import Board, _app_source
board = Board(sys.stdin.buffer, sys.stdout.buffer, run_flag)
run_flag.at_boot("app.py")
step('Board()')
try:
    _app_source("app.py")
except OSError:
    pass
step('app_lookup')
"""


def _import_order(modules: list[str]) -> list[str]:
    """`modules` ordered so that each comes after its package and the firmware modules it
    imports at its top level (under any `if` or `try`): imported in this order, each step adds
    its own heap."""
    import ast
    deps: dict[str, set[str]] = {}
    for name in modules:
        path = os.path.join(ROOT, *name.split("."))
        with open(os.path.join(path, "__init__.py") if os.path.isdir(path) else path + ".py",
                  encoding="utf-8") as f:
            tree = ast.parse(f.read())
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                continue
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
        found.add(name.rpartition(".")[0])  # its package, imported before it
        deps[name] = {d for d in found if d in modules and d != name}
    order: list[str] = []
    def visit(name: str) -> None:
        if name not in order:
            for dep in sorted(deps[name]):
                visit(dep)
            order.append(name)
    for name in sorted(modules):
        visit(name)
    return order


def heap_split_32bit(total: int) -> dict[str, int]:
    """firmware_heap_bytes_32bit (ROMFS, `total`) split by module, in import order, what
    Board() and the app lookup then add, each without the names' pools, and the pools
    (heap_32bit_names: `total` less the steps' sum)."""
    loaded = _run_32bit(_LOADED_PROBE, True).split()
    steps = _import_order(loaded)
    lines = "".join(f"import {m}\nstep({m!r})\n" for m in steps)
    out = _run_32bit(_SPLIT_PROBE.replace("STEPS\n", lines), True)
    split = {f"heap_32bit_{what.split('.')[-1]}": int(n) for what, n in (line.split() for line in out.splitlines())}
    split["heap_32bit_names"] = total - sum(split.values())
    return split


# The block map's letters (py/gc.c, gc_dump_alloc_table) for the kinds heap --kinds names.
_KINDS = {"B": "functions", "S": "str", "D": "dicts", "T": "tuples", "L": "lists", "A": "bytearrays",
          "M": "modules"}
_KINDS_PROBE = FIRMWARE_HEAP_PROBE.replace("import gc, sys\n", "import gc, sys, micropython\n", 1).replace(
    "base = gc.mem_alloc()", "base = gc.mem_alloc()\nmicropython.qstr_info()\nmicropython.mem_info(1)\nprint('=')"
).replace("print(gc.mem_alloc() - base)", "micropython.qstr_info()\nmicropython.mem_info(1)")


def heap_kinds_32bit() -> dict[str, int]:
    """firmware_heap_bytes_32bit (ROMFS) by kind of object: the blocks each kind's objects
    take after the probe less before it; the interned names' pools from qstr_info."""
    before, after = _run_32bit(_KINDS_PROBE, True).split("\n=\n")
    def tally(text: str) -> dict[str, int]:
        blocks = "".join(re.findall(r"^[0-9a-f]{8}: (\S+)", text, re.M))
        kinds = dict.fromkeys(list(_KINDS.values()) + ["other"], 0)
        for run in re.findall(r"[^=.]=*", blocks):  # an object: its head block and its tail
            kinds[_KINDS.get(run[0], "other")] += 16 * len(run)
        n, data, total = map(int, re.search(r"n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)",
                                            text).groups())
        kinds["names"] = total - data  # the pools (their text is counted apart, and is in ROM)
        kinds["other"] -= kinds["names"]
        kinds["names_count"] = n
        return kinds
    old, new = tally(before), tally(after)
    return {f"heap_32bit_kind_{k}": new[k] - old[k] for k in new}


def heap_figures() -> dict[str, int]:
    from mpremote.transport_serial import SerialTransport

    from firmware.board_main import APP_RAM_FILE
    from host.board_install import install_to_dir
    from host.links.serial_link import SerialLink
    from host.simulator import Simulation
    with tempfile.TemporaryDirectory() as flash:
        with open(os.path.join(ROOT, "examples", "hello.py"), "rb") as f:
            install_to_dir(flash, f.read(), romfs=True)
        with VirtualBoard.for_profile("pca10040", flash, paced=False, log=lambda _m: None) as board:
            t = SerialTransport(board.port)
            try:
                t.enter_raw_repl()
                firmware = int(t.exec(FIRMWARE_HEAP_PROBE))
            finally:
                t.close()
        with VirtualBoard.for_profile("pca10040", flash, paced=False, log=lambda _m: None) as board:
            with SerialLink(board.port, reset=True) as link:
                Simulation(None, link=link).run(1)
            with open(os.path.join(flash, APP_RAM_FILE)) as f:
                source = int(f.read().split()[-1])
            os.remove(os.path.join(flash, "app.py"))
            stored = _stored_app_heap(board.port)
    return {"firmware_heap_bytes": firmware, "firmware_heap_bytes_32bit": heap_32bit(True),
            "firmware_heap_bytes_32bit_mpy": heap_32bit(False), "app_heap_bytes": stored,
            "app_heap_bytes_source": source}


def _stored_app_heap(port: str) -> int:
    """examples/hello.py put in the app store by `tools/flash.py app`: the app RAM it prints."""
    done = subprocess.run(FLASH[:2] + ["app", os.path.join(ROOT, "examples", "hello.py"), "--port",
                                       port], capture_output=True, text=True, cwd=ROOT)
    found = re.search(r"app RAM after setup\(\): (\d+) bytes", done.stdout)
    if done.returncode or not found:
        raise RuntimeError(f"tools/flash.py app failed: {done.stderr.strip()}")
    return int(found.group(1))


def figures() -> dict[str, float]:
    files = firmware_files()
    total = sum(len(data) for _, data in files)
    tops = sorted({path.split("/")[0] for path, _ in files})
    with tempfile.TemporaryDirectory() as stage:
        for path, data in files:
            os.makedirs(os.path.dirname(os.path.join(stage, path)), exist_ok=True)
            with open(os.path.join(stage, path), "wb") as f:
                f.write(data)
        flash, mpremote = interleaved(
            lambda: _install_s(FLASH + ["{port}"], ROOT),  # it checks its files and the boot itself
            lambda: _install_s([MPREMOTE, "connect", "{port}", "cp", "-r", *tops, ":"], stage,
                               _files_are_there(files)),
            ROUNDS)
    return {
        **spread("flash_bytes_per_s", [total / s for s in flash]),
        **spread("mpremote_cp_bytes_per_s", [total / s for s in mpremote]),
        **ratio("flash_vs_mpremote", mpremote, flash),
        **heap_figures(),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["heap"] and set(sys.argv[2:]) <= {"--split", "--kinds"}:
        heap = heap_figures()  # the heap figures alone (no install timing)
        if "--split" in sys.argv:
            heap.update(heap_split_32bit(heap["firmware_heap_bytes_32bit"]))
        if "--kinds" in sys.argv:
            heap.update(heap_kinds_32bit())
        for name, value in heap.items():
            print(f"{name}: {value}")
        sys.exit(0)
    if sys.argv[1:]:
        print(f"flash_bench.py: usage: flash_bench.py [heap [--split] [--kinds]], not {' '.join(sys.argv[1:])!r}",
              file=sys.stderr)
        sys.exit(2)
    for name, value in figures().items():
        print(f"{name}: {value:.6g}")
