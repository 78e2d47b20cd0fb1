"""Fold the protocol's and the serial frame's constants into the board's modules before mpy-cross
compiles them.

MicroPython inlines `X = const(n)` only inside the module that defines it; a name another
module imports (`from shared_buffers.protocol import OFF_USED`, `_P.OFF_USED`) is a global
there, looked up at every use, and each such name costs the board's heap: an entry in the
importing module's globals (about 12 bytes each on a 32-bit board) and the protocol module
itself (about 4 KB of names, docs/flashing.md "Where the heap goes"). This step replaces every
use of a `const()` number of shared_buffers/protocol.py, protocol_world.py and serial_frame.py
by its literal, drops those names from the import statements (an import left with no name goes
too) and leaves the rest of the source as it is, line for line (tracebacks keep their line
numbers). serial_frame, which the board loads at boot, loses its own public `const()` names too
(SELF_FOLDED): every module of the board that uses them has them folded in. The firmware's
VERSION string (firmware/version.py, VERSION_MODULE) is folded the same way: no module of the
board then loads firmware.version at boot. What the VM then runs is the same program: the
names were constants.

on_board() folds a module's `_MICROPYTHON = sys.implementation.name == "micropython"` to
`const(1)`: mpy-cross then drops the code under `if not _MICROPYTHON:` (and the `else:` of `if
_MICROPYTHON:`), whose names and constants would cost the board's heap for code it never runs.
"""
from __future__ import annotations

import ast
import importlib
import io
import os
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTOCOL_MODULES = ("shared_buffers.protocol", "shared_buffers.protocol_world")
FRAME_MODULE = "shared_buffers.serial_frame"
SELF_FOLDED = (FRAME_MODULE,)  # modules whose own public const() names leave the board build
VERSION_MODULE = "firmware.version"


def _const_names(module: str) -> tuple[ast.Module, dict[str, ast.Assign]]:
    with open(os.path.join(ROOT, *module.split(".")) + ".py", encoding="utf-8") as f:
        tree = ast.parse(f.read())
    return tree, {node.targets[0].id: node for node in tree.body if _is_const(node)}


def _is_const(node: ast.stmt) -> bool:
    """`NAME = const(<expression>)` (MicroPython takes an expression of numbers and consts)."""
    return (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "const"
            and len(node.value.args) == 1)


def _values(module: str, names) -> dict[str, int]:
    loaded = importlib.import_module(module)
    found = {name: getattr(loaded, name) for name in names}
    assert all(type(v) is int for v in found.values()), module
    return found


def protocol_constants() -> dict[str, int]:
    """NAME -> value of every `NAME = const(...)` in the protocol modules."""
    found: dict[str, int] = {}
    for module in PROTOCOL_MODULES:
        found.update(_values(module, _const_names(module)[1]))
    return found


def module_constants() -> dict[str, dict[str, int | str]]:
    """module -> the const() numbers it holds: the protocol modules' (each holds both), and
    serial_frame's own and those it imports from the protocol (its YIELD is not the protocol's);
    and firmware.version's VERSION."""
    protocol = protocol_constants()
    tree, own = _const_names(FRAME_MODULE)
    frame = {a.asname or a.name: protocol[a.name] for node in tree.body
             if isinstance(node, ast.ImportFrom) and node.module in PROTOCOL_MODULES
             for a in node.names if a.name in protocol}
    frame.update(_values(FRAME_MODULE, own))
    version = importlib.import_module(VERSION_MODULE).VERSION
    return {**{m: protocol for m in PROTOCOL_MODULES}, FRAME_MODULE: frame,
            VERSION_MODULE: {"VERSION": version}}


def fold(source: str, constants: dict[str, dict[str, int | str]], module: str | None = None) -> str:
    """`source` (of `module`) with the constants of module_constants() folded in (see the
    module's docstring)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    names: dict[str, int | str] = {}  # imported constant names -> value
    aliases: dict[str, tuple[ast.ImportFrom, dict[str, int]]] = {}  # `import protocol as _P`
    edits: list[tuple[ast.ImportFrom, list[ast.alias]]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level:
            continue
        table = constants.get(node.module or "")
        if table is not None:
            kept = [a for a in node.names if a.name not in table]
            if len(kept) < len(node.names):
                names.update({a.asname or a.name: table[a.name]
                              for a in node.names if a.name in table})
                edits.append((node, kept))
        elif node.module == "shared_buffers" and len(node.names) == 1 and node.names[0].asname \
                and f"shared_buffers.{node.names[0].name}" in constants:
            aliases[node.names[0].asname] = (node, constants[f"shared_buffers.{node.names[0].name}"])
    own: list[ast.Assign] = []  # a SELF_FOLDED module's public const() definitions
    if module in SELF_FOLDED:
        own = [n for n in tree.body if _is_const(n) and not n.targets[0].id.startswith("_")]
        names.update({n.targets[0].id: constants[module][n.targets[0].id] for n in own})
    defined = {id(n.targets[0]) for n in own}
    bound = {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)} | {
        n.id for n in ast.walk(tree)
        if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load) and id(n) not in defined}
    if bound & set(names):  # a name the module binds itself is not (only) the constant
        raise ValueError("cannot fold %s: the module binds it" % ", ".join(sorted(bound & set(names))))
    if not names and not aliases:
        return source
    # token replacements, by (row, col) spans, applied from the end of the file
    spans: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    alias_left: set[str] = set()
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in (tokenize.NL, tokenize.COMMENT)]
    skipped: list[ast.stmt] = [node for node, _ in edits] + own
    import_rows = {r for node in skipped for r in range(node.lineno, (node.end_lineno or 0) + 1)}
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.start[0] in import_rows:
            continue
        before = tokens[i - 1].string if i else ""
        after = tokens[i + 1].string if i + 1 < len(tokens) else ""
        if before in (".", "def", "class", "import", "as", "global") or after == "=":
            continue
        if tok.string in names:
            spans.append((tok.start, tok.end, repr(names[tok.string])))
        elif tok.string in aliases:
            node, table = aliases[tok.string]
            attr = tokens[i + 2] if i + 2 < len(tokens) else None
            follow = tokens[i + 3].string if i + 3 < len(tokens) else ""
            if after == "." and attr is not None and attr.string in table and follow != "=":
                spans.append((tok.start, attr.end, repr(table[attr.string])))
            elif tok.start[0] != node.lineno:
                alias_left.add(tok.string)
    for node, kept in edits:
        spans.append(_statement(node, lines, "from %s import %s" % (
            node.module, ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in kept))
            if kept else "pass"))
    for node in own:
        spans.append(_statement(node, lines, "pass"))
    for alias, (node, _) in aliases.items():
        if alias not in alias_left:  # every use folded: the module need not be imported
            spans.append(_statement(node, lines, "pass"))
    out = [line for line in lines]
    for start, end, text in sorted(spans, reverse=True):
        (r0, c0), (r1, c1) = start, end
        head, tail = out[r0 - 1][:c0], out[r1 - 1][c1:]
        out[r0 - 1:r1] = [head + text + tail] + [""] * (r1 - r0)
    folded = "".join(out)
    ast.parse(folded)  # a fold that broke the syntax is a bug here, not on the board
    return folded


def on_board(source: str) -> str:
    """`source` with each private module-level `NAME = sys.implementation.name == "micropython"`
    (or `!=`) as `NAME = const(1)` (or 0), and without its `try: from micropython import const`,
    line for line (see the module's docstring)."""
    spans, lines = [], source.splitlines(keepends=True)
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Try) and len(node.body) == 1
                and isinstance(node.body[0], ast.ImportFrom) and node.body[0].module == "micropython"
                and [a.name for a in node.body[0].names] == ["const"] and not node.body[0].names[0].asname):
            spans.append(_statement(node, lines, "pass"))
            continue
        value = node.value if isinstance(node, ast.Assign) else None
        if (len(getattr(node, "targets", ())) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.startswith("_") and isinstance(value, ast.Compare)
                and ast.unparse(value.left) == "sys.implementation.name" and len(value.ops) == 1
                and isinstance(value.ops[0], (ast.Eq, ast.NotEq))
                and isinstance(value.comparators[0], ast.Constant)
                and value.comparators[0].value == "micropython"):
            spans.append(_statement(node, lines, "%s = const(%d)" % (
                node.targets[0].id, isinstance(value.ops[0], ast.Eq))))
    out = list(lines)
    for (r0, c0), (r1, c1), text in sorted(spans, reverse=True):
        out[r0 - 1:r1] = [out[r0 - 1][:c0] + text + out[r1 - 1][c1:]] + [""] * (r1 - r0)
    return "".join(out)


def _statement(node: ast.stmt, lines: list[str], text: str) -> tuple[tuple[int, int], tuple[int, int], str]:
    """A span replacing the whole statement `node` by `text`, its other lines left blank."""
    return ((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset),
            text + "\n" * (node.end_lineno - node.lineno))
