"""The scenario: the stone, its load and switch, its rooms and people, its I2C bus, and a
timeline of what happens to it (TOML, docs/simulator.md gives the whole format).

    [stone]                       id = 3, uptime_s = 60
    [load]                        watts = 60, dimmable = true, standby_mw = 300, noise_mw = 50
    [switch]                      state = "off" | "on" | 1..99, locked, behaviour, twilight, ...
    [rooms]                       kitchen = 3        (room name = room id 0-63)
    [people]                      alice = 1          (person = presence profile 0-7)
    [[i2c]]                       address = 0x48, device = "tmp102", celsius = 20.5
    timeline = [ { t = 5, enter = "kitchen", person = "alice" }, ... ]

Every mistake raises ScenarioError naming the file, the line and what is wrong.
"""
from __future__ import annotations

import json
import random
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from typing import NoReturn

from host.events import EventsError, parse_events
from shared_buffers import protocol as P

MAX_WATTS = 10_000        # a load over 3680 W (16 A at 230 V, the relay's rating) trips the soft fuse
MAX_SENDER_MESSAGE = 255  # what the outside may try to send (bluenet refuses more than 43)
ASSET_CHANNELS = (37, 38, 39)
BLE_ADVERT_MAX = 31
DEVICES = ("crownstone", "guidestone")


class ScenarioError(EventsError):
    """A mistake in a scenario: `FILE:LINE: what is wrong`."""


@dataclass(frozen=True)
class Action:
    """One thing that happens at time_ms: kind is the timeline key (enter, leave, load,
    message, asset, tap, cpu_busy, temperature, behaviour, twilight, mesh, pin, ble)."""
    time_ms: int
    kind: str
    fields: dict = field(default_factory=dict, hash=False, compare=False)
    line: int = 0


@dataclass
class Scenario:
    source: str = "scenario"
    stone_id: int = 1
    device: str = "crownstone"  # or "guidestone": no switch, no power measurement
    uptime_ms: int = 0
    load: dict = field(default_factory=lambda: {"watts": 0.0, "dimmable": False, "standby_mw": 0,
                                                "noise_mw": 0})
    switch: dict = field(default_factory=lambda: {"state": 0, "locked": False, "behaviour": None,
                                                  "twilight": None, "double_tap": False,
                                                  "default_dim": 0})
    rooms: dict = field(default_factory=dict)     # name -> id
    people: dict = field(default_factory=dict)    # name -> profile
    i2c: list = field(default_factory=list)       # dicts: address, device, ...
    timeline: list = field(default_factory=list)  # Actions, in time order


# -- reading ----------------------------------------------------------------------------------
def load_scenario(path: str, seed: int = 0) -> Scenario:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ScenarioError(f"{path}: {e.strerror}") from None
    return parse_scenario(text, path, seed)


def parse_scenario(text: str, source: str = "scenario", seed: int = 0) -> Scenario:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        line = m.group(1) if m else "1"
        raise ScenarioError(f"{source}:{line}: not TOML: {re.sub(r' [(]at line.*', '', str(e))}") from None
    return _Reader(source, _locate(text), seed).read(doc)


class _Reader:
    TOP = ("stone", "load", "switch", "rooms", "people", "i2c", "timeline")

    def __init__(self, source: str, lines: dict, seed: int) -> None:
        self.source = source
        self.lines = lines
        self.rng = random.Random(seed)

    def fail(self, path: tuple, text: str) -> NoReturn:
        while path and path not in self.lines:
            path = path[:-1]
        raise ScenarioError(f"{self.source}:{self.lines.get(path, 1)}: {text}")

    def read(self, doc: dict) -> Scenario:
        sc = Scenario(source=self.source)
        self.known_keys(doc, (), self.TOP, "the scenario")
        stone = self.table(doc, "stone")
        self.known_keys(stone, ("stone",), ("id", "uptime_s", "device"), "[stone]")
        sc.stone_id = self.integer(stone, ("stone", "id"), 1, 255, 1)
        sc.device = self.choice(stone, ("stone", "device"), DEVICES, "crownstone")
        sc.uptime_ms = self.ms(self.number(stone, ("stone", "uptime_s"), 0, 10 ** 7, 0))
        load = self.table(doc, "load")
        self.known_keys(load, ("load",), ("watts", "dimmable", "standby_mw", "noise_mw"), "[load]")
        sc.load = {"watts": float(self.number(load, ("load", "watts"), 0, MAX_WATTS, 0)),
                   "dimmable": self.boolean(load, ("load", "dimmable"), False),
                   "standby_mw": self.integer(load, ("load", "standby_mw"), 0, 100_000, 0),
                   "noise_mw": self.integer(load, ("load", "noise_mw"), 0, 100_000, 0)}
        sw = self.table(doc, "switch")
        self.known_keys(sw, ("switch",), ("state", "locked", "behaviour", "twilight", "double_tap",
                                          "default_dim"), "[switch]")
        sc.switch = {"state": self.switch_state(sw, sc.load["dimmable"]),
                     "locked": self.boolean(sw, ("switch", "locked"), False),
                     "behaviour": self.optional_intensity(sw, ("switch", "behaviour")),
                     "twilight": self.optional_intensity(sw, ("switch", "twilight")),
                     "double_tap": self.boolean(sw, ("switch", "double_tap"), False),
                     "default_dim": self.integer(sw, ("switch", "default_dim"), 0, 100, 0)}
        rooms = self.table(doc, "rooms")
        for name in rooms:
            sc.rooms[name] = self.integer(rooms, ("rooms", name), 0, 63, None)
        people = self.table(doc, "people")
        for name in people:
            sc.people[name] = self.integer(people, ("people", name), 0, 7, None)
        sc.i2c = self.i2c(doc)
        sc.timeline = self.timeline(doc, sc)
        return sc

    # -- tables --------------------------------------------------------------------------------
    def table(self, doc: dict, key: str) -> dict:
        value = doc.get(key, {})
        if not isinstance(value, dict):
            self.fail((key,), f"{key} must be a table ([{key}])")
        if "timeline" in value and key != "timeline":  # TOML puts keys after [x] into x
            self.fail((key, "timeline"), f"timeline = [...] after [{key}] belongs to [{key}]: put "
                      "the timeline before the first [table], or write [[timeline]] entries")
        return value

    def known_keys(self, table: dict, path: tuple, known: tuple, where: str) -> None:
        for key in table:
            if key not in known:
                self.fail(path + (key,), f"unknown key {key!r} in {where} (known: {', '.join(known)})")

    def i2c(self, doc: dict) -> list:
        devices = doc.get("i2c", [])
        if not isinstance(devices, list) or not all(isinstance(d, dict) for d in devices):
            self.fail(("i2c",), "i2c must be an array of tables ([[i2c]])")
        out, seen = [], {}
        for k, d in enumerate(devices):
            path = ("i2c", k)
            kind = d.get("device")
            if kind not in ("register", "tmp102"):
                self.fail(path + ("device",), f"i2c device = {_show(kind)}: must be \"register\" or \"tmp102\"")
            keys = {"register": ("address", "device", "size", "address_bytes", "data"),
                    "tmp102": ("address", "device", "celsius", "heater", "heating_c_per_min",
                               "cooling_per_min")}[kind]
            self.known_keys(d, path, keys, f"an i2c {kind} device")
            if "address" not in d:
                self.fail(path, "an i2c device needs address = 0x08..0x77")
            address = self.integer(d, path + ("address",), 0x08, 0x77, None)
            if address in seen:
                self.fail(path + ("address",), f"i2c address {address:#04x} is taken by the device above")
            seen[address] = kind
            dev = {"address": address, "device": kind}
            if kind == "register":
                dev["size"] = self.integer(d, path + ("size",), 1, 65536, 256)
                dev["address_bytes"] = self.integer(d, path + ("address_bytes",), 1, 2, 1)
                dev["data"] = self.hex(d, path + ("data",), dev["size"])
            else:
                dev["celsius"] = float(self.number(d, path + ("celsius",), -40, 125, 20.0))
                dev["heater"] = self.boolean(d, path + ("heater",), False)
                dev["heating_c_per_min"] = float(self.number(d, path + ("heating_c_per_min",), 0, 100, 0.5))
                dev["cooling_per_min"] = float(self.number(d, path + ("cooling_per_min",), 0, 10, 0.05))
            out.append(dev)
        return out

    # -- the timeline --------------------------------------------------------------------------
    KINDS = {
        "enter": ("person",), "leave": ("person",), "load": (), "message": (), "message_hex": (),
        "asset": ("rssi", "channel", "profile", "filter", "mac", "address_type"), "tap": (),
        "cpu_busy_until": (), "temperature": ("address",), "behaviour": (), "twilight": (),
        "mesh": ("from",), "mesh_hex": ("from",), "pin": ("level",),
        "ble": ("rssi", "data", "hex"),
    }
    REPEAT = ("every", "until", "count", "jitter")
    NO_REPEAT = ("enter", "leave", "cpu_busy_until")

    def timeline(self, doc: dict, sc: Scenario) -> list:
        entries = doc.get("timeline", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.fail(("timeline",), "timeline must be an array of tables: timeline = [ { t = 1, ... }, ]")
        actions: list[Action] = []
        previous = 0.0
        where: dict[str, str | None] = {}  # person -> room name or None, to check leave
        for k, entry in enumerate(entries):
            path = ("timeline", k)
            if "t" not in entry:
                self.fail(path, "a timeline entry needs t = SECONDS")
            t = self.number(entry, path + ("t",), 0, 10 ** 7, None)
            if t < previous:
                self.fail(path + ("t",), f"t = {t} goes back in time (the entry before is at t = {previous})")
            previous = t
            kinds = [key for key in entry if key in self.KINDS]
            if len(kinds) != 1:
                self.fail(path, f"a timeline entry needs exactly one of {', '.join(self.KINDS)}"
                          + (f" (it has {', '.join(kinds)})" if kinds else ""))
            kind = kinds[0]
            allowed = ("t", kind) + self.KINDS[kind] + (() if kind in self.NO_REPEAT else self.REPEAT)
            self.known_keys(entry, path, allowed, f"a timeline {kind} entry")
            fields = self.action_fields(kind, entry, path, sc, where)
            line = self.lines.get(path, 1)
            for time_ms in self.times(entry, path, self.ms(t)):
                actions.append(Action(time_ms, kind.removesuffix("_hex"), fields, line))
        actions.sort(key=lambda a: a.time_ms)  # jitter may reorder; stable otherwise
        return actions

    def times(self, entry: dict, path: tuple, time_ms: int) -> list[int]:
        count = self.integer(entry, path + ("count",), 1, 100_000, 1)
        times = [time_ms]
        if "every" in entry:
            if "until" not in entry:
                self.fail(path + ("every",), "every = needs until =")
            every = self.ms(self.number(entry, path + ("every",), 0.001, 10 ** 7, None))
            until = self.ms(self.number(entry, path + ("until",), 0, 10 ** 7, None))
            if until < time_ms:
                self.fail(path + ("until",), "until = is before t =")
            if (until - time_ms) // every > 1_000_000:
                self.fail(path + ("every",), "more than a million repeats")
            times = list(range(time_ms, until + 1, every))
        elif "until" in entry:
            self.fail(path + ("until",), "until = needs every =")
        jitter = self.ms(self.number(entry, path + ("jitter",), 0, 10 ** 4, 0))
        out = []
        for t in times:
            for _ in range(count):
                out.append(max(0, t + self.rng.randint(-jitter, jitter)) if jitter else t)
        return out

    def action_fields(self, kind: str, e: dict, path: tuple, sc: Scenario, where: dict) -> dict:
        p = path + (kind,)
        if kind in ("enter", "leave"):
            person = self.person(e, path, sc)
            room = e[kind]
            if isinstance(room, str):
                if room not in sc.rooms:
                    self.fail(p, f"no room {room!r} in [rooms] (known: {', '.join(sc.rooms) or 'none'})")
                room_id = sc.rooms[room]
            else:
                room_id = self.integer(e, p, 0, 63, None)
                room = str(room_id)
            if kind == "leave" and where.get(person) != room:
                self.fail(p, f"{person} is not in {room} then (in: {where.get(person) or 'no room'})")
            where[person] = room if kind == "enter" else None
            return {"person": person, "room": room_id}
        if kind == "load":
            return {"watts": float(self.number(e, p, 0, MAX_WATTS, None))}
        if kind in ("message", "message_hex"):
            data = self.hex(e, p, MAX_SENDER_MESSAGE) if kind == "message_hex" else self.text(e, p, MAX_SENDER_MESSAGE)
            if not data:
                self.fail(p, "an empty message (bluenet refuses it: ERR_WRONG_PAYLOAD_LENGTH)")
            return {"data": data}
        if kind == "asset":
            asset_id = self.hex(e, p, 3)
            if len(asset_id) != 3:
                self.fail(p, "asset = \"HEX\": an asset id is 3 bytes (6 hex digits)")
            return {"id": asset_id, "rssi": self.integer(e, path + ("rssi",), -127, 0, -70),
                    "channel": self.choice(e, path + ("channel",), ASSET_CHANNELS, 37),
                    "profile": self.integer(e, path + ("profile",), 0, 255, 0),
                    "filter": self.integer(e, path + ("filter",), 0, 255, 0),
                    "mac": self.mac(e, path + ("mac",)),
                    "address_type": self.integer(e, path + ("address_type",), 0, 3, 0)}
        if kind == "tap":
            if e["tap"] is not True:
                self.fail(p, "tap = true")
            return {}
        if kind == "cpu_busy_until":
            until = self.number(e, p, 0, 10 ** 7, None)
            if until <= e["t"]:
                self.fail(p, f"cpu_busy_until = {until} is not after t = {e['t']}")
            return {"until_ms": self.ms(until)}
        if kind == "temperature":
            sensors = [d["address"] for d in sc.i2c if d["device"] == "tmp102"]
            if not sensors:
                self.fail(p, "temperature needs a tmp102 in [[i2c]]")
            address = self.integer(e, path + ("address",), 0x08, 0x77, sensors[0] if len(sensors) == 1 else None)
            if address not in sensors:
                self.fail(path + ("address",), f"no tmp102 at {address:#04x}")
            return {"celsius": float(self.number(e, p, -40, 125, None)), "address": address}
        if kind in ("behaviour", "twilight"):
            return {"value": self.optional_intensity(e, p)}
        if kind in ("mesh", "mesh_hex"):
            data = self.hex(e, p, P.MESH_MAX_DATA) if kind == "mesh_hex" else self.text(e, p, P.MESH_MAX_DATA)
            return {"from": self.integer(e, path + ("from",), 1, 255, None), "data": data}
        if kind == "pin":
            levels = {"high": 1, "low": 0, 1: 1, 0: 0}
            level = e.get("level")
            if level not in levels or isinstance(level, bool):
                self.fail(path + ("level",), f"level = {_show(level)}: must be \"high\", \"low\", 1 or 0")
            return {"pin": self.integer(e, p, 0, 255, None), "level": levels[level]}
        # ble
        if "data" in e and "hex" in e:
            self.fail(path, "give data = or hex =, not both")
        data = self.hex(e, path + ("hex",), BLE_ADVERT_MAX) if "hex" in e else self.text(e, path + ("data",), BLE_ADVERT_MAX)
        return {"mac": self.mac(e, p), "rssi": self.integer(e, path + ("rssi",), -127, 0, -70), "data": data}

    def person(self, e: dict, path: tuple, sc: Scenario) -> str:
        if "person" not in e:
            if len(sc.people) != 1:
                self.fail(path, "which person? give person = NAME (from [people])")
            return next(iter(sc.people))
        person = e["person"]
        if person not in sc.people:
            self.fail(path + ("person",), f"no person {person!r} in [people] (known: {', '.join(sc.people) or 'none'})")
        return person

    # -- values --------------------------------------------------------------------------------
    def _get(self, table: dict, path: tuple, default):
        if path[-1] in table:
            return table[path[-1]]
        if default is None:
            self.fail(path, f"{_name(path)} is missing")
        return default

    def number(self, table: dict, path: tuple, lo, hi, default):
        value = self._get(table, path, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(path, f"{_name(path)} = {_show(value)} is not a number")
        if not lo <= value <= hi:
            self.fail(path, f"{_name(path)} = {_show(value)} is out of range {lo}..{hi}")
        return value

    def integer(self, table: dict, path: tuple, lo: int, hi: int, default):
        value = self._get(table, path, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"{_name(path)} = {_show(value)} is not an integer")
        if not lo <= value <= hi:
            self.fail(path, f"{_name(path)} = {_show(value)} is out of range {lo}..{hi}")
        return value

    def boolean(self, table: dict, path: tuple, default: bool) -> bool:
        value = self._get(table, path, default)
        if not isinstance(value, bool):
            self.fail(path, f"{_name(path)} = {_show(value)} is not true or false")
        return value

    def choice(self, table: dict, path: tuple, choices: tuple, default):
        value = self._get(table, path, default)
        if value not in choices or isinstance(value, bool):
            self.fail(path, f"{_name(path)} = {_show(value)}: must be one of {', '.join(map(str, choices))}")
        return value

    def text(self, table: dict, path: tuple, limit: int) -> bytes:
        value = self._get(table, path, "")
        if not isinstance(value, str):
            self.fail(path, f"{_name(path)} = {_show(value)} is not a string")
        data = value.encode()
        if len(data) > limit:
            self.fail(path, f"{_name(path)}: {len(data)} bytes, at most {limit}")
        return data

    def hex(self, table: dict, path: tuple, limit: int) -> bytes:
        value = self._get(table, path, "")
        try:
            data = bytes.fromhex(value) if isinstance(value, str) else None
        except ValueError:
            data = None
        if data is None:
            self.fail(path, f"{_name(path)} = {_show(value)} is not hexadecimal")
        if len(data) > limit:
            self.fail(path, f"{_name(path)}: {len(data)} bytes, at most {limit}")
        return data

    def mac(self, table: dict, path: tuple) -> bytes:
        value = self._get(table, path, "00:00:00:00:00:00")
        try:
            mac = bytes.fromhex(value.replace(":", "")) if isinstance(value, str) else b""
        except ValueError:
            mac = b""
        if len(mac) != 6:
            self.fail(path, f"{_name(path)} = {_show(value)} is not a MAC address (AA:BB:CC:DD:EE:FF)")
        return mac

    def optional_intensity(self, table: dict, path: tuple):
        value = table.get(path[-1], "none")
        if value == "none":
            return None
        return self.integer(table, path, 0, 100, None)

    def switch_state(self, sw: dict, dimmable: bool) -> int:
        path = ("switch", "state")
        value = sw.get("state", "off")
        if value in ("off", "on"):
            return 0 if value == "off" else 100
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(path, f"switch.state = {_show(value)}: must be \"off\", \"on\" or a dim value 1..99")
        if not 0 <= value <= 100:
            self.fail(path, f"switch.state = {value} is out of range 0..100")
        if 0 < value < 100 and not dimmable:
            self.fail(path, f"switch.state = {value} dims, but the load is not dimmable (load.dimmable = false)")
        return value

    @staticmethod
    def ms(seconds: float) -> int:
        return round(seconds * 1000)


def _name(path: tuple) -> str:
    parts = [str(p) for p in path if not isinstance(p, int)]
    if path and path[0] == "timeline":
        return parts[-1] if len(parts) > 1 else "timeline"
    return ".".join(parts)


def _show(value) -> str:
    return json.dumps(value) if isinstance(value, (str, bool)) else repr(value)


# -- where each key is: tomllib gives values without lines ------------------------------------
def _locate(text: str) -> dict:
    """{path: line} for table headers, keys, and the inline tables of arrays: ("load",),
    ("load", "watts"), ("timeline", 3), ("timeline", 3, "t"), ("i2c", 0, "address")."""
    lines: dict = {}
    counts: dict = {}
    table: tuple = ()
    stack: list = []  # [path, element counter or None for an inline table]
    key = ""
    value_path = None
    string = None     # the open string's quote: ", ', \"\"\" or '''
    for lineno, line in enumerate(text.splitlines(), 1):
        i, n = 0, len(line)
        if string is None and not stack:
            s = line.strip()
            if s.startswith("["):
                array = s.startswith("[[")
                end = s.find("]]" if array else "]")
                name = tuple(p.strip().strip("\"'") for p in s[2 if array else 1:end].split("."))
                if array:
                    counts[name] = counts.get(name, -1) + 1
                    name = name + (counts[name],)
                table = name
                lines.setdefault(table, lineno)
                continue
        while i < n:
            c = line[i]
            if string is not None:
                if len(string) == 1 and string == '"' and c == "\\":
                    i += 2
                    continue
                if line.startswith(string, i):
                    i += len(string)
                    string = None
                    continue
                i += 1
                continue
            if c == "#":
                break
            if c in "\"'":
                string = line[i:i + 3] if line.startswith(c * 3, i) else c
                if not (value_path is None and (not stack or stack[-1][1] is None)):
                    i += len(string)
                    continue
                # a quoted key
                close = line.find(c, i + 1)
                key += line[i + 1:close] if close > 0 else ""
                string = None
                i = close + 1 if close > 0 else n
                continue
            if c == "=" and value_path is None:
                parent = stack[-1][0] if stack else table
                value_path = parent + tuple(k.strip().strip("\"'") for k in key.split("."))
                lines.setdefault(value_path, lineno)
                key = ""
            elif c in "[{":
                if stack and stack[-1][1] is not None:  # an element of an array
                    path = stack[-1][0] + (stack[-1][1],)
                    stack[-1][1] += 1
                    lines.setdefault(path, lineno)
                else:
                    path = value_path if value_path is not None else table
                stack.append([path, 0 if c == "[" else None])
                value_path = None
                key = ""
            elif c in "]}":
                if stack:
                    stack.pop()
                value_path = None
                key = ""
            elif c == ",":
                if stack and stack[-1][1] is None:
                    value_path = None
                key = ""
            elif value_path is None and (not stack or stack[-1][1] is None):
                key += c
            i += 1
        if not stack and string is None:
            value_path = None
            key = ""
    return lines


# -- `microapp convert`: an events file as a scenario -----------------------------------------
def convert_events(text: str, source: str = "events") -> str:
    """The events file as a scenario's timeline (same events, same times, same repeats)."""
    parse_events(text, source)  # its mistakes are reported as the events parser reports them
    from host.events import _strip_comment, _time
    out = ["# converted from " + source.replace("\n", " "), "timeline = ["]
    lines = [shlex.split(_strip_comment(raw)) for raw in text.splitlines() if _strip_comment(raw)]
    lines.sort(key=lambda words: _time(source, words[0]))  # a timeline goes forward
    for words in lines:
        t = _time(source, words[0]) / 1000
        kind, positional = words[1], [w for w in words[2:] if "=" not in w]
        fields = dict(w.split("=", 1) for w in words[2:] if "=" in w)
        parts = [f"t = {_num(t)}"]
        if kind == "mesh":
            parts.append(_data_part("mesh", fields))
            parts.append(f"from = {int(fields.pop('from'), 0)}")
        elif kind == "pin":
            level = {"high": "high", "1": "high", "low": "low", "0": "low"}[positional[1].lower()]
            parts += [f"pin = {int(positional[0], 0)}", f"level = \"{level}\""]
        else:  # ble
            parts.append(f"ble = {json.dumps(fields.pop('mac', '00:00:00:00:00:00'))}")
            parts.append(f"rssi = {int(fields.pop('rssi', '-70'), 0)}")
            if "hex" in fields:
                parts.append(f"hex = {json.dumps(fields.pop('hex'))}")
            elif "data" in fields:
                parts.append(f"data = {json.dumps(fields.pop('data'))}")
        for name in ("every", "until", "jitter"):
            if name in fields:
                parts.append(f"{name} = {_num(_time(source, fields.pop(name)) / 1000)}")
        if "count" in fields:
            parts.append(f"count = {int(fields.pop('count'), 0)}")
        out.append("  { " + ", ".join(parts) + " },")
    out.append("]")
    return "\n".join(out) + "\n"


def _data_part(kind: str, fields: dict) -> str:
    if "hex" in fields:
        return f"{kind}_hex = {json.dumps(fields.pop('hex'))}"
    return f"{kind} = {json.dumps(fields.pop('data', ''))}"


def _num(seconds: float) -> str:
    return repr(int(seconds)) if seconds == int(seconds) else repr(seconds)
