"""The soft fuse (bluenet's over-current protection, host/world/softfuse.py): over 16 A for 101
mains periods the switch is forced off; through the dimmer over 1 A for 21 periods the relay is
forced on and dimming refused; a microapp cannot clear the errors."""
import textwrap

from host.simulator import Simulation
from host.world.scenario import parse_scenario

APP = """
    from microapp import *
    def on_event(kind, data):
        print("event", kind, bytes(data).hex())
    def setup():
        BluenetInternal.setEventHandler(on_event)
        for kind in {subscribe!r}:
            BluenetInternal.subscribe(kind)
    first = True
    def loop():
        global first
        t = millis()
        if first:  # 0.1 s; 0.2 s when setup() makes over 4 requests
            first = False
            {at_100}
        if t == 3000:
            {at_3000}
        if t == 3500:
            {at_3500}
"""


def run(world, at_100, at_3000="pass", at_3500="pass", subscribe=(), ticks=40):
    app = textwrap.dedent(APP.format(subscribe=tuple(subscribe), at_100=at_100, at_3000=at_3000, at_3500=at_3500))
    summary = Simulation(app, scenario=parse_scenario(textwrap.dedent(world))).run(ticks)
    assert summary["host_errors"] == 0 and summary["faults"] == []
    return summary


def switches(summary):
    return [(h["t"], h["source"], h["relay"], h["dimmer"]) for h in summary["world"]["history"]
            if h["what"] == "switch"]


def fuses(summary):
    return [(h["t"], h["fuse"], h["ma"]) for h in summary["world"]["history"] if h["what"] == "softfuse"]


HEATER = "[load]\nwatts = {watts}\n"


def test_over_16_amps_for_101_mains_periods_forces_the_switch_off_for_good():
    s = run(HEATER.format(watts=4000), "CrownstoneSwitch.turnOn(False)", at_3000="CrownstoneSwitch.turnOn(False)")
    # on at 0.1 s; the first period that sees it ends at 0.12 s; the 101st at 2.12 s
    assert fuses(s) == [(2.12, "over_current", 4_000_000 // 230)]
    assert switches(s) == [(0.1, "microapp", 1, 0), (2.12, "softfuse", 0, 0)]   # 3 s: refused
    assert s["world"]["switch"] == {"relay": 0, "dimmer": 0, "state": 0}
    assert s["world"]["power_mw"] == 0


def test_a_load_within_the_relays_rating_never_trips():
    s = run(HEATER.format(watts=3680), "CrownstoneSwitch.turnOn(False)", ticks=100)
    assert fuses(s) == [] and s["world"]["switch"]["relay"] == 1


def test_the_count_starts_again_when_the_current_drops_in_between():
    world = 'timeline = [ { t = 1.5, load = 100 }, { t = 2, load = 4000 } ]\n' + HEATER.format(watts=4000)
    s = run(world, "CrownstoneSwitch.turnOn(False)", ticks=45)
    assert fuses(s) == [(4.02, "over_current", 4_000_000 // 230)]   # 2.02 s after 2 s


def test_switching_off_in_time_keeps_the_fuse_whole():
    world = 'timeline = [ { t = 2.1, tap = true } ]\n' + HEATER.format(watts=4000)  # off at 2.1 s
    s = run(world, "CrownstoneSwitch.turnOn(False)")
    assert fuses(s) == [] and switches(s)[-1] == (2.1, "tap", 0, 0)


def test_a_subscribed_app_sees_the_error_the_forced_switch_then_the_event():
    s = run(HEATER.format(watts=4000), "CrownstoneSwitch.turnOn(False)", subscribe=(139, 129, 325, 316))
    events = [(t, text) for t, text in s["log"] if text.startswith("event")]
    # setup()'s 5 requests take two entries: on at 0.2 s, tripped at 2.22 s
    assert events == [(0.2, "event 129 80"), (2.22, "event 139 01000000"), (2.22, "event 129 00"),
                      (2.22, "event 325 ")]
    # ... and EVT_CURRENT_USAGE_ABOVE_THRESHOLD: a fourth interrupt in the tick, throttled
    assert s["interrupts"]["throttled"] == 1
    s = run(HEATER.format(watts=4000), "CrownstoneSwitch.turnOn(False)", subscribe=(316,))
    assert [(t, text) for t, text in s["log"] if text.startswith("event")] == [(2.12, "event 316 ")]


DIMMABLE = "[load]\nwatts = {watts}\ndimmable = true\n"


def test_over_1_amp_through_the_dimmer_forces_the_relay_on_and_dimming_off():
    # 300 W through the dimmer at 100 %: 1304 mA. Dimmed at 0.2 s (setup() takes two entries),
    # the PWM fades up 8 every 30 ms from 0.21 s: over 1 A (80 %) at 0.48 s, so the first period
    # over ends at 0.50 s and the 21st at 0.90 s
    s = run(DIMMABLE.format(watts=300), "CrownstoneSwitch.dim(100)", at_3000="CrownstoneSwitch.dim(30)",
            at_3500="CrownstoneSwitch.turnOff()", subscribe=(139, 54, 326, 324, 317))
    assert fuses(s) == [(0.9, "over_current_dimmer", 1304)]
    # dimming is refused from then on (the relay instead), and the relay may not go off
    assert switches(s) == [(0.2, "microapp", 0, 100), (0.9, "softfuse", 1, 0)]
    assert s["world"]["switch"] == {"relay": 1, "dimmer": 0, "state": 0x80}
    events = [(t, text) for t, text in s["log"] if text.startswith("event")]
    assert events == [(0.9, "event 139 02000000"), (0.9, "event 54 00"), (0.9, "event 326 ")]
    assert s["interrupts"]["throttled"] == 2  # EVT_DIMMER_FORCED_OFF, then ..._THRESHOLD_DIMMER
    s = run(DIMMABLE.format(watts=300), "CrownstoneSwitch.dim(100)", subscribe=(324, 317))
    assert [(t, text) for t, text in s["log"] if text.startswith("event")] == [
        (0.8, "event 324 "), (0.8, "event 317 ")]  # dimmed at 0.1 s: over 1 A at 0.39 s


def test_dimming_a_load_under_1_amp_does_not_trip():
    s = run(DIMMABLE.format(watts=300), "CrownstoneSwitch.dim(50)")  # 150 W: 652 mA
    assert fuses(s) == [] and s["world"]["switch"]["dimmer"] == 50


def test_a_load_that_grows_while_dimmed_trips_the_dimmer_fuse():
    # the dimmer at 100 % (bluenet dims a dimmable load even at 100 %): 100 W, then 300 W at 1 s
    world = 'timeline = [ { t = 1, load = 300 } ]\n' + DIMMABLE.format(watts=100)
    s = run(world, "CrownstoneSwitch.turnOn(False)", ticks=20)
    assert fuses(s) == [(1.42, "over_current_dimmer", 1304)]
    assert switches(s) == [(0.1, "microapp", 0, 100), (1.42, "softfuse", 1, 0)]
