"""A mesh scenario (TOML): the stones, who hears whom, the radio, each stone's timeline, and what
must hold at the end.

    seed = 1                      # the run's seed (--seed / --seeds override it)
    minutes = 1                   # how long to run (--minutes overrides it)

    [radio]                       # all optional: host.mesh.radio.RadioParams
    latency_ms = 20
    jitter_ms = 10
    loss = 0.0                    # of every link made from positions
    range_m = 10                  # stones with positions hear each other within this distance
    ttl = 10

    [[stone]]
    id = 1                        # 1..255
    app = "ping.py"               # relative to this file; stones may share one
    position = [0.0, 0.0]         # metres (or give [[link]]s)
    phase_ms = 0                  # when its first tick falls (0..tick)
    drift_ppm = 0                 # its clock runs this much fast (+) or slow (-)
    relay = true                  # does its mesh relay
    port = "socket://host:2217"   # optional: this stone is a board (any pyserial URL)
    events = '''                  # optional: its timeline, in the events-file format
    1.0 pin 4 high
    '''
    world = "kitchen.toml"        # optional: the world it lives in (docs/simulator.md's
                                  # scenario: load, switch, presence, its own timeline);
                                  # its [stone] id is this stone's

    [[link]]                      # explicit links (added to, or replacing, those from positions)
    a = 1
    b = 2
    loss = 0.1

    [[expect]]                    # checked at the end of the run (and per seed in a sweep)
    stone = 2
    log = "pong"                  # a log line of stone 2 contains this
    [[expect]]
    from = 1
    to = 2
    within = 0.5                  # every message 1 sent to 2 (or to all) reached 2 within 0.5 s

Every mistake is a ScenarioError naming the file and the line.
"""
from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields

from host.events import EventsError, Event, parse_events
from host.mesh.radio import RadioParams
from host.world.scenario import ScenarioError as WorldError, load_scenario


class ScenarioError(ValueError):
    """A mistake in a scenario: `file:line: what`."""


@dataclass
class StoneSpec:
    sid: int
    app: str
    line: int
    position: tuple[float, float] | None = None
    phase_ms: float = 0.0
    drift_ppm: int = 0
    relay: bool = True
    port: str | None = None
    baud: int = 115200
    events: list[Event] = field(default_factory=list)
    world: str | None = None  # the path of its world's scenario (host/world)


@dataclass
class Expect:
    line: int
    stone: int | None = None
    log: str | None = None
    src: int | None = None
    dst: int | None = None
    within_s: float | None = None

    def describe(self) -> str:
        if self.log is not None:
            return f"stone {self.stone} logs a line containing {self.log!r}"
        return f"every message from {self.src} reaches {self.dst} within {self.within_s} s"


@dataclass
class Scenario:
    path: str
    seed: int
    minutes: float
    radio: RadioParams
    stones: list[StoneSpec]
    links: list[tuple[int, int, float]]  # every link, explicit ones and those from positions
    expects: list[Expect]
    limits: list[str]


_STONE_KEYS = {"id", "app", "position", "phase_ms", "drift_ppm", "relay", "port", "baud", "events", "world"}
_TOP_KEYS = {"seed", "minutes", "radio", "stone", "link", "expect", "limits"}


def load(path: str) -> Scenario:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ScenarioError(f"{path}: {e.strerror}") from None
    text = raw.decode("utf-8", "replace")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise ScenarioError(f"{path}:{m.group(1) if m else 1}: {msg}") from None
    return _Reader(path, text).scenario(doc)


class _Reader:
    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.base = os.path.dirname(os.path.abspath(path))

    # Where things are: the n-th [[table]] header, a key's line after it.
    def header_line(self, table: str, index: int) -> int:
        seen = -1
        for i, line in enumerate(self.lines, 1):
            if re.match(rf"\s*\[\[\s*{re.escape(table)}\s*\]\]", line):
                seen += 1
                if seen == index:
                    return i
        return 1

    def key_line(self, start: int, key: str) -> int:
        for i in range(start, len(self.lines) + 1):
            line = self.lines[i - 1]
            if i > start and re.match(r"\s*\[", line):
                break
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return i
        return start

    def top_line(self, key: str) -> int:
        """The line of a top-level `key = ...` (before any table) or of a [key] / [[key]] header."""
        in_table = False
        for i, line in enumerate(self.lines, 1):
            if re.match(rf"\s*\[+\s*{re.escape(key)}\s*\]", line):
                return i
            in_table = in_table or bool(re.match(r"\s*\[", line))
            if not in_table and re.match(rf"\s*{re.escape(key)}\s*=", line):
                return i
        return 1

    def fail(self, line: int, what: str) -> ScenarioError:
        return ScenarioError(f"{self.path}:{line}: {what}")

    def scenario(self, doc: dict) -> Scenario:
        for key in doc:
            if key not in _TOP_KEYS:
                raise self.fail(self.top_line(key), f"unknown key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})")
        seed = self.number(doc, "seed", self.top_line("seed"), int, 0, 0)
        minutes = self.number(doc, "minutes", self.top_line("minutes"), float, 1.0, 0)
        radio = self.radio(doc.get("radio", {}))
        stones = [self.stone(i, t) for i, t in enumerate(self.tables(doc, "stone"))]
        if not stones:
            raise self.fail(1, "no [[stone]]: a scenario needs at least one")
        ids: dict[int, int] = {}
        for s in stones:
            if s.sid in ids:
                raise self.fail(s.line, f"stone id {s.sid} is already used (line {ids[s.sid]})")
            ids[s.sid] = s.line
        links = self.links(doc, stones, radio)
        expects = [self.expect(i, t, ids) for i, t in enumerate(self.tables(doc, "expect"))]
        limits = doc.get("limits", {})
        if not isinstance(limits, dict):
            raise self.fail(self.top_line("limits"), "limits must be a table of NAME = VALUE")
        return Scenario(self.path, seed, minutes, radio, stones, links, expects,
                        [f"{k}={v}" for k, v in limits.items()])

    def tables(self, doc: dict, name: str) -> list[dict]:
        value = doc.get(name, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            raise self.fail(self.top_line(name), f"{name} must be given as [[{name}]] tables")
        return value

    def number(self, table: dict, key: str, line: int, kind: type, default, low=None, high=None):
        if key not in table:
            return default
        value = table[key]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind is int:
            ok = ok and float(value).is_integer()
        if not ok:
            raise self.fail(line, f"{key} must be {'an integer' if kind is int else 'a number'}, not {value!r}")
        value = kind(value)
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"{low}..{high}" if high is not None else f">= {low}"
            raise self.fail(line, f"{key} = {value} is out of range ({bounds})")
        return value

    def radio(self, table: dict) -> RadioParams:
        line = self.top_line("radio")
        if not isinstance(table, dict):
            raise self.fail(line, "radio must be a table")
        known = {f.name: f for f in fields(RadioParams)}
        values = {}
        for key in table:
            kline = self.key_line(line, key)
            if key not in known:
                raise self.fail(kline, f"unknown radio parameter {key!r} (known: {', '.join(known)})")
            kind = int if known[key].type in ("int", int) else float
            high = 1 if key == "loss" else None
            values[key] = self.number(table, key, kline, kind, None, 0, high)
        return RadioParams(**values)

    def stone(self, index: int, table: dict) -> StoneSpec:
        line = self.header_line("stone", index)
        for key in table:
            if key not in _STONE_KEYS:
                raise self.fail(self.key_line(line, key), f"unknown stone key {key!r} (known: {', '.join(sorted(_STONE_KEYS))})")
        if "id" not in table:
            raise self.fail(line, "a stone needs an id")
        sid = self.number(table, "id", self.key_line(line, "id"), int, 0, 1, 255)
        if "app" not in table or not isinstance(table["app"], str):
            raise self.fail(self.key_line(line, "app") if "app" in table else line, f"stone {sid} needs app = \"FILE.py\"")
        app = os.path.join(self.base, table["app"])
        if not os.path.isfile(app):
            raise self.fail(self.key_line(line, "app"), f"stone {sid}: app {table['app']!r}: no such file")
        spec = StoneSpec(sid, app, line)
        if "position" in table:
            pos = table["position"]
            if not (isinstance(pos, list) and len(pos) in (2, 3) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)):
                raise self.fail(self.key_line(line, "position"), f"stone {sid}: position must be [x, y] in metres")
            spec.position = (float(pos[0]), float(pos[1]))
        spec.phase_ms = self.number(table, "phase_ms", self.key_line(line, "phase_ms"), float, 0.0, 0)
        spec.drift_ppm = self.number(table, "drift_ppm", self.key_line(line, "drift_ppm"), int, 0, -100_000, 100_000)
        if "relay" in table:
            if not isinstance(table["relay"], bool):
                raise self.fail(self.key_line(line, "relay"), f"stone {sid}: relay must be true or false")
            spec.relay = table["relay"]
        if "port" in table:
            if not isinstance(table["port"], str) or not table["port"]:
                raise self.fail(self.key_line(line, "port"), f"stone {sid}: port must be a serial port or pyserial URL")
            spec.port = table["port"]
        spec.baud = self.number(table, "baud", self.key_line(line, "baud"), int, 115200, 1)
        if "world" in table:
            world = table["world"]
            if not isinstance(world, str) or not world:
                raise self.fail(self.key_line(line, "world"), f"stone {sid}: world must be a scenario file (.toml)")
            spec.world = os.path.join(self.base, world)
            if not os.path.isfile(spec.world):
                raise self.fail(self.key_line(line, "world"), f"stone {sid}: world {world!r}: no such file")
            try:  # read now for its mistakes (each run reads it again, with its seed)
                load_scenario(spec.world)
            except WorldError as e:
                raise ScenarioError(str(e)) from None
        if "events" in table:
            if not isinstance(table["events"], str):
                raise self.fail(self.key_line(line, "events"), f"stone {sid}: events must be a string (the events-file format)")
            start = self.key_line(line, "events")
            text = table["events"]
            # A multi-line string starts on the line after `events = '''`: shift the numbers.
            shift = start if self.lines[start - 1].rstrip().endswith(("'''", '"""')) else start - 1
            try:
                spec.events = parse_events("\n" * shift + text, self.path)
            except EventsError as e:
                raise ScenarioError(str(e)) from None
        return spec

    def links(self, doc: dict, stones: list[StoneSpec], radio: RadioParams) -> list[tuple[int, int, float]]:
        pairs: dict[tuple[int, int], float] = {}
        placed = [(s, s.position) for s in stones if s.position is not None]
        # Positions: a grid of cells of range_m, so a large office is not O(n^2).
        cells: dict[tuple[int, int], list[tuple[StoneSpec, tuple[float, float]]]] = {}
        r = radio.range_m
        if r > 0:
            for s, pos in placed:
                cells.setdefault((math.floor(pos[0] / r), math.floor(pos[1] / r)), []).append((s, pos))
            for s, pos in placed:
                cx, cy = math.floor(pos[0] / r), math.floor(pos[1] / r)
                for dx in (-1, 0, 1):
                    for dy in (-1, 0, 1):
                        for o, opos in cells.get((cx + dx, cy + dy), ()):
                            if o.sid > s.sid and math.dist(pos, opos) <= r:
                                pairs[(s.sid, o.sid)] = radio.loss
        ids = {s.sid for s in stones}
        for i, t in enumerate(self.tables(doc, "link")):
            line = self.header_line("link", i)
            for key in t:
                if key not in ("a", "b", "loss"):
                    raise self.fail(self.key_line(line, key), f"unknown link key {key!r} (known: a, b, loss)")
            ends = []
            for key in ("a", "b"):
                if key not in t:
                    raise self.fail(line, f"a link needs {key} = STONE ID")
                sid = self.number(t, key, self.key_line(line, key), int, 0, 1, 255)
                if sid not in ids:
                    raise self.fail(self.key_line(line, key), f"link {key} = {sid}: no stone with that id")
                ends.append(sid)
            if ends[0] == ends[1]:
                raise self.fail(line, f"a link from stone {ends[0]} to itself")
            loss = self.number(t, "loss", self.key_line(line, "loss"), float, radio.loss, 0, 1)
            pairs[(min(ends), max(ends))] = loss
        return [(a, b, loss) for (a, b), loss in sorted(pairs.items())]

    def expect(self, index: int, t: dict, ids: dict[int, int]) -> Expect:
        line = self.header_line("expect", index)
        e = Expect(line)
        for key in t:
            if key not in ("stone", "log", "from", "to", "within"):
                raise self.fail(self.key_line(line, key), f"unknown expect key {key!r} (known: stone, log, from, to, within)")
        if "log" in t:
            if not isinstance(t["log"], str) or "stone" not in t:
                raise self.fail(line, "a log expectation needs stone = ID and log = \"TEXT\"")
            e.log = t["log"]
            e.stone = self._known(t, "stone", line, ids)
        elif "from" in t and "to" in t and "within" in t:
            e.src = self._known(t, "from", line, ids)
            e.dst = self._known(t, "to", line, ids)
            e.within_s = self.number(t, "within", self.key_line(line, "within"), float, 0.0, 0)
        else:
            raise self.fail(line, "an expectation is stone + log, or from + to + within")
        return e

    def _known(self, t: dict, key: str, line: int, ids: dict[int, int]) -> int:
        sid = self.number(t, key, self.key_line(line, key), int, 0, 1, 255)
        if sid not in ids:
            raise self.fail(self.key_line(line, key), f"{key} = {sid}: no stone with that id")
        return sid
