"""The events file format, and its events made lazily in time order."""
import itertools
import tracemalloc

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from host.events import Event, EventsError, _strip_comment, _words, in_time_order, parse_events
from host.simulator import Simulation


def test_events_of_each_kind_in_time_order():
    events = parse_events("""
        # a comment
        2.0  pin 4 high
        0.25 mesh from=3 data="a # b"   # a comment
        150ms ble mac=AA:BB:CC:DD:EE:FF rssi=-60 hex=0201
        1s   mesh from=4 hex=01ff
    """)
    assert [(e.time_ms, e.kind, e.number, e.data) for e in events] == [
        (150, "ble", -60, bytes.fromhex("aabbccddeeff0201")),
        (250, "mesh", 3, b"a # b"),
        (1000, "mesh", 4, b"\x01\xff"),
        (2000, "pin", 4, b"\x01"),
    ]


@pytest.mark.parametrize("text, ms", [("150ms", 150), ("12s", 12000), ("3", 3000), ("0.25", 250),
                                      ("1.5ms", 2), (".5", 500), ("2.", 2000), ("0", 0)])
def test_times_in_seconds_or_with_a_unit(text, ms):
    assert next(iter(parse_events(f"{text} pin 1 high"))).time_ms == ms


@pytest.mark.parametrize("text", ["ms", "s", "5mss", "1e3", "inf", "-1", "1_000", "٣"])
def test_what_is_not_a_time(text):
    with pytest.raises(EventsError, match="is not a time"):
        parse_events(f"{text} pin 1 high")


def test_count_every_until_repeat_an_event():
    events = parse_events("1.0 mesh from=2 data=x count=2 every=0.5 until=2")
    assert [e.time_ms for e in events] == [1000, 1000, 1500, 1500, 2000, 2000]


def test_jitter_is_drawn_from_the_seed():
    text = "1.0 mesh from=2 count=20 jitter=0.05"
    a, b, c = (list(parse_events(text, seed=seed)) for seed in (1, 1, 2))
    assert a == b and a != c
    assert all(950 <= e.time_ms <= 1050 for e in a)


@pytest.mark.parametrize("line, message", [
    ("x mesh from=2", "'x' is not a time"),
    ("1.0", "expected TIME KIND FIELDS"),
    ("1.0 mesh data=x", "mesh needs from=STONE_ID"),
    ("1.0 mesh from=999", "from=999 is outside 1..255"),
    ("1.0 mesh from=2 data=12345678", "8 bytes of data, at most 7"),
    ("1.0 mesh from=2 hex=zz", "hex= is not hexadecimal"),
    ("1.0 mesh from=2 data=a hex=01", "give data= or hex=, not both"),
    ("1.0 pin 4 up", "pin level 'up' is not high or low"),
    ("1.0 pin high", "expected 'pin N high|low'"),
    ("1.0 ble mac=12:34", "is not a MAC address"),
    ("1.0 mesh from=2 every=1", "every= needs until="),
    ("1.0 mesh from=2 speed=3", "unknown field(s) speed for mesh"),
    ('1.0 mesh from=2 data="open', "No closing quotation"),
])
def test_errors_name_the_line_and_the_problem(line, message):
    with pytest.raises(EventsError) as e:
        parse_events("# first line\n" + line, source="my.events")
    assert str(e.value).startswith("my.events:2: ") and message in str(e.value)


def test_plain_lines_split_as_shlex_would():
    plain = "0.5 mesh from=3 hex=0102 # note\n1 pin 4 high\n2 ble mac=AA:BB:CC:DD:EE:FF rssi=-60"
    quoted = "0.5 mesh from='3' hex=\"0102\" # note\n1 pin 4 \"high\"\n2 ble mac=AA:BB:CC:DD:EE:FF rssi=-6\\0"
    assert list(parse_events(plain)) == list(parse_events(quoted))
    assert list(parse_events('1 mesh from=2 data="a b"\n1 mesh from=2 data=a\\ b')) == [
        Event(1000, "mesh", 2, b"a b")] * 2


@given(st.text(alphabet='ab =#"\t', max_size=30))
def test_the_fast_splits_give_shlex_words(line):
    try:
        expected = shlex.split(_strip_comment(line))
    except ValueError:
        with pytest.raises(EventsError, match="No closing quotation"):
            _words(line, "f", 1)
    else:
        assert _words(line, "f", 1) == expected


def test_same_time_events_keep_file_order_across_repeating_lines():
    events = parse_events("""
        1.0 mesh from=1
        0.5 mesh from=2 every=0.5 until=1.5
        1.0 mesh from=3 count=2
        1.0 mesh from=4
    """)
    assert [(e.time_ms, e.number) for e in events] == [
        (500, 2), (1000, 1), (1000, 2), (1000, 3), (1000, 3), (1000, 4), (1500, 2)]


def test_jittered_repeats_come_in_time_order_and_again_the_same():
    events = parse_events("0 mesh from=2 count=3 every=0.1 until=20 jitter=0.25\n10 pin 1 high count=5 jitter=1")
    made = list(events)
    times = [e.time_ms for e in made]
    assert times == sorted(times) and len(made) == 3 * 201 + 5
    assert made == list(events)  # iterating again makes the same events
    assert sorted(e.time_ms for e in made if e.kind == "pin") != [10_000] * 5
    assert all(9000 <= e.time_ms <= 11000 for e in made if e.kind == "pin")


def test_count_and_every_are_made_as_taken_not_held():
    tracemalloc.start()
    try:
        events = parse_events("0 mesh from=2 count=10000000\n0 pin 1 high every=0.001 until=100000 jitter=0.01")
        first = list(itertools.islice(iter(events), 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [e.kind for e in first] == ["mesh"] * 20
    assert peak < 1_000_000  # 10 million copies and 100 million times: none of them held


def test_the_simulation_takes_events_as_it_goes():
    app = "from microapp import *\ndef on(msg):\n    pass\ndef setup():\n    Mesh.setIncomingMeshMsgHandler(on)\n" \
          "    Mesh.listen()\ndef loop():\n    pass\n"
    sim = Simulation(app, parse_events("0.05 mesh from=2 data=x every=0.1 until=10000000"))
    summary = sim.run(30)
    assert summary["interrupts"]["generated"] == 29  # one between each two ticks, none early


def test_other_iterables_are_sorted():
    events = [Event(300, "pin", 1, b"\x01"), Event(100, "pin", 2, b"\x01")]
    assert [e.time_ms for e in in_time_order(events)] == [100, 300]


def test_events_set_on_a_simulation_go_in_from_the_next_tick():
    sim = Simulation("def loop():\n    pass\n")
    sim.run(3)
    sim.events = parse_events("0 pin 1 high\n1 pin 2 high every=0.1 until=10")
    assert next(iter(sim.events)) == Event(0, "pin", 1, b"\x01")
    sim.run(1)
    assert sim.device.levels[1] == 1 and sim.device.levels[2] == 0
    sim.run(8)
    assert sim.device.levels[2] == 1
