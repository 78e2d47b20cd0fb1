"""A run's report: the device's history (log lines, pin changes, mesh messages sent) and the
summary JSON that `microapp run --json` writes.

A long run logs millions of lines. Kept in lists they grow without bound (100 million ticks of a
logging app reached 24 GB), and a summary built from them as Python lists makes the cyclic
collector walk every row. So the history goes into columns of one of three kinds:

- `History()`: lists in memory (the default: tests and the pytest plugin read them);
- `History.spooled()`: each column's rows go, a chunk at a time, as JSON text to an anonymous
  temporary file; memory stays flat however long the run (`microapp run --json`);
- `History.bounded(n)`: only the last n rows of each column (`microapp run` without --json).

The world's history (host/world/history.py) is kept in a column of the same kind (`column`).

`write_summary` writes a summary with the C JSON encoder (json.dump, and any indent, take the
pure-Python one), one top-level key a line and one history row a line, copying spooled columns
through at file speed; a spool's rows were written as JSON text when they came (ROW_TEXT).
"""
from __future__ import annotations

import gc
import json
import shutil
import tempfile
from collections import deque
from contextlib import contextmanager
from typing import IO, Callable, Iterable, Iterator

# The summary's form of each column's rows (times in seconds, mesh data in hex), by summary key.
LOG, PINS, MESH_SENT = "log", "pins", "mesh_sent"
WORLD = "history"  # the world's history: (time ms, what, source, fields), under summary["world"]
ROWS: dict[str, Callable[[Iterable[tuple]], list[list]]] = {
    LOG: lambda rows: [[t / 1000, text] for t, text in rows],
    PINS: lambda rows: [[t / 1000, pin, level] for t, pin, level in rows],
    MESH_SENT: lambda rows: [[t / 1000, to, data.hex(), relay] for t, to, data, relay in rows],
    WORLD: lambda rows: [{"t": t / 1000, "what": what, "source": source, **fields}
                         for t, what, source, fields in rows],
}
CHUNK = 4096  # rows encoded at a time: bounds the memory of a spool and of writing a list

# The same rows straight to JSON text, as the encoder would write them (a float's repr, json's
# C string escaper): twice as fast as building the lists and encoding them, for the spools.
_json_str = json.encoder.encode_basestring_ascii
_encode = json.JSONEncoder().encode
ROW_TEXT: dict[str, Callable[[Iterable[tuple]], list[str]]] = {
    LOG: lambda rows: [f"[{t / 1000!r}, {_json_str(text)}]" for t, text in rows],
    PINS: lambda rows: [f"[{t / 1000!r}, {pin:d}, {level:d}]" for t, pin, level in rows],
    MESH_SENT: lambda rows: [f'[{t / 1000!r}, {to:d}, "{data.hex()}", {"true" if relay else "false"}]'
                             for t, to, data, relay in rows],
    WORLD: lambda rows: [_encode({"t": t / 1000, "what": what, "source": source, **fields})
                         for t, what, source, fields in rows],
}

# Item separator ",\t": a tab never appears raw inside an encoded string, so "],\t[" ("},\t{"
# for the world's rows) is always the gap between two rows (rows hold no lists or dicts) and
# ",\t" always a separator.
_ROWS_ENCODER = json.JSONEncoder(separators=(",\t", ": "))
_VALUE_ENCODER = json.JSONEncoder()


def encode_rows(rows: list[list]) -> str:
    """Rows as JSON, one a line, without the enclosing brackets ("" for none)."""
    text = _ROWS_ENCODER.encode(rows)[1:-1]
    return text.replace("],\t[", "],\n[").replace("},\t{", "},\n{").replace(",\t", ", ")


class Spool:
    """A history column whose rows go to an anonymous temporary file, CHUNK rows at a time."""

    def __init__(self, key: str) -> None:
        self._text = ROW_TEXT[key]
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._pending: list[tuple] = []
        self._written = 0

    def append(self, row: tuple) -> None:
        pending = self._pending
        pending.append(row)
        if len(pending) >= CHUNK:
            self._flush()

    def __len__(self) -> int:
        return self._written + len(self._pending)

    def _flush(self) -> None:
        if self._pending:
            self._file.write((",\n" if self._written else "") + ",\n".join(self._text(self._pending)))
            self._written += len(self._pending)
            self._pending = []

    def copy_to(self, out: IO[str]) -> None:
        """The rows written so far (summary form, one a line, comma-separated) onto out."""
        self._flush()
        self._file.seek(0)
        shutil.copyfileobj(self._file, out, 1 << 16)
        self._file.seek(0, 2)

    def __iter__(self) -> Iterator[list]:
        """The rows in summary form, read back one at a time."""
        self._flush()
        self._file.seek(0)
        try:
            for line in self._file:
                yield json.loads(line.rstrip().rstrip(","))
        finally:
            self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()


class History:
    """What the device did: log lines (time ms, text), pin changes (time ms, pin, level) and
    mesh messages sent (time ms, to stone id, data, doNotRelay)."""

    def __init__(self, column: Callable[[str], list | deque | Spool] = lambda _key: []) -> None:
        self._make = column
        self._made: list = []
        self.log = self.column(LOG)
        self.pins = self.column(PINS)
        self.mesh_sent = self.column(MESH_SENT)

    def column(self, key: str) -> list | deque | Spool:
        """A column of this history's kind for a summary key of ROWS (the world's takes one);
        close() closes it with the others."""
        col = self._make(key)
        self._made.append(col)
        return col

    @classmethod
    def spooled(cls) -> "History":
        return cls(Spool)

    @classmethod
    def bounded(cls, rows: int) -> "History":
        return cls(lambda _key: deque(maxlen=rows))

    def columns(self) -> dict:
        """The summary's history keys: lists of rows in summary form, or the spools themselves
        (which write_summary streams)."""
        with _collector_paused():
            return {key: col if isinstance(col, Spool) else ROWS[key](col)
                    for key, col in ((LOG, self.log), (PINS, self.pins), (MESH_SENT, self.mesh_sent))}

    def close(self) -> None:
        for col in self._made:
            if isinstance(col, Spool):
                col.close()


@contextmanager
def _collector_paused():
    """The cyclic collector off while rows are built: rows of numbers and strings make no
    cycles, and a million new lists would have it walk the whole heap again and again (7x)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def write_summary(summary: dict, out: IO[str]) -> None:
    """The summary as one JSON object: a top-level key a line, each history column (a list of
    rows or a Spool, at the top or in a dict below it: the world's) a row a line. json.load of
    it gives the summary with spools as lists."""
    out.write("{")
    for i, (key, value) in enumerate(summary.items()):
        out.write(f'{"," if i else ""}\n{_VALUE_ENCODER.encode(key)}: ')
        _write_value(key, value, out)
    out.write("\n}\n")


def _write_value(key: str, value, out: IO[str]) -> None:
    if isinstance(value, Spool):
        if len(value):
            out.write("[\n")
            value.copy_to(out)
            out.write("\n]")
        else:
            out.write("[]")
    elif key in ROWS and isinstance(value, list) and value:
        out.write("[\n")
        for start in range(0, len(value), CHUNK):
            out.write((",\n" if start else "") + encode_rows(value[start:start + CHUNK]))
        out.write("\n]")
    elif isinstance(value, dict) and any(isinstance(v, (Spool, list)) and k in ROWS for k, v in value.items()):
        out.write("{")
        for i, (k, v) in enumerate(value.items()):
            out.write(f'{", " if i else ""}{_VALUE_ENCODER.encode(k)}: ')
            _write_value(k, v, out)
        out.write("}")
    else:
        out.write(_VALUE_ENCODER.encode(value))
