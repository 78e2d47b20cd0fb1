"""The switch model against bluenet's SwitchAggregator and SmartSwitch rules (host/world/switch.py
names the functions; each case below is one branch there)."""
import pytest

from host.clock import VirtualClock
from host.world import switch as S
from host.world.history import History


def make(**kw):
    clock = VirtualClock()
    history = History()
    return S.Switch(history, clock, **kw), history, clock


def state(sw):
    return (int(sw.relay), sw.dimmer)


@pytest.mark.parametrize("dimmable, value, expected", [
    (True, S.FULLY_ON, (0, 100)),   # SmartSwitch tries the dimmer first for fully on
    (False, S.FULLY_ON, (1, 0)),    # dimming not allowed: the relay
    (True, 40, (0, 40)),
    (False, 40, (1, 0)),            # a dim value on a non-dimmable load: relay on, dimmer 0
    (True, S.OFF, (0, 0)),
    (False, S.SMART_ON, (1, 0)),    # no behaviour: smart-on is fully on
])
def test_set_values_as_smart_switch_resolves_them(dimmable, value, expected):
    sw, _, _ = make(dimmable=dimmable)
    sw.command(value, "microapp")
    assert state(sw) == expected


def test_non_dimmable_dim_overrides_with_the_current_intensity():
    # executeStateIntentionUpdate: updateState fails (ERR_NO_ACCESS from setDimmer), so the
    # override becomes the current intensity: 100, and a toggle then turns it off.
    sw, _, _ = make(dimmable=False)
    sw.command(30, "microapp")
    assert sw.override == 100 and sw.intended == 30
    sw.command(S.TOGGLE, "microapp")
    assert state(sw) == (0, 0)


def test_a_relay_that_is_on_stays_on_for_fully_on_even_when_dimmable():
    sw, _, _ = make(dimmable=True, relay=True)
    sw.command(S.FULLY_ON, "microapp")
    assert state(sw) == (1, 0)
    sw.command(50, "microapp")  # dimmed: dimmer set, relay off
    assert state(sw) == (0, 50)


def test_toggle_from_a_microapp_goes_off_and_smart_on():
    sw, _, _ = make(dimmable=True, behaviour=60)
    sw.command(S.TOGGLE, "microapp")
    assert state(sw) == (0, 60)  # off -> smart on -> the behaviour's value
    sw.command(S.TOGGLE, "microapp")
    assert state(sw) == (0, 0)


def test_smart_on_takes_the_lower_of_behaviour_and_twilight():
    sw, _, _ = make(dimmable=True, behaviour=80, twilight=30)
    sw.command(S.SMART_ON, "microapp")
    assert state(sw) == (0, 30)


def test_smart_on_ignores_a_behaviour_of_zero():
    sw, _, _ = make(dimmable=True, behaviour=0)
    sw.command(S.SMART_ON, "microapp")
    assert state(sw) == (0, 100)


def test_as_per_behaviour_clears_the_override_and_follows_the_behaviour():
    sw, _, _ = make(dimmable=True, behaviour=70)
    sw.command(20, "microapp")
    assert sw.override == 20 and state(sw) == (0, 20)
    sw.command(S.BEHAVIOUR, "microapp")
    assert sw.override is None and state(sw) == (0, 70)


def test_as_per_behaviour_without_a_behaviour_keeps_the_state():
    # updateState: neither override nor behaviour has an opinion: the aggregated state stays.
    sw, _, _ = make(dimmable=False)
    sw.command(S.FULLY_ON, "microapp")
    sw.command(S.BEHAVIOUR, "microapp")
    assert state(sw) == (1, 0)


def test_a_behaviour_change_resets_a_matching_override():
    # updateState(allowOverrideReset): the override agreed with the aggregated state and the
    # behaviour now wants the other one: the override goes, the behaviour rules.
    sw, _, _ = make(dimmable=False, behaviour=100)
    sw.command(S.FULLY_ON, "microapp")
    sw.set_behaviour(0)
    assert sw.override is None and state(sw) == (0, 0)


def test_an_override_holds_until_a_behaviour_change_goes_against_it():
    sw, _, _ = make(dimmable=False, behaviour=100)
    sw.command(S.OFF, "microapp")  # the user overrode the behaviour: off
    sw.set_behaviour(100)          # unchanged value: no reset
    sw.set_behaviour(0)            # behaviour agrees with the override now
    sw.set_behaviour(100)          # behaviour wants on; the override (off) matches aggregated (off)
    assert state(sw) == (1, 0) and sw.override is None


def test_a_locked_switch_does_not_move():
    sw, _, _ = make(dimmable=False, locked=True)
    sw.command(S.FULLY_ON, "microapp")
    assert state(sw) == (0, 0)


def test_taps_toggle_and_a_double_tap_goes_fully_on_then_dims():
    sw, _, clock = make(dimmable=True, double_tap=True, behaviour=None)
    sw.command(S.TOGGLE, "tap")          # off -> smart on: 100 (dimmer)
    assert state(sw) == (0, 100)
    clock.set(5000)
    sw.command(S.TOGGLE, "tap")          # on -> off
    assert state(sw) == (0, 0)
    clock.set(5500)
    sw.command(S.TOGGLE, "tap")          # double tap: last on value was 100 -> the default dim value
    assert state(sw) == (0, S.DEFAULT_DIM_VALUE)
    clock.set(9000)
    sw.command(S.TOGGLE, "tap")          # a single tap again: off
    assert state(sw) == (0, 0)


def test_without_double_tap_enabled_quick_taps_just_toggle():
    sw, _, clock = make(dimmable=True)
    for t in (0, 200, 400):
        clock.set(t)
        sw.command(S.TOGGLE, "tap")
    assert state(sw) == (0, 100)


def test_state_byte_is_bluenets_switch_state_t():
    sw, _, _ = make(dimmable=True)
    sw.command(37, "microapp")
    assert sw.state == 37
    sw2, _, _ = make(relay=True)
    assert sw2.state == 0x80


def test_changes_are_recorded_with_time_and_source_and_no_change_is_not():
    sw, history, clock = make(dimmable=False)
    clock.set(1200)
    sw.command(S.FULLY_ON, "microapp")
    sw.command(S.FULLY_ON, "microapp")
    clock.set(3000)
    sw.command(S.TOGGLE, "tap")
    assert history.of("switch") == [(1200, "microapp", {"relay": 1, "dimmer": 0, "value": 100}),
                                     (3000, "tap", {"relay": 0, "dimmer": 0, "value": "toggle"})]
