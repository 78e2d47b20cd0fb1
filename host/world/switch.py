"""The relay and the dimmer, and how bluenet decides what they do.

A model of bluenet's SwitchAggregator (override, behaviour and twilight states; toggle; smart-on;
switchcraft taps) over its SmartSwitch (intended state; dimmer first, relay when dimming is not
allowed; switch lock), as at crownstone/bluenet b4161ec3d: source/src/switch/cs_SwitchAggregator.cpp
(executeStateIntentionUpdate, updateState, resolveOverrideState, aggregatedBehaviourIntensity,
getStateIntentionSwitchcraft) and cs_SmartSwitch.cpp (set, resolveIntendedState, setDimmer,
setRelay), and the safe switch's error states (cs_SafeSwitch.cpp: isSafeToTurnRelayOn/Off,
isSafeToDim, forceSwitchOff, forceRelayOnAndDimmerOff) that the soft fuse sets
(host/world/softfuse.py). The dimmer's fade is the world's (the PWM the load gets,
host/world/world.py); the state here is set at once, as bluenet's is. Not modelled: the
dimmer's power-up check, the relay's accuracy flag, the temperature errors, multi-switch ownership (a microapp's CMD_SWITCH is never a
broadcast, so checkAndSetOwner always lets it through).
"""
from __future__ import annotations

from host.world.history import History

# bluenet's CMD_SWITCH values (cs_Packets.h:231-245) = the microapp's set values (structs.h).
OFF = 0
FULLY_ON = 100
TOGGLE = 0xFD
BEHAVIOUR = 0xFE
SMART_ON = 0xFF
DEFAULT_DIM_VALUE = 40  # cs_Config.h:199
DOUBLE_TAP_MS = 1000    # SWITCHCRAFT_DOUBLE_TAP_TIMEOUT_MS, cs_Config.h:196

# bluenet result codes the aggregator tells apart.
_SUCCESS = "success"
_NO_CHANGE = "no change"
_NO_ACCESS = "no access"
_UNSAFE = "unsafe"
# state_errors_t bits (cs_Packets.h:192-201).
OVER_CURRENT, OVER_CURRENT_DIMMER = 1, 2
_VALUE_NAMES = {TOGGLE: "toggle", BEHAVIOUR: "behaviour", SMART_ON: "smart_on"}

class Switch:
    def __init__(self, history: History, clock, dimmable: bool = False, locked: bool = False,
                 relay: bool = False, dimmer: int = 0, behaviour: int | None = None,
                 twilight: int | None = None, double_tap: bool = False,
                 default_dim_value: int = 0) -> None:
        self.history = history
        self.clock = clock
        self.allow_dimming = dimmable
        self.locked = locked
        self.relay = relay
        self.dimmer = dimmer
        # SmartSwitch::init: the intended state is the stored one.
        self.intended = FULLY_ON if relay else dimmer
        self.override: int | None = None
        self.behaviour = behaviour
        self.twilight = twilight
        self.aggregated: int | None = None
        self.double_tap = double_tap
        self.default_dim_value = default_dim_value
        self._last_tap_on_value = 0
        self._double_tap_until = -1
        self.errors = 0  # state_errors_t: what the soft fuse found

    # -- what the world sees -----------------------------------------------------------------
    @property
    def state(self) -> int:
        """bluenet's switch_state_t: dimmer in bits 0-6, relay in bit 7."""
        return (self.dimmer & 0x7F) | (0x80 if self.relay else 0)

    @property
    def intensity(self) -> int:
        """SmartSwitch::getCurrentIntensity: 100 with the relay on, else the dimmer."""
        return FULLY_ON if self.relay else self.dimmer

    # -- commands ----------------------------------------------------------------------------
    def command(self, value: int, source: str) -> None:
        """A CMD_SWITCH with this value (0-100, TOGGLE, BEHAVIOUR, SMART_ON) from `source`;
        "tap" is switchcraft (a user taps the wall switch)."""
        before = (self.relay, self.dimmer)
        self._execute(value, source)
        self._changed(before, source, value)

    def set_behaviour(self, value: int | None, source: str = "behaviour") -> None:
        """The active behaviour rule's intensity changed (None: no behaviour has an opinion);
        SwitchAggregator::update."""
        before = (self.relay, self.dimmer)
        previous, self.behaviour = self.behaviour, value
        changed = previous is not None and value is not None and previous != value
        self._update_state(changed)
        self._changed(before, source, None)

    def set_relay(self, on: bool, source: str) -> None:
        """CMD_SET_RELAY (control command RELAY): SmartSwitch::handleCommandSetRelay, past the
        aggregator; an intensity other than the intended one becomes the override
        (SwitchAggregator::handleSwitchStateChange)."""
        before = (self.relay, self.dimmer)
        self._set_relay(on)
        self._unexpected()
        self._changed(before, source, None)

    def set_dimmer(self, intensity: int, source: str) -> None:
        """CMD_SET_DIMMER (control command PWM): SmartSwitch::handleCommandSetDimmer."""
        before = (self.relay, self.dimmer)
        self._set_dimmer(min(intensity, FULLY_ON))
        self._unexpected()
        self._changed(before, source, None)

    def _unexpected(self) -> None:
        if self.intensity != self.intended:
            self.override = self.intensity

    def set_twilight(self, value: int | None) -> None:
        """The active twilight rule's intensity changed (None: none)."""
        before = (self.relay, self.dimmer)
        self.twilight = value
        self._update_state(False)
        self._changed(before, "twilight", None)

    # -- SwitchAggregator --------------------------------------------------------------------
    def _execute(self, value: int, source: str) -> None:
        if value == TOGGLE:
            current = self.intended
            if source == "tap":
                new = self._tap_intention(current, self._register_tap(current))
            else:
                new = SMART_ON if current == 0 else 0
            self._execute(new, source)
            return
        if value == BEHAVIOUR:
            self.override = None
        elif value == SMART_ON or value <= FULLY_ON:
            self.override = value
        result = self._update_state(False)
        if result not in (_SUCCESS, _NO_CHANGE):
            self.override = self.intensity

    def _update_state(self, allow_override_reset: bool) -> str:
        reset = False
        if self.override is not None and self.behaviour is not None and self.aggregated is not None:
            override_on, aggregated_on = self.override != 0, self.aggregated != 0
            behaviour_on = self.behaviour != 0
            reset = (override_on == aggregated_on and behaviour_on != aggregated_on
                     and allow_override_reset)
        if self.override is not None and not reset:
            self.aggregated = self._resolve_override(self.override)
        elif self.behaviour is not None:
            self.aggregated = self._aggregated_behaviour()
        # else: neither has an opinion, the aggregated state stays.
        result = _NO_CHANGE
        if self.aggregated is not None:
            result = self._smart_set(self.aggregated)
            if reset:
                self.override = None if result == _SUCCESS else self.intensity
        return result

    def _resolve_override(self, override: int) -> int:
        if override != SMART_ON:
            return override
        b = self.behaviour if self.behaviour else 0
        t = self.twilight if self.twilight else 0
        if b and t:
            return min(b, t)
        return b or t or FULLY_ON

    def _aggregated_behaviour(self) -> int:
        b, t = self.behaviour, self.twilight
        if b is not None and t is not None:
            return min(b, t)
        if b is not None:
            return b
        return t if t is not None else FULLY_ON

    def _register_tap(self, current: int) -> bool:
        if current > 0:
            self._last_tap_on_value = current
        now = self.clock.now_ms
        double = self.double_tap and now <= self._double_tap_until
        self._double_tap_until = -1 if double else now + DOUBLE_TAP_MS
        return double and self._last_tap_on_value != 0

    def _tap_intention(self, current: int, double: bool) -> int:
        if not double:
            return 0 if current != 0 else SMART_ON
        if self._last_tap_on_value != FULLY_ON:
            return FULLY_ON
        resolved = self._resolve_override(SMART_ON)
        if 0 < resolved < FULLY_ON:
            return SMART_ON
        return min(self.default_dim_value, FULLY_ON) if self.default_dim_value else DEFAULT_DIM_VALUE

    # -- SmartSwitch -------------------------------------------------------------------------
    def _smart_set(self, intensity: int) -> str:
        self.intended = min(intensity, FULLY_ON)
        return self._resolve_intended()

    def _resolve_intended(self) -> str:
        intended = self.intended
        if intended == 0:
            result = self._set_dimmer(0)
            relay = self._set_relay(False)
            return relay if relay != _SUCCESS else result
        if intended == FULLY_ON:
            if self.relay:
                return _SUCCESS
            result = self._set_dimmer(FULLY_ON)
            if result != _SUCCESS:
                result = self._set_relay(True)
                self._set_dimmer(0)
            return result
        result = self._set_dimmer(intended)
        if result == _SUCCESS:
            result = self._set_relay(False)
            if result != _SUCCESS:
                self._set_dimmer(0)
        else:  # dimming not allowed (or locked): the relay instead
            self._set_relay(True)
            self._set_dimmer(0)
        return result

    def _set_dimmer(self, intensity: int) -> str:
        if not self.allow_dimming and intensity > 0:
            return _NO_ACCESS
        if self.dimmer == intensity:
            return _SUCCESS
        if self.locked:
            return _NO_ACCESS
        if intensity > 0 and self.errors:  # SafeSwitch::isSafeToDim: no error at all
            return _UNSAFE
        self.dimmer = intensity
        return _SUCCESS

    def _set_relay(self, on: bool) -> str:
        if self.relay == on:
            return _SUCCESS
        if self.locked:
            return _NO_ACCESS
        dimmer_error = self.errors & OVER_CURRENT_DIMMER
        # isSafeToTurnRelayOn: a dimmer error, or no overload; isSafeToTurnRelayOff: no dimmer error
        if (on and not dimmer_error and self.errors & OVER_CURRENT) or (not on and dimmer_error):
            return _UNSAFE
        self.relay = on
        return _SUCCESS

    # -- SafeSwitch's forced states (the soft fuse) -------------------------------------------
    def force_off(self) -> bool:
        """forceSwitchOff: the dimmer off, and the relay unless a dimmer error holds it on.
        True when the relay went off (EVT_SWITCH_FORCED_OFF), False when only the dimmer did."""
        before = (self.relay, self.dimmer)
        self.dimmer = 0
        relay_off = not self.errors & OVER_CURRENT_DIMMER
        if relay_off:
            self.relay = False
        self._unexpected()
        self._changed(before, "softfuse", None)
        return relay_off

    def force_relay_on_dimmer_off(self) -> None:
        """forceRelayOnAndDimmerOff: the relay on, the dimmer off, dimming no longer allowed
        (CONFIG_DIMMING_ALLOWED = 0, and SmartSwitch::handleAllowDimmingSet resolves again)."""
        before = (self.relay, self.dimmer)
        self.relay, self.dimmer = True, 0
        self._unexpected()
        self.allow_dimming = False
        self._resolve_intended()
        self._changed(before, "softfuse", None)

    def _changed(self, before: tuple[bool, int], source: str, value: int | None) -> None:
        """Record a change of the relay or dimmer (a command that changes nothing is not one)."""
        now = self.clock.now_ms
        fields: dict[str, object] = {"relay": int(self.relay), "dimmer": self.dimmer}
        if value is not None:
            fields["value"] = _VALUE_NAMES.get(value, value)
        if (self.relay, self.dimmer) != before:
            self.history.record(now, "switch", source, **fields)
