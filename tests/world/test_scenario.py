"""The scenario format: what it reads, and one line naming file, line and mistake for each error."""
import textwrap

import pytest

from host.events import parse_events
from host.world.scenario import ScenarioError, convert_events, parse_scenario

FULL = textwrap.dedent("""\
    timeline = [
      { t = 1, enter = "kitchen", person = "alice" },
      { t = 2, enter = 5, person = "bob" },
      { t = 3, load = 1500 },
      { t = 4, message = "on" },
      { t = 4, message_hex = "00ff" },
      { t = 5, asset = "0a0b0c", rssi = -50, channel = 38, profile = 1, filter = 2, mac = "AA:BB:CC:DD:EE:FF" },
      { t = 6, tap = true },
      { t = 7, cpu_busy_until = 7.5 },
      { t = 8, temperature = 25.5 },
      { t = 9, behaviour = "none" },
      { t = 9, twilight = 30 },
      { t = 10, mesh = "hi", from = 3 },
      { t = 10, pin = 4, level = "high" },
      { t = 11, ble = "01:02:03:04:05:06", rssi = -60, hex = "0201" },
      { t = 12, leave = "kitchen", person = "alice" },
      { t = 13, mesh_hex = "01", from = 2, every = 1, until = 15 },
    ]

    [stone]
    id = 7
    uptime_s = 60

    [load]
    watts = 60.5
    dimmable = true
    standby_mw = 300
    noise_mw = 20

    [switch]
    state = 40
    double_tap = true
    behaviour = 80

    [rooms]
    kitchen = 3
    "living room" = 5

    [people]
    alice = 0
    bob = 2

    [[i2c]]
    address = 0x48
    device = "tmp102"
    celsius = 19.5

    [[i2c]]
    address = 0x50
    device = "register"
    size = 128
    data = "0102"

""")


def test_a_full_scenario_reads():
    sc = parse_scenario(FULL, "full.toml")
    assert (sc.stone_id, sc.uptime_ms) == (7, 60_000)
    assert sc.load == {"watts": 60.5, "dimmable": True, "standby_mw": 300, "noise_mw": 20}
    assert sc.switch["state"] == 40 and sc.switch["double_tap"] and sc.switch["behaviour"] == 80
    assert sc.rooms == {"kitchen": 3, "living room": 5} and sc.people == {"alice": 0, "bob": 2}
    assert sc.i2c[1] == {"address": 0x50, "device": "register", "size": 128, "address_bytes": 1,
                         "data": b"\x01\x02"}
    kinds = [(a.time_ms, a.kind) for a in sc.timeline]
    assert kinds[:6] == [(1000, "enter"), (2000, "enter"), (3000, "load"), (4000, "message"),
                         (4000, "message"), (5000, "asset")]
    assert [a.time_ms for a in sc.timeline if a.kind == "mesh"] == [10_000, 13_000, 14_000, 15_000]
    asset = next(a for a in sc.timeline if a.kind == "asset").fields
    assert asset == {"id": b"\x0a\x0b\x0c", "rssi": -50, "channel": 38, "profile": 1, "filter": 2,
                     "mac": bytes.fromhex("aabbccddeeff"), "address_type": 0}
    temp = next(a for a in sc.timeline if a.kind == "temperature")
    assert temp.fields == {"celsius": 25.5, "address": 0x48} and temp.line == 10


def test_array_of_tables_timeline_is_the_same():
    a = parse_scenario('timeline = [ { t = 1, load = 5 }, { t = 2, tap = true } ]')
    b = parse_scenario('[[timeline]]\nt = 1\nload = 5\n\n[[timeline]]\nt = 2\ntap = true\n')
    assert [(x.time_ms, x.kind, x.fields) for x in a.timeline] == [(x.time_ms, x.kind, x.fields) for x in b.timeline]
    assert [x.line for x in b.timeline] == [1, 5]


def error(text):
    with pytest.raises(ScenarioError) as e:
        parse_scenario(textwrap.dedent(text), "bad.toml")
    return str(e.value)


@pytest.mark.parametrize("text, message", [
    ("[load]\nwats = 5\n", "bad.toml:2: unknown key 'wats' in [load]"),
    ("[load]\nwatts = -5\n", "bad.toml:2: load.watts = -5 is out of range 0..10000"),
    ("[load]\nwatts = \"lots\"\n", 'bad.toml:2: load.watts = "lots" is not a number'),
    ("[stone]\n\nid = 300\n", "bad.toml:3: stone.id = 300 is out of range 1..255"),
    ("[stone]\ndevice = \"plug\"\n", 'bad.toml:2: stone.device = "plug": must be one of crownstone, guidestone'),
    ("[switch]\nstate = 50\n", "bad.toml:2: switch.state = 50 dims, but the load is not dimmable"),
    ("[rooms]\nhall = 64\n", "bad.toml:2: rooms.hall = 64 is out of range 0..63"),
    ("[people]\nann = 8\n", "bad.toml:2: people.ann = 8 is out of range 0..7"),
    ("[colour]\nx = 1\n", "bad.toml:1: unknown key 'colour' in the scenario"),
    ("[[i2c]]\naddress = 0x48\ndevice = \"lm35\"\n", 'bad.toml:3: i2c device = "lm35"'),
    ("[[i2c]]\naddress = 0x80\ndevice = \"tmp102\"\n", "bad.toml:2: i2c.address = 128 is out of range 8..119"),
    ("[[i2c]]\naddress = 0x48\ndevice = \"tmp102\"\n[[i2c]]\naddress = 0x48\ndevice = \"register\"\n",
     "bad.toml:5: i2c address 0x48 is taken"),
    ("timeline = [\n  { t = 5, load = 1 },\n  { t = 3, load = 2 },\n]\n",
     "bad.toml:3: t = 3 goes back in time (the entry before is at t = 5)"),
    ("timeline = [\n  { t = 1, load = 1, tap = true },\n]\n", "bad.toml:2: a timeline entry needs exactly one of"),
    ("timeline = [\n  { t = 1, lod = 1 },\n]\n", "bad.toml:2: a timeline entry needs exactly one of"),
    ("timeline = [\n  { t = 1, load = 1, colour = 2 },\n]\n", "bad.toml:2: unknown key 'colour' in a timeline load entry"),
    ("timeline = [\n  { load = 1 },\n]\n", "bad.toml:2: a timeline entry needs t = SECONDS"),
    ("timeline = [\n  { t = 1, load = 20000 },\n]\n", "bad.toml:2: load = 20000 is out of range 0..10000"),
    ("people = { a = 1 }\ntimeline = [\n  { t = 1, enter = \"attic\" },\n]\n", "bad.toml:3: no room 'attic'"),
    ("rooms = { k = 1 }\npeople = { a = 1, b = 2 }\ntimeline = [\n  { t = 1, enter = \"k\" },\n]\n",
     "bad.toml:4: which person?"),
    ("rooms = { k = 1 }\npeople = { a = 1 }\ntimeline = [\n  { t = 1, leave = \"k\" },\n]\n",
     "bad.toml:4: a is not in k then"),
    ("[people]\na = 1\n\ntimeline = [\n  { t = 1, tap = true },\n]\n",
     "bad.toml:4: timeline = [...] after [people] belongs to [people]"),
    ("timeline = [\n  { t = 1, message = \"\" },\n]\n", "bad.toml:2: an empty message"),
    ("timeline = [\n  { t = 1, asset = \"0102\" },\n]\n", "bad.toml:2: asset = \"HEX\": an asset id is 3 bytes"),
    ("timeline = [\n  { t = 1, asset = \"010203\", channel = 12 },\n]\n", "bad.toml:2: channel = 12: must be one of 37, 38, 39"),
    ("timeline = [\n  { t = 2, cpu_busy_until = 1 },\n]\n", "bad.toml:2: cpu_busy_until = 1 is not after t = 2"),
    ("timeline = [\n  { t = 2, temperature = 20 },\n]\n", "bad.toml:2: temperature needs a tmp102"),
    ("timeline = [\n  { t = 1, mesh = \"12345678\", from = 2 },\n]\n", "bad.toml:2: mesh: 8 bytes, at most 7"),
    ("timeline = [\n  { t = 1, pin = 4, level = \"up\" },\n]\n", 'bad.toml:2: level = "up"'),
    ("timeline = [\n  { t = 1, ble = \"zz\" },\n]\n", 'bad.toml:2: ble = "zz" is not a MAC address'),
    ("timeline = [\n  { t = 1, tap = true, every = 1 },\n]\n", "bad.toml:2: every = needs until ="),
    ("[load]\nwatts = = 3\n", "bad.toml:2: not TOML"),
])
def test_each_mistake_names_the_file_the_line_and_what_is_wrong(text, message):
    assert error(text).startswith(message)


def test_a_mistake_in_an_array_of_tables_timeline_names_the_key_line():
    text = "[[timeline]]\nt = 1\nload = 1\n\n[[timeline]]\nt = 2\nload = 40000\n"
    assert error(text).startswith("bad.toml:7: load = 40000 is out of range")


def test_several_entries_on_one_line_and_strings_with_braces():
    sc = parse_scenario('timeline = [ { t = 1, message = "{[,]}" }, { t = 2, tap = true } ]\n'
                        '# } a comment [\n[load]\nwatts = 1\n')
    assert [a.fields for a in sc.timeline] == [{"data": b"{[,]}"}, {}]
    assert error('timeline = [ { t = 1, message = "{" },\n { t = 0, tap = true } ]\n').startswith("bad.toml:2:")


def test_jitter_is_drawn_from_the_seed():
    text = "timeline = [ { t = 1, mesh = \"x\", from = 2, count = 20, jitter = 0.05 } ]"
    a, b = parse_scenario(text, seed=1).timeline, parse_scenario(text, seed=1).timeline
    c = parse_scenario(text, seed=2).timeline
    assert [x.time_ms for x in a] == [x.time_ms for x in b] != [x.time_ms for x in c]
    assert all(950 <= x.time_ms <= 1050 for x in a)


def test_convert_turns_an_events_file_into_the_same_timeline():
    events_text = textwrap.dedent("""\
        # TIME KIND FIELDS
        0.25  mesh from=3 data="hi"
        1.0   pin 4 high
        2.0   ble mac=AA:BB:CC:DD:EE:FF rssi=-60 hex=0201
        10.0  mesh from=2 data="x" every=5 until=55
        30.0  mesh from=4 hex=0102 count=5
        150ms pin 5 0
    """)
    toml_text = convert_events(events_text, "x.events")
    events = parse_events(events_text)
    timeline = parse_scenario(toml_text).timeline
    as_events = []
    for a in timeline:
        f = a.fields
        if a.kind == "mesh":
            as_events.append((a.time_ms, "mesh", f["from"], f["data"]))
        elif a.kind == "pin":
            as_events.append((a.time_ms, "pin", f["pin"], bytes((f["level"],))))
        else:
            as_events.append((a.time_ms, "ble", f["rssi"], f["mac"] + f["data"]))
    assert as_events == [(e.time_ms, e.kind, e.number, e.data) for e in events]


def test_the_example_in_the_docs_reads_and_has_every_kind():
    import os
    import re
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "simulator.md"), encoding="utf-8") as f:
        text = re.search(r"```toml\n(.*?)```", f.read(), re.S).group(1)
    sc = parse_scenario(text, "docs/simulator.md")
    kinds = {a.kind for a in sc.timeline}
    assert kinds == {"enter", "leave", "load", "message", "asset", "tap", "cpu_busy_until",
                     "temperature", "behaviour", "twilight", "mesh", "pin", "ble"}
    assert [d["device"] for d in sc.i2c] == ["tmp102", "register"]
