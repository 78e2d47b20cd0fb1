"""The events file: what the world does to the simulated device, and when.

One event a line, `#` starts a comment:

    TIME  KIND  FIELDS...          TIME in seconds (0.25, 12s, 150ms)
    0.25  mesh  from=3 data="hi"   a mesh message from stone 3 (data="text" or hex=0102..)
    1.0   pin   4 high             input pin 4 goes high (high/low/1/0; pins 0-17)
    2.0   ble   mac=AA:BB:CC:DD:EE:FF rssi=-60 hex=0201   a scanned advertisement

Any event takes `count=N` (N copies at that time), `every=S until=T` (repeat), and `jitter=S`
(each copy moved by up to S seconds, drawn from the run's seed).
"""
from __future__ import annotations

import random
import re
import shlex
from dataclasses import dataclass

from shared_buffers import protocol as P

KINDS = ("mesh", "pin", "ble")


class EventsError(ValueError):
    pass


@dataclass(frozen=True)
class Event:
    time_ms: int
    kind: str
    # mesh: sender stone id; pin: pin number; ble: rssi
    number: int
    # mesh/ble: data bytes; pin: bytes([level]); ble: mac (6) + data
    data: bytes


def parse_events(text: str, source: str = "events", seed: int = 0) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw)
        if not line:
            continue
        where = f"{source}:{lineno}"
        try:
            words = shlex.split(line)
        except ValueError as e:
            raise EventsError(f"{where}: {e}") from None
        if len(words) < 2:
            raise EventsError(f"{where}: expected TIME KIND FIELDS, got {line!r}")
        time_ms = _time(where, words[0])
        kind = words[1]
        positional = [w for w in words[2:] if "=" not in w]
        fields = dict(w.split("=", 1) for w in words[2:] if "=" in w)
        number, data = _payload(where, kind, positional, fields)
        times = _times(where, time_ms, fields)
        jitter = _time(where, fields.pop("jitter")) if "jitter" in fields else 0
        if fields:
            raise EventsError(f"{where}: unknown field(s) {', '.join(sorted(fields))} for {kind}")
        for t in times:
            if jitter:
                t = max(0, t + rng.randint(-jitter, jitter))
            events.append(Event(t, kind, number, data))
    events.sort(key=lambda e: e.time_ms)  # stable: same-time events keep file order
    return events


def load_events(path: str, seed: int = 0) -> list[Event]:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise EventsError(f"{path}: {e.strerror}") from None
    return parse_events(text, path, seed)


def _strip_comment(raw: str) -> str:
    # A '#' inside quotes is data, not a comment.
    out, quoted = [], False
    for ch in raw:
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            break
        out.append(ch)
    return "".join(out).strip()


def _time(where: str, text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)(ms|s)?", text)
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


def _times(where: str, time_ms: int, fields: dict[str, str]) -> list[int]:
    count = _int(where, "count", fields.pop("count", "1"), 1, 10_000_000)
    times = [time_ms]
    if "every" in fields:
        every = _time(where, fields.pop("every"))
        if "until" not in fields:
            raise EventsError(f"{where}: every= needs until=")
        until = _time(where, fields.pop("until"))
        if every <= 0:
            raise EventsError(f"{where}: every= must be more than 0")
        times = list(range(time_ms, until + 1, every))
    elif "until" in fields:
        raise EventsError(f"{where}: until= needs every=")
    return [t for t in times for _ in range(count)]
