"""BLUENET_EVENT: bluenet forwards every event its dispatcher carries whose type an app
subscribed to (MicroappInterruptHandler::handleEvent ends in onBluenetEvent for every type).
Per event type the world raises: a subscribed app gets it with bluenet's bytes, in bluenet's
order; an app subscribed to another type gets nothing."""
import textwrap

import pytest

from host.simulator import Simulation
from host.world.scenario import parse_scenario

APP = """
    from microapp import *
    def control(kind, payload):
        m2b = getOutgoingMessagePayload()
        m2b[0] = 10  # CONTROL_COMMAND
        m2b[1] = 2   # REQUEST
        m2b[2] = 5
        m2b[3:5] = kind.to_bytes(2, "little")
        m2b[5:7] = len(payload).to_bytes(2, "little")
        m2b[7:7 + len(payload)] = payload
        return sendMessage(7 + len(payload))
    def on_event(kind, data):
        print("event", kind, data.hex())
    def setup():
        BluenetInternal.setEventHandler(on_event)
        for kind in {subscribe!r}:
            BluenetInternal.subscribe(kind)
    def loop():
        t = millis()
        if t == 200:
            {at_200}
        if t == 60300:
            {at_60300}
"""
WORLD = """
    timeline = [ { t = 0.5, enter = "hall" }, { t = 0.8, leave = "hall" } ]
    [stone]
    id = 7
    uptime_s = 60
    [load]
    watts = 100
    [rooms]
    hall = 5
    [people]
    ann = 2
"""
POSIX = 1_700_000_000


def events(subscribe, at_200="pass", at_60300="pass", ticks=20, world=WORLD):
    app = textwrap.dedent(APP.format(subscribe=(subscribe,), at_200=at_200, at_60300=at_60300))
    summary = Simulation(app, scenario=parse_scenario(textwrap.dedent(world))).run(ticks)
    assert summary["host_errors"] == 0 and summary["faults"] == []
    return [(t, int(text.split()[1]), text.split()[2] if len(text.split()) > 2 else "")
            for t, text in summary["log"] if text.startswith("event")]


def le32(v):
    return v.to_bytes(4, "little").hex()


SWITCH_ON = "CrownstoneSwitch.turnOn(False)"
CASES = {
    # the switch: the aggregator's own events come first, the dispatched command last
    "STATE_SWITCH_STATE": (129, SWITCH_ON, "pass", [(0.2, "80")]),
    "EVT_BEHAVIOUR_OVERRIDDEN": (434, SWITCH_ON, "pass", [(0.2, "01")]),
    "CMD_SWITCH by the SWITCH request": (279, SWITCH_ON, "pass", [(0.2, "64")]),
    "CMD_SWITCH by the control command": (279, 'control(20, b"\\xfd")', "pass", [(0.2, "fd")]),
    "CMD_SET_RELAY": (280, 'control(23, b"\\x05")', "pass", [(0.2, "01")]),
    "CMD_SET_DIMMER": (281, 'control(22, b"\\x32")', "pass", [(0.2, "32")]),
    "CMD_MULTI_SWITCH": (282, 'control(21, b"\\x02\\x07\\x64\\x09\\x00")', "pass", [(0.2, "0764"), (0.2, "0900")]),
    "CMD_SEND_MESH_MSG_MULTI_SWITCH": (399, 'control(21, b"\\x02\\x07\\x64\\x09\\x00")', "pass", [(0.2, "0900")]),
    # time: CMD_SET_TIME whatever the result, EVT_TIME_SET (the time before) when it was set
    "CMD_SET_TIME": (468, f"control(30, ({POSIX}).to_bytes(4, 'little'))", "control(30, bytes(4))",
                     [(0.2, le32(POSIX)), (60.3, le32(0))]),
    "EVT_TIME_SET": (470, f"control(30, ({POSIX}).to_bytes(4, 'little'))",
                     f"control(30, ({POSIX + 5}).to_bytes(4, 'little'))", [(0.2, le32(0)), (60.3, le32(POSIX + 60))]),
    "STATE_SUN_TIME": (149, "control(34, (6 * 3600).to_bytes(4, 'little') + (21 * 3600).to_bytes(4, 'little'))",
                       "pass", [(0.2, le32(6 * 3600) + le32(21 * 3600))]),
    # presence: ann (profile 2) enters the hall (room 5) at 0.5 s and leaves at 0.8 s: her
    # record of the room expires 10 s later
    "EVT_PRESENCE_CHANGE": (452, "pass", "pass", [(0.5, "040205"), (0.5, "000000"), (0.5, "020205"),
                                                  (10.8, "050205"), (10.8, "010000"), (10.8, "030000")]),
    "EVT_PRESENCE_MUTATION": (449, "pass", "pass", [(0.5, "04")]),  # FirstUserEnterSphere; tickSecond dispatches none
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_subscribed_app_gets_the_event_with_bluenets_bytes(name):
    cs_type, at_200, at_60300, expected = CASES[name]
    ticks = 606 if at_60300 != "pass" else 110
    seen = events(cs_type, at_200, at_60300, ticks)
    assert [(t, data) for t, kind, data in seen] == expected
    assert {kind for _, kind, _ in seen} == {cs_type}
    assert events(1, at_200, at_60300, ticks) == []  # subscribed to another type: none


def test_a_switch_request_raises_the_aggregators_events_then_the_command():
    app = textwrap.dedent(APP.format(subscribe=(129, 434, 279), at_200=SWITCH_ON, at_60300="pass"))
    summary = Simulation(app, scenario=parse_scenario(textwrap.dedent(WORLD))).run(4)
    assert [text for _, text in summary["log"] if text.startswith("event")] == [
        "event 434 01", "event 129 80", "event 279 64"]


def test_a_switch_command_on_a_guidestone_is_still_dispatched():
    seen = events(279, SWITCH_ON, ticks=4, world='[stone]\ndevice = "guidestone"\n')
    assert seen == [(0.2, 279, "64")]


def test_the_power_measurement_comes_every_mains_period_and_the_throttle_keeps_three_a_tick():
    world = '[load]\nwatts = 100\nstandby_mw = 500\n[switch]\nstate = "on"\n'
    seen = events(131, ticks=6, world=world)
    assert {data for _, _, data in seen} == {le32(100_500)}
    per_tick = {}
    for t, _, _ in seen:
        per_tick[int(t * 1000 - 1) // 100] = per_tick.get(int(t * 1000 - 1) // 100, 0) + 1
    assert per_tick == {0: 3, 1: 3, 2: 3, 3: 3, 4: 3}  # 5 a tick raised, 3 a tick admitted
    assert [t for t, _, _ in seen][:4] == [0.02, 0.04, 0.06, 0.12]


def test_a_guidestone_measures_no_power():
    assert events(131, ticks=4, world='[stone]\ndevice = "guidestone"\n') == []


def test_evt_tick_comes_every_tick_with_bluenets_tick_count():
    seen = events(471, ticks=4, world="[stone]\nuptime_s = 60\n")
    assert seen == [(0.1, 471, le32(601)), (0.2, 471, le32(602)), (0.3, 471, le32(603))]


def test_a_periodic_event_stops_when_no_app_wants_it():
    s = Simulation(textwrap.dedent(APP.format(subscribe=(471,), at_200="pass", at_60300="pass")))
    s.run(3)
    assert s.world._periodic == {471}
    s.controller.disable()
    s.controller.registry.clear()  # as bluenet's clear() on Remove
    s.run(3)
    assert not s.world._periodic and s.world.next_ms > 10 ** 12
