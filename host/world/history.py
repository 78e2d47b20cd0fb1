"""Every change in the world, with its time and its source, for the summary and `microapp run`."""
from __future__ import annotations

from typing import Callable

Listener = Callable[[int, str, str, dict], None]


class History:
    """Entries (time ms, what, source, fields): what is "switch", "power", "presence", "i2c",
    "advert", "message_in", "message_out", ...; source says who caused it ("microapp",
    "timeline", "tap", ...)."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, str, str, dict]] = []
        self.listeners: list[Listener] = []
        self.keep = True  # False: only the listeners hear of a change (a run without --json)

    def record(self, t_ms: int, what: str, source: str, **fields) -> None:
        if self.keep:
            self.entries.append((t_ms, what, source, fields))
        for listener in self.listeners:
            listener(t_ms, what, source, fields)

    def of(self, what: str) -> list[tuple[int, str, dict]]:
        return [(t, source, fields) for t, w, source, fields in self.entries if w == what]

    def as_json(self) -> list[dict]:
        return [{"t": t / 1000, "what": what, "source": source, **fields}
                for t, what, source, fields in self.entries]


def describe(what: str, source: str, fields: dict) -> str:
    """One line for `microapp run`: `[world] switch relay=1 dimmer=0 (microapp)`."""
    text = " ".join(f"{k}={v}" for k, v in fields.items())
    return f"[world] {what} {text} ({source})"
