"""The examples (crownstone-microapp's blink, button interrupt, mesh send and receive, BLE scan with
a name filter, and ours) run with their events in the simulator and on the (virtual) board: the
same switch sequence, the same log, the same summary (conftest.on_both_links)."""
import os

import pytest

from host.events import parse_events

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = [("blink", 20), ("button", 30), ("mesh_echo", 300), ("mesh_poll", 30), ("ble_scan", 40),
            ("hello", 5), ("nested", 40)]


def read(name):
    with open(os.path.join(ROOT, "examples", name)) as f:
        return f.read()


@pytest.mark.slow
@pytest.mark.parametrize("name, ticks", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_each_example_runs_the_same_on_every_link(on_both_links, name, ticks):
    events_file = os.path.join(ROOT, "examples", name + ".events")
    events = parse_events(read(name + ".events")) if os.path.exists(events_file) else []

    def scenario(run):
        run.sim.events = sorted(events, key=lambda e: e.time_ms)
        run.sim.run(ticks)
        return run.log()

    seen = on_both_links(read(name + ".py"), scenario)
    assert seen.summary["requests"] and seen.summary["faults"] == []


def test_the_examples_do_what_their_docstrings_say(on_both_links):
    def scenario(run):
        run.sim.events = parse_events(read("button.events"))
        run.sim.run(30)
        return run.log(), run.sim.device.pin_changes

    log, pins = on_both_links(read("button.py"), scenario).result
    assert log == ["press 1", "press 2", "press 3"]  # the bouncing third press is one interrupt
    assert [level for _, pin, level in pins if pin == 14] == [1, 0, 1]
