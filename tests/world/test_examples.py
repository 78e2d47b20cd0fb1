"""The world examples do what their docstrings say, asserted from their runs' summaries."""
import os

import pytest

from host.simulator import Simulation, read_app
from host.world.scenario import load_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(name, ticks):
    path = os.path.join(ROOT, "examples", name)
    sim = Simulation(read_app(path + ".py"), scenario=load_scenario(path + ".toml"))
    summary = sim.run(ticks)
    assert summary["faults"] == [] and summary["host_errors"] == 0
    return summary


def switches(summary):
    return [(h["t"], bool(h["relay"] or h["dimmer"])) for h in summary["world"]["history"]
            if h["what"] == "switch"]


def test_the_presence_light_is_on_exactly_while_the_kitchen_is_occupied_plus_two_minutes():
    summary = run("presence_light", 8000)
    occupied, intervals, start = False, [], None  # when room 3's bit was set, from the history
    for h in summary["world"]["history"]:
        if h["what"] == "presence":
            now = bool(int(h["mask"], 16) & 1 << 3)
            if now and not occupied:
                start = h["t"]
            elif occupied and not now:
                intervals.append((start, h["t"]))
            occupied = now
    assert intervals == [(20.0, 105.0), (305.0, 322.0), (500.0, 570.0)]  # leaving + 10 s
    expected = []
    for a, b in intervals:
        expected += [(a, True), (b + 120, False)]
    got = [s for s in switches(summary) if s[0] > 0]   # the turnOff() in setup() changes nothing
    assert [on for _, on in got] == [on for _, on in expected]
    for (t, _), (want, on) in zip(got, expected):
        # polled once a loop (a second of delay plus the loop's tick)
        assert want <= t <= want + 1.2 if on else want - 1.2 <= t <= want + 1.2


def test_the_power_guard_trips_at_the_threshold_and_tells_the_hub():
    summary = run("power_guard", 1200)
    history = summary["world"]["history"]
    above = [h["t"] for h in history if h["what"] == "load" and h["watts"] > 2000]
    assert above == [30.0]
    trips = [t for t, on in switches(summary) if not on]
    assert len(trips) == 2
    assert 31.0 <= trips[0] <= 32.3           # the second sample above 2 kW
    assert 61.0 <= trips[1] <= 62.3           # switched back on by hand at 60 s: trips again
    out = [h["text"] for h in history if h["what"] == "message_out"]
    assert len(out) == 2 and all(2590 <= int(text.split()[-2]) <= 2610 for text in out)  # noise
    # the 1.2 kW kettle alone never tripped it, nor the 150 W load after the user's second tap
    assert switches(summary)[-1] == (90.0, True)


def test_the_thermostat_keeps_the_room_between_its_limits():
    summary = run("thermostat", 48_000)
    log = [(t, text) for t, text in summary["log"]]
    heats = [float(text.split()[-1]) for _, text in log if text.startswith("heating")]
    cools = [float(text.split()[-1]) for _, text in log if text.startswith("warm enough")]
    assert heats[0] == 16.0 and all(c < 20.5 for c in heats) and all(c > 21.5 for c in cools)
    assert len(heats) >= 8 and len(cools) >= 8
    # the open window (ambient 8 C) makes the heater run longer: the on stretches grow
    on = switches(summary)
    stretches = [(b[0] - a[0], a[0], b[0]) for a, b in zip(on, on[1:]) if a[1] and not b[1]]
    before = [d for d, t, _ in stretches if 600 < t < 2400]
    during = [d for d, t, end in stretches if 2400 <= t and end < 3000]
    assert before and during and min(during) > max(before) * 1.5
    reads = [h for h in summary["world"]["history"] if h["what"] == "i2c" and h["op"] == "read"]
    assert all(h["result"] == "ack" and h["address"] == "0x48" for h in reads)


@pytest.mark.parametrize("name", ["presence_light", "power_guard", "thermostat"])
def test_each_example_has_a_docstring_and_a_scenario(name):
    with open(os.path.join(ROOT, "examples", name + ".py"), encoding="utf-8") as f:
        assert f.read().startswith('"""')
    load_scenario(os.path.join(ROOT, "examples", name + ".toml"))
