"""The events file format."""
import pytest

from host.events import EventsError, parse_events


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


def test_count_every_until_repeat_an_event():
    events = parse_events("1.0 mesh from=2 data=x count=2 every=0.5 until=2")
    assert [e.time_ms for e in events] == [1000, 1000, 1500, 1500, 2000, 2000]


def test_jitter_is_drawn_from_the_seed():
    text = "1.0 mesh from=2 count=20 jitter=0.05"
    a, b, c = parse_events(text, seed=1), parse_events(text, seed=1), parse_events(text, seed=2)
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
