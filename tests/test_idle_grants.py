"""Idle ticks for free (ours, limits.idle_grant): when nothing is due, one entry grants the app a
run of ticks and the runtime runs loop() tick after tick itself until its first request. Every
example gives the same summary, log and all, as tick by tick; and the switches are saved."""
import json
import os

import pytest

from host.events import parse_events
from host.limits import Limits
from host.simulator import Simulation, read_app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = [("hello", 50), ("blink", 80), ("button", 40), ("mesh_echo", 600), ("mesh_poll", 40),
            ("ble_scan", 50), ("nested", 60)]


def run(name, ticks, grant, isolate=False):
    """The example's summary as JSON, and how many times the host resumed the app."""
    events_path = os.path.join(ROOT, "examples", name + ".events")
    events = parse_events(open(events_path).read()) if os.path.exists(events_path) else []
    sim = Simulation(read_app(os.path.join(ROOT, "examples", name + ".py")), events,
                     limits=Limits(idle_grant=grant), isolate=isolate)
    resumes = [0]
    resume = sim.link.resume

    def counted():
        resumes[0] += 1
        resume()
    sim.link.resume = counted
    try:
        summary = sim.run(ticks)
    finally:
        getattr(sim.link, "close", lambda: None)()
    summary.pop("isolate", None)  # which kernel barriers the child has: --isolate's alone
    return json.dumps(summary, sort_keys=True), resumes[0]


@pytest.mark.parametrize("name, ticks", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_gives_the_same_summary_with_and_without_grants(name, ticks):
    (one_by_one, switches), (granted, fewer) = run(name, ticks, 1), run(name, ticks, 255)
    assert granted == one_by_one
    assert fewer <= switches


def test_an_idle_app_runs_its_ticks_in_few_switches_and_keeps_its_clock():
    source = "from microapp import *\ndef loop():\n    if millis() % 5000 == 0:\n        print('at', millis())\n"
    summaries = []
    for grant in (1, 255):
        sim = Simulation(source, limits=Limits(idle_grant=grant))
        switches = [0]
        resume = sim.link.resume
        sim.link.resume = lambda: (switches.__setitem__(0, switches[0] + 1), resume())
        summary = sim.run(2001)
        summaries.append((summary, switches[0]))
    (tick_by_tick, n1), (granted, n2) = summaries
    assert granted == tick_by_tick
    assert [text for _, text in granted["log"]] == [f"at {t}" for t in range(5000, 200001, 5000)]  # loop() from tick 1
    assert granted["ticks"] == 2001 and granted["entries"] == 2001
    assert n1 > 2000 and n2 * 10 < n1  # tick by tick a switch a tick; granted a few per log line


def test_a_trace_or_the_strict_call_limit_turns_grants_off():
    sim = Simulation("def loop():\n    pass\n", trace=lambda *a: None)
    sim.run(2)
    assert sim.controller.idle_ticks() == 1
    sim = Simulation("def loop():\n    pass\n", limits=Limits(call_duration_ms=20))
    sim.run(2)
    assert sim.controller.idle_ticks() == 1
    sim = Simulation("def loop():\n    pass\n")
    sim.run(2)
    assert sim.controller.idle_ticks() == 255


def test_a_grant_past_one_byte_is_refused_with_its_range():
    with pytest.raises(ValueError, match=r"idle_grant=256 is outside 0\.\.255"):
        Limits().with_overrides(["idle_grant=256"])


def test_an_app_that_hangs_after_idle_ticks_of_a_grant_is_stopped_as_tick_by_tick():
    source = "from microapp import *\ndef loop():\n    if millis() == 1500:\n        while True:\n            pass\n"
    summaries = [json.dumps(Simulation(source, limits=Limits(idle_grant=grant, watchdog_ms=100)).run(30),
                            sort_keys=True) for grant in (255, 1)]
    assert summaries[0] == summaries[1]
    assert json.loads(summaries[0])["faults"][0]["time_ms"] == 1500


# -- over --isolate's process link ------------------------------------------------------------
@pytest.mark.parametrize("name, ticks", EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_over_isolate_every_example_gives_the_same_summary_with_and_without_grants(name, ticks):
    one_by_one, switches = run(name, ticks, 1, isolate=True)
    granted, fewer = run(name, ticks, 255, isolate=True)
    assert granted == one_by_one
    assert granted == run(name, ticks, 255)[0]  # and as in the greenlet link
    assert fewer <= switches


def test_over_isolate_an_idle_app_runs_its_ticks_in_few_switches_as_in_the_greenlet_link():
    source = "from microapp import *\ndef loop():\n    if millis() % 5000 == 0:\n        print('at', millis())\n"
    runs = []
    for grant, isolate in ((1, True), (255, True), (255, False)):
        sim = Simulation(source, limits=Limits(idle_grant=grant), isolate=isolate)
        switches = [0]
        resume = sim.link.resume
        sim.link.resume = lambda: (switches.__setitem__(0, switches[0] + 1), resume())
        try:
            summary = sim.run(2001)
        finally:
            getattr(sim.link, "close", lambda: None)()
        summary.pop("isolate", None)
        runs.append((summary, switches[0]))
    (tick_by_tick, n1), (granted, n2), (greenlet, n3) = runs
    assert granted == tick_by_tick == greenlet
    assert n1 > 2000 and n2 * 10 < n1 and n2 == n3


SLOW_TICKS = """
import time
def loop():
    start = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), start) < 30:
        pass
"""


def test_over_isolate_a_grant_of_slow_ticks_is_no_hang_but_a_hang_within_one_is():
    # 20 ticks of 30 ms in one grant: 600 ms in one resume, past the 200 ms limit, but no tick
    # took longer than it: the watchdog counts the grant's ticks (the child counts its loop()s).
    limits = Limits(idle_grant=255, watchdog_ms=200)
    sim = Simulation(SLOW_TICKS, limits=limits, isolate=True)
    switches = [0]
    resume = sim.link.resume
    sim.link.resume = lambda: (switches.__setitem__(0, switches[0] + 1), resume())
    try:
        summary = sim.run(21)
        assert summary["faults"] == [] and summary["ticks"] == 21
        assert switches[0] < 5  # the ticks did run in grants
    finally:
        sim.link.close()
    hangs = SLOW_TICKS + "    if time.ticks_ms() > 0:\n        n = len(LOG)\n        LOG.append(n)\n        if n == 5:\n            while True:\n                pass\nLOG = []\n"
    sim = Simulation(hangs, limits=limits, isolate=True)
    try:
        summary = sim.run(21)
        assert summary["did_reboot"] and [f["where"] for f in summary["faults"]] == ["watchdog"]
    finally:
        sim.link.close()
