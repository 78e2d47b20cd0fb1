"""The events file: what the world does to the simulated device, and when.

One event a line, `#` starts a comment:

    TIME  KIND  FIELDS...          TIME in seconds (0.25, 12s, 150ms)
    0.25  mesh  from=3 data="hi"   a mesh message from stone 3 (data="text" or hex=0102..)
    1.0   pin   4 high             input pin 4 goes high (high/low/1/0; pins 0-17)
    2.0   ble   mac=AA:BB:CC:DD:EE:FF rssi=-60 hex=0201   a scanned advertisement

Any event takes `count=N` (N copies at that time), `every=S until=T` (repeat), and `jitter=S`
(each copy moved by up to S seconds, drawn from the run's seed and the line's number).

Every line is checked when the file is read; the copies of `count=` and `every=` are made one at a
time while the run takes them (`Events` is an iterable in time order), so a line that repeats an
event millions of times costs no memory. A line is split with str.split, or, when it has double
quotes, a regular expression; only one with single quotes or backslashes goes through shlex.
"""
from __future__ import annotations

import heapq
import random
import re
import shlex
from typing import Iterable, Iterator, NamedTuple

from shared_buffers import protocol as P

KINDS = ("mesh", "pin", "ble")


class EventsError(ValueError):
    pass


class Event(NamedTuple):
    time_ms: int
    kind: str
    # mesh: sender stone id; pin: pin number; ble: rssi
    number: int
    # mesh/ble: data bytes; pin: bytes([level]); ble: mac (6) + data
    data: bytes


class _Repeat(NamedTuple):
    """A line that makes more than one event: times start, start+every, .. until, `copies` (the
    line's count=) at each, each copy moved by up to jitter ms."""
    line: int
    event: Event
    every: int
    until: int
    copies: int
    jitter: int


class Events:
    """The events of a file in time order (same-time events in file order), made as iterated;
    iterating again makes the same events again."""

    def __init__(self, single: list[tuple[int, int, Event]], repeats: list[_Repeat], seed: int) -> None:
        self._single = sorted(single, key=lambda s: s[0])  # (time, line, event), file order kept
        self._repeats = repeats
        self._seed = seed

    def __iter__(self) -> Iterator[Event]:
        if not self._repeats:
            return (event for _, _, event in self._single)
        streams = [self._single] + [self._expand(r) for r in self._repeats]
        return (event for _, _, event in heapq.merge(*streams))

    def _expand(self, r: _Repeat) -> Iterator[tuple[int, int, Event]]:
        """The line's copies as (time, line, event), in time order."""
        event, count, jitter, line = r.event, r.copies, r.jitter, r.line
        times = range(event.time_ms, r.until + 1, r.every) if r.every else (event.time_ms,)
        if not jitter:
            for t in times:
                copy = event._replace(time_ms=t)
                for _ in range(count):
                    yield t, line, copy
            return
        # Each copy lands within jitter of its time, and the times only grow: a copy can go out
        # once no later copy can land before it.
        rng = random.Random(f"{self._seed}:{line}")
        held: list[tuple[int, int]] = []  # (time, copy number): equal times keep their order
        n = 0
        for t in times:
            while held and held[0][0] <= t - jitter:
                yield _copy(heapq.heappop(held), line, event)
            for _ in range(count):
                heapq.heappush(held, (max(0, t + rng.randint(-jitter, jitter)), n))
                n += 1
        while held:
            yield _copy(heapq.heappop(held), line, event)


def _copy(held: tuple[int, int], line: int, event: Event) -> tuple[int, int, Event]:
    return held[0], line, event._replace(time_ms=held[0])


def in_time_order(events: Iterable[Event]) -> Iterable[Event]:
    """Events in time order: Events as they are (made as iterated), anything else sorted."""
    if isinstance(events, Events):
        return events
    return sorted(events, key=lambda e: e.time_ms)


def parse_events(text: str, source: str = "events", seed: int = 0) -> Events:
    single: list[tuple[int, int, Event]] = []
    repeats: list[_Repeat] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        words = _words(raw, source, lineno)
        if not words:
            continue
        where = f"{source}:{lineno}"
        if len(words) < 2:
            raise EventsError(f"{where}: expected TIME KIND FIELDS, got {' '.join(words)!r}")
        time_ms = _time(where, words[0])
        kind = words[1]
        positional, fields = [], {}
        for w in words[2:]:
            if "=" in w:
                name, value = w.split("=", 1)
                fields[name] = value
            else:
                positional.append(w)
        number, data = _payload(where, kind, positional, fields)
        event = Event(time_ms, kind, number, data)
        if not fields:  # the common line: one event
            single.append((time_ms, lineno, event))
            continue
        every, until, count = _repeat(where, time_ms, fields)
        jitter = _time(where, fields.pop("jitter")) if "jitter" in fields else 0
        if fields:
            raise EventsError(f"{where}: unknown field(s) {', '.join(sorted(fields))} for {kind}")
        if every or count > 1 or jitter:
            repeats.append(_Repeat(lineno, event, every, until, count, jitter))
        else:
            single.append((time_ms, lineno, event))
    return Events(single, repeats, seed)


def load_events(path: str, seed: int = 0) -> Events:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise EventsError(f"{path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise EventsError(f"{path}: not UTF-8 text (byte {e.start})") from None
    return parse_events(text, path, seed)


def _words(raw: str, source: str, lineno: int) -> list[str]:
    """The line's words, its comment dropped, as shlex.split gives them: str.split for a plain
    line, the same on the parts outside double quotes for one with them, shlex itself (and its
    errors) only for single quotes or backslashes."""
    if "'" in raw or "\\" in raw:
        try:
            return shlex.split(_strip_comment(raw))
        except ValueError as e:
            raise EventsError(f"{source}:{lineno}: {e}") from None
    if '"' not in raw:
        return raw.split("#", 1)[0].split()
    # Even parts are outside quotes: the comment starts at the first '#' in one of them.
    parts = raw.split('"')
    for i in range(0, len(parts), 2):
        if "#" in parts[i]:
            parts = parts[:i] + [parts[i].split("#", 1)[0]]
            break
    if len(parts) % 2 == 0:
        raise EventsError(f"{source}:{lineno}: No closing quotation")
    words: list[str] = []
    glue = False  # no whitespace since the last word began: the next text joins it
    for i, part in enumerate(parts):
        if i % 2:
            if glue:
                words[-1] += part
            else:
                words.append(part)
            glue = True
        elif part:
            pieces = part.split()
            if pieces and glue and not part[0].isspace():
                words[-1] += pieces.pop(0)
            words += pieces
            glue = not part[-1].isspace()
    return words


def _strip_comment(raw: str) -> str:
    # A '#' inside double quotes is data, not a comment.
    out, quoted = [], False
    for ch in raw:
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            break
        out.append(ch)
    return "".join(out).strip()


_TIME = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s)?", re.ASCII)


def _time(where: str, text: str) -> int:
    unit = 1 if text.endswith("ms") else 1000
    whole = text[:-2] if unit == 1 else text[:-1] if text.endswith("s") else text
    if whole.isascii() and whole.isdigit():  # a whole number: the common case, no expression
        return int(whole) * unit
    m = _TIME.fullmatch(text)
    if not m:
        raise EventsError(f"{where}: {text!r} is not a time (seconds, or with s/ms)")
    value = float(m.group(1))
    return round(value if m.group(2) == "ms" else value * 1000)


def _int(where: str, name: str, text: str, lo: int, hi: int) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise EventsError(f"{where}: {name}={text!r} is not an integer") from None
    if not lo <= value <= hi:
        raise EventsError(f"{where}: {name}={value} is outside {lo}..{hi}")
    return value


def _data(where: str, fields: dict[str, str], limit: int) -> bytes:
    if "data" in fields and "hex" in fields:
        raise EventsError(f"{where}: give data= or hex=, not both")
    if "hex" in fields:
        try:
            data = bytes.fromhex(fields.pop("hex"))
        except ValueError:
            raise EventsError(f"{where}: hex= is not hexadecimal") from None
    else:
        data = fields.pop("data", "").encode()
    if len(data) > limit:
        raise EventsError(f"{where}: {len(data)} bytes of data, at most {limit}")
    return data


def _payload(where: str, kind: str, positional: list[str], fields: dict[str, str]) -> tuple[int, bytes]:
    if kind == "mesh":
        if "from" not in fields:
            raise EventsError(f"{where}: mesh needs from=STONE_ID")
        sender = _int(where, "from", fields.pop("from"), 1, 255)
        return sender, _data(where, fields, P.MESH_MAX_DATA)
    if kind == "pin":
        if len(positional) != 2:
            raise EventsError(f"{where}: expected 'pin N high|low'")
        pin = _int(where, "pin", positional[0], 0, P.PIN_COUNT - 1)  # bluenet's virtual pins
        levels = {"high": 1, "low": 0, "1": 1, "0": 0}
        if positional[1].lower() not in levels:
            raise EventsError(f"{where}: pin level {positional[1]!r} is not high or low")
        return pin, bytes([levels[positional[1].lower()]])
    if kind == "ble":
        mac_text = fields.pop("mac", "00:00:00:00:00:00")
        try:
            mac = bytes.fromhex(mac_text.replace(":", ""))
        except ValueError:
            mac = b""
        if len(mac) != 6:
            raise EventsError(f"{where}: mac={mac_text!r} is not a MAC address")
        rssi = _int(where, "rssi", fields.pop("rssi", "-70"), -127, 0)
        return rssi, mac + _data(where, fields, P.BLE_ADV_MAX)  # a legacy advertisement
    raise EventsError(f"{where}: unknown event kind {kind!r} (known: {', '.join(KINDS)})")


def _repeat(where: str, time_ms: int, fields: dict[str, str]) -> tuple[int, int, int]:
    """every (0: once), until and count of a line."""
    count = _int(where, "count", fields.pop("count", "1"), 1, 10_000_000)
    if "every" in fields:
        every = _time(where, fields.pop("every"))
        if "until" not in fields:
            raise EventsError(f"{where}: every= needs until=")
        until = _time(where, fields.pop("until"))
        if every <= 0:
            raise EventsError(f"{where}: every= must be more than 0")
        if until < time_ms:
            raise EventsError(f"{where}: until={until / 1000:g}s is before the event's time {time_ms / 1000:g}s")
        return every, until, count
    if "until" in fields:
        raise EventsError(f"{where}: until= needs every=")
    return 0, time_ms, count
