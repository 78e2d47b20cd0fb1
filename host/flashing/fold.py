"""Fold the protocol's constants into the board's modules before mpy-cross compiles them.

MicroPython inlines `X = const(n)` only inside the module that defines it; a name another
module imports (`from shared_buffers.protocol import OFF_USED`, `_P.OFF_USED`) is a global
there, looked up at every use, and each such name costs the board's heap: an entry in the
importing module's globals (about 12 bytes each on a 32-bit board) and the protocol module
itself (about 4 KB of names, docs/flashing.md "Where the heap goes"). This step replaces every
use of a `const()` number of shared_buffers/protocol.py and protocol_world.py by its literal,
drops those names from the import statements (an import left with no name goes too) and
leaves the rest of the source as it is, line for line (tracebacks keep their line numbers).
What the VM then runs is the same program: the names were constants.
"""
from __future__ import annotations

import ast
import io
import os
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTOCOL_MODULES = ("shared_buffers.protocol", "shared_buffers.protocol_world")


def protocol_constants() -> dict[str, int]:
    """NAME -> value of every `NAME = const(<int>)` in the protocol modules."""
    found: dict[str, int] = {}
    for module in PROTOCOL_MODULES:
        with open(os.path.join(ROOT, *module.split(".")) + ".py", encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name) and node.value.func.id == "const"
                    and len(node.value.args) == 1 and isinstance(node.value.args[0], ast.Constant)
                    and type(node.value.args[0].value) is int):
                found[node.targets[0].id] = node.value.args[0].value
    return found


def fold(source: str, constants: dict[str, int]) -> str:
    """`source` with the protocol's constants folded in (see the module's docstring)."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    names: dict[str, int] = {}  # imported constant names -> value
    aliases: dict[str, ast.ImportFrom] = {}  # `from shared_buffers import protocol as _P`
    edits: list[tuple[ast.ImportFrom, list[ast.alias]]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level:
            continue
        if node.module in PROTOCOL_MODULES:
            kept = [a for a in node.names if a.name not in constants]
            if len(kept) < len(node.names):
                names.update({a.asname or a.name: constants[a.name]
                              for a in node.names if a.name in constants})
                edits.append((node, kept))
        elif node.module == "shared_buffers" and len(node.names) == 1 and node.names[0].asname \
                and f"shared_buffers.{node.names[0].name}" in PROTOCOL_MODULES:
            aliases[node.names[0].asname] = node
    bound = {n.arg for n in ast.walk(tree) if isinstance(n, ast.arg)} | {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    if bound & set(names):  # a name the module binds itself is not (only) the constant
        raise ValueError("cannot fold %s: the module binds it" % ", ".join(sorted(bound & set(names))))
    if not names and not aliases:
        return source
    # token replacements, by (row, col) spans, applied from the end of the file
    spans: list[tuple[tuple[int, int], tuple[int, int], str]] = []
    alias_left: set[str] = set()
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in (tokenize.NL, tokenize.COMMENT)]
    import_rows = {r for node, _ in edits for r in range(node.lineno, node.end_lineno + 1)}
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
            attr = tokens[i + 2] if i + 2 < len(tokens) else None
            follow = tokens[i + 3].string if i + 3 < len(tokens) else ""
            if after == "." and attr is not None and attr.string in constants and follow != "=":
                spans.append((tok.start, attr.end, repr(constants[attr.string])))
            elif tok.start[0] != aliases[tok.string].lineno:
                alias_left.add(tok.string)
    for node, kept in edits:
        spans.append(_statement(node, lines, "from %s import %s" % (
            node.module, ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in kept))
            if kept else "pass"))
    for alias, node in aliases.items():
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


def _statement(node: ast.stmt, lines: list[str], text: str) -> tuple[tuple[int, int], tuple[int, int], str]:
    """A span replacing the whole statement `node` by `text`, its other lines left blank."""
    return ((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset),
            text + "\n" * (node.end_lineno - node.lineno))
