"""The world of one stone, built from a scenario and moved along by its timeline.

The simulator asks `due(t)` before each tick (one comparison when nothing is due: a quiet tick
costs nothing) and `advance(t)` applies what is due, each at its own time. What the microapp
must hear of (a mesh message, a pin edge, a scan, a message from a phone, an asset) goes to
`outside(action)`; what bluenet dispatches internally goes to `emit(cs_type, data)` listeners
(BLUENET_EVENT subscriptions). Every change lands in `history`.
"""
from __future__ import annotations

import heapq
from typing import Callable

from host.world import switch as S
from host.world.history import History
from host.world.i2c import Bus, RegisterDevice, Tmp102
from host.world.load import Load
from host.world.presence import Presence
from host.world.scenario import Action, Scenario
from host.world.softfuse import MAIN, VOLTS, Softfuse

NEVER = 1 << 62
# CS_TYPE numbers (cs_Types.h) of the events the world dispatches (a microapp may subscribe).
STATE_SWITCH_STATE = 129
STATE_POWER_USAGE = 131
STATE_SUN_TIME = 149
CMD_SWITCH = 279
CMD_SET_RELAY = 280
CMD_SET_DIMMER = 281
CMD_MULTI_SWITCH = 282
CMD_SEND_MESH_MSG_MULTI_SWITCH = 399
EVT_BEHAVIOUR_OVERRIDDEN = 434
CMD_SET_TIME = 468
EVT_TIME_SET = 470
EVT_TICK = 471
CONFIG_DIMMING_ALLOWED = 54
STATE_ERRORS = 139
EVT_CURRENT_USAGE_ABOVE_THRESHOLD = 316
EVT_CURRENT_USAGE_ABOVE_THRESHOLD_DIMMER = 317
EVT_DIMMER_FORCED_OFF = 324
EVT_SWITCH_FORCED_OFF = 325
EVT_RELAY_FORCED_ON = 326
# The events bluenet dispatches on its own clock, and how often: the power measurement is set
# after each mains period's ADC buffer (PowerSampling::powerSampleAdcDone, 50 Hz), EVT_TICK each
# tick (Crownstone::tick, TICK_INTERVAL_MS). Scheduled only while an app subscribes to them.
PERIODIC_MS = {STATE_POWER_USAGE: 20, EVT_TICK: 100}
# The dimmer fades (SmartSwitch::setDimmer fades by default): PWM::updateValues moves the PWM
# value DIMMER_SOFT_ON_SPEED (cs_Config.h:217) towards the target every
# numPeriodsBeforeValueUpdate (3) PWM periods of PWM_PERIOD (10 ms): 0 to 100 in 390 ms.
FADE_STEP = 8
FADE_EVERY_MS = 30
SET_TIME_THROTTLE_MS = 60_000       # SystemTime THROTTLE_SET_TIME_TICKS: 120 ticks of 500 ms
SET_SUN_TIME_THROTTLE_MS = 1_800_000  # THROTTLE_SET_SUN_TIMES_TICKS: 3600 ticks of 500 ms

Emit = Callable[[int, bytes], None]


class World:
    def __init__(self, scenario: Scenario | None = None, clock=None, seed: int = 0,
                 history: History | None = None) -> None:
        sc = scenario or Scenario()
        self.scenario = sc
        self.clock = clock
        self.history = history if history is not None else History()
        self.stone_id = sc.stone_id
        # bluenet's IS_CROWNSTONE(deviceType): a guidestone has no switch, no switch aggregator
        # and no power measurement.
        self.has_switch = sc.device == "crownstone"
        state, sw = sc.switch["state"], sc.switch
        self.switch = S.Switch(self.history, clock, dimmable=sc.load["dimmable"], locked=sw["locked"],
                               relay=state == S.FULLY_ON, dimmer=state if 0 < state < S.FULLY_ON else 0,
                               behaviour=sw["behaviour"], twilight=sw["twilight"],
                               double_tap=sw["double_tap"], default_dim_value=sw["default_dim"])
        load = sc.load if self.has_switch else {"watts": 0.0, "standby_mw": 0, "noise_mw": 0}
        self.load = Load(self.history, clock, self.switch, load["watts"], load["standby_mw"],
                         load["noise_mw"], seed)
        self.emitters: list[Emit] = []
        self.softfuse = Softfuse()
        self._fuse_generation = 0  # a trip on the timeline holds when nothing changed since
        self._fade_source: str | None = None  # who set the dimmer the PWM fades to (None: no fade)
        self._fade_due = False  # a fade step is on the timeline
        self.presence = Presence(self.history, clock, dict(sc.people), sc.uptime_ms, self.emit)
        self.bus = Bus(self.history, clock)
        self.sensors: dict[int, Tmp102] = {}
        for dev in sc.i2c:
            if dev["device"] == "register":
                self.bus.attach(dev["address"], RegisterDevice(dev["size"], dev["address_bytes"], dev["data"]))
            else:
                sensor = Tmp102(clock, dev["celsius"], self.load.fraction if dev["heater"] else None,
                                dev["heating_c_per_min"], dev["cooling_per_min"])
                self.sensors[dev["address"]] = sensor
                self.bus.attach(dev["address"], sensor)
        self.cpu_busy_until = -1
        self.advertisement: tuple[int, bytes] | None = None  # the app's service data (uuid, data)
        # SystemTime: the posix time (s) set at clock ms (None: not set, posix() is 0), and when
        # the time and the sun times were last set (their throttles).
        self._posix_at: tuple[int, int] | None = None
        self._time_set_ms = self._sun_set_ms = None
        # Set by the app's side (BLUENET_EVENT): whether an app subscribes to a type now.
        self.wants: Callable[[int], bool] = lambda cs_type: False
        self._periodic: set[int] = set()  # the periodic events on the timeline now
        # Set by the simulator: switches the controller's CPU-busy gate (bluenet's isCpuBusy).
        self.on_cpu_busy: Callable[[bool], None] = lambda busy: None
        # Set by the simulator: hands an action the microapp hears of to the controller.
        self.outside: Callable[[Action], None] = lambda action: None
        self._queue: list[tuple[int, int, Action]] = []
        self._seq = 0
        self.next_ms = NEVER  # when the next action is due: the simulator's one check per tick
        for action in sc.timeline:
            self.add(action)

    # -- time ------------------------------------------------------------------------------------
    def advance(self, t_ms: int) -> None:
        """Apply everything due by t_ms, each at its own time (the clock is set to it)."""
        queue = self._queue
        while queue and queue[0][0] <= t_ms:
            time_ms, _, action = heapq.heappop(queue)
            self.next_ms = queue[0][0] if queue else NEVER
            self.clock.set(time_ms)
            self.apply(action)

    def cpu_busy(self, t_ms: int) -> bool:
        return t_ms < self.cpu_busy_until

    def add(self, action: Action) -> None:
        """Put an action on the timeline."""
        self._seq += 1
        heapq.heappush(self._queue, (action.time_ms, self._seq, action))
        self.next_ms = self._queue[0][0]

    # -- the timeline's actions ------------------------------------------------------------------
    def apply(self, action: Action) -> None:
        kind, f, now = action.kind, action.fields, self.clock.now_ms
        if kind == "enter":
            self._expire_at(self.presence.enter(f["person"], f["room"]))
        elif kind == "leave":
            self._expire_at(self.presence.leave(f["person"]))
        elif kind == "expire":
            self.presence.expire()
        elif kind == "load":
            self._heaters()
            self.load.set_watts(f["watts"], "timeline")
            self._power("timeline")
            self._current_changed()
        elif kind == "tap":
            self.switch_command(S.TOGGLE, "tap")
        elif kind == "behaviour":
            self._switching(lambda: self.switch.set_behaviour(f["value"]), "behaviour")
        elif kind == "twilight":
            self._switching(lambda: self.switch.set_twilight(f["value"]), "twilight")
        elif kind == "temperature":
            sensor = self.sensors[f["address"]]
            sensor.set_ambient(f["celsius"])
            # With a heater the room's own temperature moves towards the new ambient one.
            self.history.record(now, "ambient" if sensor.heater else "temperature", "timeline",
                                address=f"{f['address']:#04x}", celsius=f["celsius"])
        elif kind == "cpu_busy_until":
            self.cpu_busy_until = max(self.cpu_busy_until, f["until_ms"])
            self.add(Action(f["until_ms"], "cpu_free"))
            self.history.record(now, "cpu_busy", "timeline", until=f["until_ms"] / 1000)
            self.on_cpu_busy(True)
        elif kind == "fade":
            self._fade_step()
        elif kind == "softfuse":
            if f["generation"] == self._fuse_generation:
                self._trip(f["fuse"])
        elif kind == "periodic":
            self._periodic_event(f["type"], now)
        elif kind == "cpu_free":
            if now >= self.cpu_busy_until:
                self.history.record(now, "cpu_free", "timeline")
                self.on_cpu_busy(False)
        else:  # mesh, pin, ble, message, asset: the microapp hears of them
            self.outside(action)

    def _expire_at(self, until: int | None) -> None:
        if until is not None:
            self.add(Action(until, "expire"))

    # -- periodic events -------------------------------------------------------------------------
    def subscribed(self, cs_type: int) -> None:
        """An app subscribed to cs_type: a periodic one goes on the timeline (at its next
        period), and comes off it when no app wants it any more."""
        period = PERIODIC_MS.get(cs_type)
        if period is None or cs_type in self._periodic or (cs_type == STATE_POWER_USAGE and not self.has_switch):
            return  # (a guidestone measures no power)
        self._periodic.add(cs_type)
        self.add(Action((self.clock.now_ms // period + 1) * period, "periodic", {"type": cs_type}))

    def _periodic_event(self, cs_type: int, now: int) -> None:
        if not self.wants(cs_type):
            self._periodic.discard(cs_type)
            return
        if cs_type == EVT_TICK:  # bluenet's tick count since boot (u32)
            data = ((self.scenario.uptime_ms + now) // PERIODIC_MS[EVT_TICK] & 0xFFFFFFFF).to_bytes(4, "little")
        else:  # the slow average power, int32 mW
            data = self.load.power_mw().to_bytes(4, "little", signed=True)
        self.emit(cs_type, data)
        self.add(Action(now + PERIODIC_MS[cs_type], "periodic", {"type": cs_type}))

    # -- what requests do to the world -----------------------------------------------------------
    def dispatch_switch(self, value: int, source: str) -> None:
        """CMD_SWITCH dispatched (by the app's SWITCH request or a control command): the
        aggregator takes it, then the app's subscription sees it (its listener comes later:
        cs_Crownstone.cpp inits the aggregator before the microapp). On a guidestone no
        aggregator listens, but the event is dispatched all the same."""
        self.switch_command(value, source)
        self.emit(CMD_SWITCH, bytes((value,)))

    def switch_command(self, value: int, source: str) -> None:
        """A CMD_SWITCH (0-100, TOGGLE, BEHAVIOUR, SMART_ON) from `source` (on a guidestone no
        one listens to it)."""
        if self.has_switch:
            self._switching(lambda: self.switch.command(value, source), source)

    def switch_relay(self, on: bool, source: str) -> None:
        """CMD_SET_RELAY dispatched: the smart switch, then the app's subscription."""
        self._switching(lambda: self.switch.set_relay(on, source), source)
        self.emit(CMD_SET_RELAY, bytes((on,)))

    def switch_dimmer(self, intensity: int, source: str) -> None:
        """CMD_SET_DIMMER dispatched: the smart switch, then the app's subscription."""
        self._switching(lambda: self.switch.set_dimmer(intensity, source), source)
        self.emit(CMD_SET_DIMMER, bytes((intensity,)))

    def _switching(self, change: Callable[[], None], source: str) -> None:
        """Run a change of the switch aggregator and dispatch what bluenet dispatches then:
        EVT_BEHAVIOUR_OVERRIDDEN from every updateState, STATE_SWITCH_STATE when the relay or
        dimmer changed (SmartSwitch::store)."""
        self._heaters()
        self.load.before_change()
        before = self.switch.state
        change()
        fading = self._fade_to(source)
        self.load.after_change()
        self.emit(EVT_BEHAVIOUR_OVERRIDDEN, bytes((self.switch.override is not None,)))
        if self.switch.state != before:
            self.emit(STATE_SWITCH_STATE, bytes((self.switch.state,)))
            if not fading:  # else when the fade ends
                self._power(source)
        self._current_changed()

    # -- the dimmer's fade -----------------------------------------------------------------------
    def _fade_to(self, source: str) -> bool:
        """The switch's dimmer state changed: the PWM fades to it, a step on the timeline every
        FADE_EVERY_MS (the state itself is set at once). True while it fades."""
        if self.load.pwm == self.switch.dimmer:
            return self._fade_source is not None
        self._fade_source = source
        if not self._fade_due:
            self._fade_due = True
            self.add(Action((self.clock.now_ms // FADE_EVERY_MS + 1) * FADE_EVERY_MS, "fade"))
        return True

    def _fade_step(self) -> None:
        self._fade_due = False
        load, target = self.load, self.switch.dimmer
        if self._fade_source is None:
            return  # a forced state set the PWM at once
        self._heaters()
        load.before_change()
        load.pwm += max(-FADE_STEP, min(FADE_STEP, target - load.pwm))
        load.after_change()
        if load.pwm == target:
            self._power(self._fade_source)
            self._fade_source = None
        else:
            self._fade_due = True
            self.add(Action(self.clock.now_ms + FADE_EVERY_MS, "fade"))
        self._current_changed()

    # -- the soft fuse ---------------------------------------------------------------------------
    def _current_changed(self) -> None:
        """The current may have changed: the soft fuse's next trip, if any, goes on the timeline
        (and the one there before no longer holds)."""
        if not self.has_switch:
            return
        sw = self.switch
        self._fuse_generation += 1
        trip = self.softfuse.changed(self.clock.now_ms, self.load.draw_mw() // VOLTS, sw.dimmer > 0,
                                     sw.errors, S.OVER_CURRENT, S.OVER_CURRENT_DIMMER)
        if trip is not None:
            self.add(Action(trip[0], "softfuse", {"generation": self._fuse_generation, "fuse": trip[1]}))

    def _trip(self, fuse: str) -> None:
        """checkSoftfuse found too much current for too long: the error is set (STATE_ERRORS),
        its event dispatched, and SafeSwitch forces the switch; the app's listener sees what the
        forcing dispatched, then the event itself."""
        now, sw = self.clock.now_ms, self.switch
        main = fuse == MAIN
        sw.errors |= S.OVER_CURRENT if main else S.OVER_CURRENT_DIMMER
        self.history.record(now, "softfuse", "softfuse", fuse=fuse, ma=self.load.draw_mw() // VOLTS)
        self.emit(STATE_ERRORS, sw.errors.to_bytes(4, "little"))
        self._heaters()
        self.load.before_change()
        before = sw.state
        forced = sw.force_off() if main else sw.force_relay_on_dimmer_off()
        self.load.pwm, self._fade_source = sw.dimmer, None  # dimmer.set(0, false): no fade
        self.load.after_change()
        if sw.state != before:
            self.emit(STATE_SWITCH_STATE, bytes((sw.state,)))
            self._power("softfuse")
        if main:
            self.emit(EVT_SWITCH_FORCED_OFF if forced else EVT_DIMMER_FORCED_OFF, b"")
            self.emit(EVT_CURRENT_USAGE_ABOVE_THRESHOLD, b"")
        else:
            self.emit(CONFIG_DIMMING_ALLOWED, b"\x00")
            self.emit(EVT_RELAY_FORCED_ON, b"")
            self.emit(EVT_DIMMER_FORCED_OFF, b"")
            self.emit(EVT_CURRENT_USAGE_ABOVE_THRESHOLD_DIMMER, b"")
        self._current_changed()

    def advertise(self, app_uuid: int, data: bytes) -> None:
        """CMD_MICROAPP_ADVERTISE: service data under the app's UUID."""
        self.advertisement = (app_uuid, bytes(data))  # what other stones' scans see now
        self.history.record(self.clock.now_ms, "advert", "microapp", uuid=f"{app_uuid:#06x}",
                            data=bytes(data).hex())

    def message_out(self, data: bytes) -> None:
        """UART_OPCODE_TX_MICROAPP_DATA: what the app sends to the hub or a phone."""
        self.history.record(self.clock.now_ms, "message_out", "microapp", data=bytes(data).hex(),
                            text=bytes(data).decode("utf-8", "replace"))

    def control(self, command: int, payload: bytes, ack: int, result: str) -> None:
        """A control command from the app (other than a switching one that took effect): its
        microapp ack and bluenet's result code."""
        self.history.record(self.clock.now_ms, "control", "microapp", type=command,
                            payload=bytes(payload).hex(), ack=ack, result=result)

    def multi_switch(self, stone: int, value: int) -> None:
        """CMD_MULTI_SWITCH dispatched for an item (internal_multi_switch_item_t: id, value):
        MultiSwitchHandler switches this stone (CMD_SWITCH) or sends it on the mesh to another
        (CMD_SEND_MESH_MSG_MULTI_SWITCH), then the app's subscription sees the item."""
        item = bytes((stone, value))
        if stone == self.stone_id:
            self.dispatch_switch(value, "multi_switch")
        else:
            self.history.record(self.clock.now_ms, "multi_switch_out", "microapp", stone=stone, value=value)
            self.emit(CMD_SEND_MESH_MSG_MULTI_SWITCH, item)
        self.emit(CMD_MULTI_SWITCH, item)

    def mesh_command_out(self, ids: bytes, command: int, payload: bytes) -> None:
        """A mesh control command for other stones (CMD_SEND_MESH_CONTROL_COMMAND)."""
        self.history.record(self.clock.now_ms, "mesh_command_out", "microapp", ids=ids.hex(),
                            type=command, payload=payload.hex())

    # -- time (SystemTime) -----------------------------------------------------------------------
    def posix(self) -> int:
        """SystemTime::posix(): seconds since 1970, 0 while no time was set."""
        if self._posix_at is None:
            return 0
        posix_s, at_ms = self._posix_at
        return posix_s + (self.clock.now_ms - at_ms) // 1000

    def set_time(self, posix_s: int, source: str) -> str:
        """CMD_SET_TIME dispatched: SystemTime::setTime (throttled) gives bluenet's result and,
        when it sets the time, EVT_TIME_SET with the time before; then the app's subscription
        sees CMD_SET_TIME, whatever the result."""
        result = self._set_time(posix_s, source)
        self.emit(CMD_SET_TIME, posix_s.to_bytes(4, "little"))
        return result

    def _set_time(self, posix_s: int, source: str) -> str:
        now = self.clock.now_ms
        if posix_s == 0:
            return "ERR_WRONG_PARAMETER"
        if self._time_set_ms is not None and now < self._time_set_ms + SET_TIME_THROTTLE_MS:
            return "ERR_BUSY"
        self._time_set_ms = now
        before = self.posix()
        self._posix_at = (posix_s, now)
        self.history.record(now, "time_set", source, posix=posix_s)
        self.emit(EVT_TIME_SET, before.to_bytes(4, "little"))
        return "ERR_SUCCESS"

    def set_sun_time(self, sunrise_s: int, sunset_s: int) -> str:
        """SystemTime::setSunTimes (throttled): STATE_SUN_TIME is set, and dispatched."""
        now = self.clock.now_ms
        if self._sun_set_ms is not None and now < self._sun_set_ms + SET_SUN_TIME_THROTTLE_MS:
            return "ERR_BUSY"
        self._sun_set_ms = now
        self.history.record(now, "sun_time", "microapp", sunrise=sunrise_s, sunset=sunset_s)
        self.emit(STATE_SUN_TIME, sunrise_s.to_bytes(4, "little") + sunset_s.to_bytes(4, "little"))
        return "ERR_SUCCESS"

    def emit(self, cs_type: int, data: bytes) -> None:
        for emitter in self.emitters:
            emitter(cs_type, data)

    def _heaters(self) -> None:
        # A heated room warms with the power that flowed until now: integrate before a change.
        for sensor in self.sensors.values():
            sensor.advance()

    def _power(self, source: str) -> None:
        self.history.record(self.clock.now_ms, "power", source, mw=self.load.draw_mw())

    # -- the summary -----------------------------------------------------------------------------
    def summary(self) -> dict:
        sw = self.switch
        return {
            "stone_id": self.stone_id,
            "switch": {"relay": int(sw.relay), "dimmer": sw.dimmer, "state": sw.state},
            "power_mw": self.load.power_mw(),
            "presence_mask": f"{self.presence.mask():#x}",
            "history": self.history.as_json(),
        }
