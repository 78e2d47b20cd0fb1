"""The SDK's constants (HIGH, OUTPUT, LED1_PIN, the signal codes...), folded into an app's code
when the host builds it, as the C++ SDK's macros and enum values (Arduino.h, ArduinoBLE.h) are
compiled into a microapp: the board's SDK module holds none of them (each would cost the
firmware's heap a name and a slot, and an app's `from microapp import *` a global), and the
simulator's SDK gives none either, so both run the same folded code.

fold() replaces every use of an SDK constant that reaches the SDK's by Python's scoping: a name
that `from microapp import *` (or `from microapp import NAME [as alias]`) binds at the app's top
level, and `m.NAME` where the top level binds `m` by `import microapp [as m]`; a name the app
binds itself (at the top level, in a function, class or comprehension) is the app's own and
stays. Constants leave `from microapp import ...` lists. The SDK's objects' constants
(OBJECT_CONSTANTS: Serial.CHAR...) are folded where the object reaches the SDK's the same way:
`Serial.CHAR` (Serial star-imported or `from microapp import Serial [as S]`), `m.Serial.CHAR`;
not where the app assigns that attribute (or `m.Serial`) anywhere.
The edits keep every line where it was (tracebacks number the app's own lines). docs/sdk.md,
"Constants".
"""
from __future__ import annotations

import ast
from typing import AnyStr, Iterator

from shared_buffers import protocol as P

SDK_MODULE = "microapp"

CONSTANTS: dict[str, int] = {
    # Arduino.h
    "LOW": 0, "HIGH": 1,
    "INPUT": P.PIN_INPUT, "OUTPUT": P.PIN_OUTPUT, "INPUT_PULLUP": P.PIN_INPUT_PULLUP,
    "CHANGE": P.PIN_CHANGE, "RISING": P.PIN_RISING, "FALLING": P.PIN_FALLING,
    **{f"GPIO{n}_PIN": n for n in range(10)},
    **{f"BUTTON{n}_PIN": 9 + n for n in range(1, 5)},
    **{f"LED{n}_PIN": 13 + n for n in range(1, 5)},
    "NUMBER_OF_PINS": P.PIN_COUNT,
    # acks, for what the calls return (ours) and raw requests
    "SUCCESS": P.SUCCESS, "ERROR": P.ERROR,
    # ArduinoBLE.h's event types
    "BLEDeviceScanned": 1, "BLEConnected": 2, "BLEDisconnected": 3,
    # ours: why an event reached the app only as a signal (on_signal's signal_code)
    "THROTTLED": P.SIG_THROTTLED, "BUSY": P.SIG_BUSY, "QUEUE_FULL": P.SIG_QUEUE_FULL,
    "HANDLER_FAULT": P.SIG_HANDLER_FAULT, "WATCHDOG": P.SIG_WATCHDOG,
    "APP_FAULT": P.SIG_APP_FAULT, "GATED": P.SIG_GATED, "CPU_BUSY": P.SIG_CPU_BUSY,
}

# Ours: the kinds Serial.print's `kind` takes (the value types of microapp_sdk_log_header_t).
OBJECT_CONSTANTS: dict[str, dict[str, int]] = {
    "Serial": {"CHAR": P.LOG_CHAR, "SHORT": P.LOG_SHORT, "INT": P.LOG_INT, "UINT": P.LOG_UINT,
               "FLOAT": P.LOG_FLOAT, "DOUBLE": P.LOG_DOUBLE, "STR": P.LOG_STR, "ARR": P.LOG_ARR},
}

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def fold(source: AnyStr) -> AnyStr:
    """`source` (text, or UTF-8 bytes) with the SDK's constants folded in; unchanged when it
    does not parse (the compiler that runs next says why)."""
    if isinstance(source, bytes):
        try:
            return fold(source.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            return source
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    folder = _Folder(tree)
    if not folder.edits:
        return source
    lines = source.encode("utf-8").splitlines(keepends=True)
    # last edit first: the positions of those before it stay true
    for (line, col, end_line, end_col), text in sorted(folder.edits, reverse=True):
        head, tail = lines[line - 1][:col], lines[end_line - 1][end_col:]
        lines[line - 1:end_line] = [head + text.encode("utf-8") + tail]
    return b"".join(lines).decode("utf-8")


class _Folder:
    """The edits (span, text) that fold `tree`'s uses of the SDK's constants."""

    def __init__(self, tree: ast.Module) -> None:
        self.edits: list[tuple[tuple[int, int, int, int], str]] = []
        starred = False
        self.modules: set[str] = set()  # top-level names of the SDK's module
        imported: dict[str, str] = {}  # top-level name -> what `from microapp import` bound it to
        for node in _top_level(tree.body):
            if isinstance(node, ast.ImportFrom) and node.module == SDK_MODULE and not node.level:
                starred |= any(alias.name == "*" for alias in node.names)
                imported.update((a.asname or a.name, a.name) for a in node.names if a.name != "*")
                self._import_from(node)
            elif isinstance(node, ast.Import):
                self.modules.update(alias.asname or alias.name for alias in node.names
                                    if alias.name == SDK_MODULE)
        # `other`: the names the app binds at its top level but by importing the SDK; with the
        # names it imports from the SDK, the app's own (`import microapp` binds no name of its)
        other = _bound(tree.body, sdk_imports=False) | _assigned_global(tree)
        own = other | {name for name, sdk in imported.items() if sdk != SDK_MODULE}
        self.modules -= own
        # top-level name -> the SDK object it is (Serial), unless the app binds it otherwise
        if starred:
            imported = {**{name: name for name in OBJECT_CONSTANTS}, **imported}
        self.objects = {name: sdk for name, sdk in imported.items()
                        if sdk in OBJECT_CONSTANTS and name not in other}
        # what the app assigns or deletes anywhere (`Serial.CHAR = 4`, `m.Serial = x`) stays a
        # lookup: the dotted paths
        self.assigned = {_dotted(node) for node in ast.walk(tree)
                         if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load)}
        # the names `from microapp import *` gives that reach the SDK's
        self.starred = frozenset(CONSTANTS) - own if starred else frozenset()
        if self.starred or self.modules or self.objects:
            self._visit(tree.body, (), frozenset())

    def _import_from(self, node: ast.ImportFrom) -> None:
        """`from microapp import A, B as C`: the constants among them become assignments in
        its place (`C = (value)`), so the app's names are bound as before."""
        folded = [a for a in node.names if a.name in CONSTANTS]
        if not folded:
            return
        kept = ", ".join(a.name + (f" as {a.asname}" if a.asname else "")
                         for a in node.names if a.name not in CONSTANTS)
        targets = ", ".join(a.asname or a.name for a in folded)
        values = ", ".join(str(CONSTANTS[a.name]) for a in folded)
        head = f"from {SDK_MODULE} import ({kept}); " if kept else ""
        self._replace(node, f"{head}{targets} = ({values})")

    def _replace(self, node: ast.AST, text: str) -> None:
        """Put `text` (which ends with a closing parenthesis) in `node`'s place; the newlines of
        a span of several lines go inside those parentheses, which keeps the lines after it."""
        breaks = node.end_lineno - node.lineno  # type: ignore[attr-defined, operator]
        if breaks:
            text = text[:-1] + "\n" * breaks + ")"
        span = (node.lineno, node.col_offset,  # type: ignore[attr-defined]
                node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        self.edits.append((span, text))

    def _visit(self, nodes, shadowing: tuple[frozenset[str], ...],
               class_own: frozenset[str]) -> None:
        """Fold in `nodes`. shadowing: the names each enclosing function or comprehension
        binds; class_own: those of the class body `nodes` are directly in (a class's names
        shadow in its body only, not in its methods)."""
        for node in nodes:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in self.starred and not _shadowed(node.id, shadowing, class_own):
                    self._replace(node, f"({CONSTANTS[node.id]})")
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
                  and isinstance(node.value, ast.Name) and node.value.id in self.modules
                  and node.attr in CONSTANTS
                  and not _shadowed(node.value.id, shadowing, class_own)):
                self._replace(node, f"({CONSTANTS[node.attr]})")
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
                  and (found := self._object_constant(node, shadowing, class_own)) is not None):
                self._replace(node, f"({found})")
            elif isinstance(node, _SCOPES):
                self._visit_scope(node, shadowing, class_own)
            else:
                self._visit(ast.iter_child_nodes(node), shadowing, class_own)

    def _object_constant(self, node: ast.Attribute, shadowing, class_own) -> int | None:
        """The value of `Serial.CHAR` or `m.Serial.CHAR` when that is the SDK object's constant."""
        owner = node.value
        if isinstance(owner, ast.Name):
            sdk, root = self.objects.get(owner.id), owner.id
        elif (isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name)
              and owner.value.id in self.modules):
            sdk, root = owner.attr, owner.value.id
        else:
            return None
        if (sdk is None or _dotted(node) in self.assigned or _dotted(owner) in self.assigned
                or _shadowed(root, shadowing, class_own)):
            return None
        return OBJECT_CONSTANTS.get(sdk, {}).get(node.attr)

    def _visit_scope(self, node, shadowing, class_own) -> None:
        # What the enclosing scope evaluates: decorators, defaults, annotations, bases, and a
        # comprehension's first iterable.
        outer: list[ast.AST] = list(getattr(node, "decorator_list", ()))
        if isinstance(node, _FUNCTIONS):
            args = node.args
            outer += [d for d in args.defaults + args.kw_defaults if d is not None]
            if not isinstance(node, ast.Lambda):
                outer += [a.annotation for a in _arguments(args) if a.annotation is not None]
                outer += [node.returns] if node.returns is not None else []
            inner: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
            own = (_bound(inner) - _declared_global(inner)) | {a.arg for a in _arguments(args)}
            self._visit(outer, shadowing, class_own)
            self._visit(inner, shadowing + (frozenset(own),), frozenset())
        elif isinstance(node, ast.ClassDef):
            self._visit(outer + node.bases + [k.value for k in node.keywords], shadowing, class_own)
            own = _bound(node.body) - _declared_global(node.body)
            self._visit(node.body, shadowing, frozenset(own))
        else:  # a comprehension
            generators = node.generators
            self._visit([generators[0].iter], shadowing, class_own)
            targets = frozenset(name for g in generators for name in _targets(g.target))
            rest: list[ast.AST] = [g.iter for g in generators[1:]]
            rest += [cond for g in generators for cond in g.ifs]
            rest += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            self._visit(rest, shadowing + (targets,), frozenset())


def _dotted(node: ast.AST) -> str:
    """`a.b.c` of an attribute chain on a name ("" for anything else)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return head and f"{head}.{node.attr}"
    return ""


def _shadowed(name: str, shadowing: tuple[frozenset[str], ...], class_own: frozenset[str]) -> bool:
    return name in class_own or any(name in names for names in shadowing)


def _arguments(args: ast.arguments) -> list[ast.arg]:
    found = args.posonlyargs + args.args + args.kwonlyargs
    return found + [a for a in (args.vararg, args.kwarg) if a is not None]


def _top_level(body) -> Iterator[ast.stmt]:
    """The statements of the module's own scope (into if/try/with/for/while, not into a def)."""
    for node in body:
        yield node
        if not isinstance(node, _SCOPES):
            for field in ("body", "orelse", "finalbody"):
                yield from _top_level(getattr(node, field, ()))
            for handler in getattr(node, "handlers", ()):
                yield from _top_level(handler.body)
            for case in getattr(node, "cases", ()):
                yield from _top_level(case.body)


def _bound(body, sdk_imports: bool = True) -> set[str]:
    """The names a scope's own statements bind (not looking into the scopes nested in it, but
    for a comprehension's walrus, which binds in the scope around it); sdk_imports=False: not
    those `import microapp [as m]` and `from microapp import ...` bind."""
    found: set[str] = set()
    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif (isinstance(node, ast.ImportFrom) and not sdk_imports and node.module == SDK_MODULE
              and not node.level):
            pass
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update((a.asname or a.name).split(".")[0] for a in node.names
                         if a.name != "*" and (sdk_imports or a.name != SDK_MODULE))
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            found.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            found.add(node.rest)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            found.add(node.id)
        if isinstance(node, _SCOPES):
            if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                found.update(n.target.id for n in ast.walk(node) if isinstance(n, ast.NamedExpr))
            continue
        pending.extend(ast.iter_child_nodes(node))
    return found


def _declared_global(body) -> set[str]:
    """The names a scope's own statements declare global."""
    return {name for node in body for n in ast.walk(node) if isinstance(n, ast.Global)
            for name in n.names}


def _assigned_global(tree: ast.Module) -> set[str]:
    """The module's names that a function binds by declaring them global."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found |= _declared_global(node.body) & _bound(node.body)
    return found


def _targets(target: ast.AST) -> Iterator[str]:
    for node in ast.walk(target):
        if isinstance(node, ast.Name):
            yield node.id
