"""Every change in the world, with its time and its source, for the summary and `microapp run`."""
from __future__ import annotations

from collections import deque
from typing import Callable

from host import report

Listener = Callable[[int, str, str, dict], None]


class History:
    """Entries (time ms, what, source, fields): what is "switch", "power", "presence", "i2c",
    "advert", "message_out", ...; source says who caused it ("microapp", "timeline", "tap", ...).

    `column` makes the column the entries go to, as the device's history makes its own
    (host/report.py): a list by default; a Spool for `microapp run --json`, so that a long run's
    memory stays flat; a deque(maxlen=0) when nothing reads them (only the listeners hear)."""

    def __init__(self, column: Callable[[str], list | deque | report.Spool] = lambda _key: []) -> None:
        self.entries = column(report.WORLD)
        self.listeners: list[Listener] = []

    def record(self, t_ms: int, what: str, source: str, **fields) -> None:
        self.entries.append((t_ms, what, source, fields))
        for listener in self.listeners:
            listener(t_ms, what, source, fields)

    def of(self, what: str) -> list[tuple[int, str, dict]]:
        """The entries of one kind (of an in-memory history)."""
        return [(t, source, fields) for t, w, source, fields in self.entries if w == what]

    def as_json(self) -> list[dict] | report.Spool:
        """The summary's form: a list of {t, what, source, ...}, or the spool (write_summary
        streams it)."""
        if isinstance(self.entries, report.Spool):
            return self.entries
        return report.ROWS[report.WORLD](self.entries)


def describe(what: str, source: str, fields: dict) -> str:
    """One line for `microapp run`: `[world] switch relay=1 dimmer=0 (microapp)`."""
    text = " ".join(f"{k}={v}" for k, v in fields.items())
    return f"[world] {what} {text} ({source})"
