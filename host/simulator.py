"""The simulator: one microapp, a virtual clock, the simulated device and its events, one process."""
from __future__ import annotations

from typing import Callable, Iterable

from host.app_state import AppRun, StateStore
from host.clock import VirtualClock, WallClock
from host.controller import Controller
from host.device import Device
from host.events import Event, in_time_order
from host.faults import FaultPolicy
from host.limits import Limits
from host.report import History
from host.sdk_constants import fold
from host.links import Link
from host.links.greenlet_link import GreenletLink
from host.sdk_types import ble, mesh, pin
from host.sdk_types.world_types import WorldTypes
from host.world.history import History as WorldHistory
from host.world.scenario import Action, Scenario
from host.world.world import NEVER, World
from shared_buffers import protocol as P


def _isolated(*args) -> Link:
    from host.links.process_link import ProcessLink
    return ProcessLink(*args)


class AppLoadError(Exception):
    """The microapp file is missing or does not compile."""


def read_app(path: str):
    """The app's code object, compiled with its file name for readable tracebacks."""
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except OSError as e:
        raise AppLoadError(f"{path}: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise AppLoadError(f"{path}: not UTF-8 text (byte {e.start})") from None
    try:
        return compile(fold(source), path, "exec")
    except SyntaxError as e:
        raise AppLoadError(f"{path}:{e.lineno}: {e.msg}") from None
    except ValueError as e:  # a NUL byte in the source
        raise AppLoadError(f"{path}: {e}") from None


class Simulation:
    def __init__(self, code, events: Iterable[Event] = (), limits: Limits | None = None,
                 on_log: Callable[[int, str], None] | None = None,
                 trace: Callable[[str, bytearray, bytearray], None] | None = None,
                 link: Link | None = None, policy: FaultPolicy | None = None,
                 store: StateStore | None = None, app_name: str = "app",
                 clock: VirtualClock | WallClock | None = None, history: History | None = None,
                 scenario: Scenario | None = None, seed: int = 0, isolate: bool = False) -> None:
        """code: the app for the greenlet link, its source (the SDK's constants are folded in,
        host/sdk_constants.py) or a code object compiled from folded source (read_app); or
        pass a ready `link` (a board's serial link) that already holds the app, with code=None.
        policy: what a fault does (restart up to 3 times by default). store: where the app's
        flags and counters persist under `app_name` (an app saved as disabled starts disabled);
        None: not kept.
        clock: a VirtualClock by default; a WallClock paces the ticks in real time (a board).
        history: where the device keeps its log and history (host.report; lists by default).
        scenario: the world the stone lives in (host/world); its timeline runs with `events`.
        isolate: the app runs in a child process of its own (host/links/process_link.py)."""
        self.limits = limits or Limits()
        self.clock: VirtualClock | WallClock = clock or VirtualClock()
        self.device = Device(self.clock, self.limits.pins, on_log=on_log, history=history)
        if link is None:
            make = _isolated if isolate else GreenletLink
            link = make(code, self.limits.stack_depth, trace, self.limits.watchdog_ms,
                        self.limits.call_duration_ms)
        self.link = link
        self.controller = Controller(self.link, self.device, self.limits, self.clock, policy)
        self.store = store
        self.app_name = app_name
        if store is not None:
            self._run = AppRun(store, app_name)
            self._run.state.apply_to(self.controller)
            self.controller.on_flags = self.save_state
        # The world's history is kept as the device's: in lists, spooled, or not at all.
        self.world = World(scenario, self.clock, seed, WorldHistory(self.device.history.column))
        self.world.outside = self._outside
        self.device.stone_id = self.world.stone_id
        self.world_types = WorldTypes(self.controller, self.world, bool(self.limits.presence_per_profile))
        self.world.on_cpu_busy = self._cpu_busy
        self._pending_events = self.world_types.pending  # bluenet events waiting for an entry's end
        self.events = events

    @property
    def events(self) -> Iterable[Event]:
        """The run's events in time order (an events file's are made as the run takes them)."""
        return self._events

    @events.setter
    def events(self, events: Iterable[Event]) -> None:
        """The events from now on: those due by the next tick go in before it."""
        self._events = in_time_order(events)
        self._upcoming = iter(self._events)
        self._next_event: Event | None = next(self._upcoming, None)

    def run(self, ticks: int) -> dict:
        """Run `ticks` ticks (tick n at n * tick_ms; tick 0 runs setup); return the summary."""
        bind = getattr(self.link, "bind", None)
        if bind is not None:
            bind()
        try:
            left = ticks
            while left > 0:
                left -= self.step(left)
        finally:
            if self.store is not None:
                self.save_state()
        return self.summary()

    def close(self) -> None:
        """Done with this simulation: its link ends the app (a greenlet link unwinds it, so that
        the simulation can be freed; a board's port is closed, an isolated app's process ends)."""
        close = getattr(self.link, "close", None)
        if close is not None:
            close()

    def save_state(self) -> None:
        """Persist the app's flags and counters: this run's merged into the store's."""
        assert self.store is not None
        self._run.save(self.controller)

    def step(self, most: int = 1, stepped: bool = False) -> int:
        """Deliver the events and apply the world's timeline due by the next tick, each at its
        own time, in time order; then the pin edges latched meanwhile (one interrupt per pin per
        tick, bluenet's Gpio::tick), then the tick. most > 1: when nothing is due for a while the
        tick may grant the app up to `most` idle ticks in one entry (limits.idle_grant). Returns
        the ticks run. stepped: the grant's idle ticks are run one by one by the caller (the
        mesh's, Controller.tick: the controller counts them as they are adopted)."""
        tick_ms = self.limits.tick_ms
        controller = self.controller
        tick_no = controller.ticks  # this simulation's ticks are its controller's
        t = tick_no * tick_ms
        event, world = self._next_event, self.world
        if (event is not None and event.time_ms <= t) or world.next_ms <= t:
            self._deliver_due(t)
        self.clock.set(t)
        device = self.device
        if device.latched_any:
            for p in device.take_latched():
                controller.interrupt(P.PIN, *pin.interrupt(p))
        grant = 1
        if most > 1:
            grant = min(most, controller.idle_ticks())
            if grant > 1:  # up to the tick before the next event or timeline action
                event = self._next_event
                due = world.next_ms if event is None else min(event.time_ms, world.next_ms)
                if due < NEVER:
                    grant = min(grant, (due - 1) // tick_ms - tick_no + 1)
        if stepped:
            took = controller.tick(grant, True, self._nothing_due())
            if controller.stepping and not self.stepped_goes_on():
                controller.end_stepped()
        else:
            took = controller.tick(grant)
        if self._pending_events:
            self.world_types.flush()
        return took

    def stepped_goes_on(self) -> bool:
        """Whether a stepped grant (Controller.tick) may go on into the next tick: nothing of
        this simulation's is due (the network's events are the network's to see to) and the
        ticks and entries so far left nothing for a tick to do: no bluenet event, latched pin,
        signal, held-back or open event. Else the grant ends here (Controller.end_stepped)."""
        return (self._nothing_due() and not self._pending_events
                and not self.device.latched_any and self.controller.idle_ticks() > 1)

    def _nothing_due(self) -> bool:
        """No event of the events file and no action of the world's timeline is still to come."""
        return self._next_event is None and self.world.next_ms >= NEVER

    def stepped_message(self, back: object) -> None:
        """A stepped grant's tick came back with a message (Controller.stepped_message)."""
        controller = self.controller
        controller.stepped_message(back, self._nothing_due())
        if controller.stepping and not self.stepped_goes_on():
            controller.end_stepped()
        if self._pending_events:
            self.world_types.flush()

    def _deliver_due(self, t: int) -> None:
        """The events file's events and the world's timeline actions due by t, in time order."""
        clock, world = self.clock, self.world
        while True:
            event = self._next_event
            event_ms = NEVER if event is None else event.time_ms
            if world.next_ms < event_ms:
                if world.next_ms > t:
                    return
                world.advance(world.next_ms)
            else:
                if event_ms > t:
                    return
                self._next_event = next(self._upcoming, None)
                clock.set(event_ms)
                self.deliver(event)

    def _cpu_busy(self, busy: bool) -> None:
        self.controller.cpu_busy = busy

    def _outside(self, action: Action) -> None:
        """What the world's timeline tells the microapp: a mesh message, pin change, scan,
        message from outside or passing asset."""
        f = action.fields
        if action.kind == "message":
            self.world_types.message_in(f["data"])
        elif action.kind == "asset":
            self.world_types.asset(f)
        elif action.kind == "mesh":
            self.deliver(Event(action.time_ms, "mesh", f["from"], f["data"]))
        elif action.kind == "pin":
            self.deliver(Event(action.time_ms, "pin", f["pin"], bytes((f["level"],))))
        elif action.kind == "ble":
            self.deliver(Event(action.time_ms, "ble", f["rssi"], f["mac"] + f["data"]))

    def deliver(self, event: Event) -> None:
        c, device = self.controller, self.device
        if event.kind == "mesh":
            c.interrupt(P.MESH, *mesh.interrupt(event.number, event.data))
        elif event.kind == "pin":
            device.set_input(event.number, event.data[0])
        elif event.kind == "ble" and device.scanning:
            mac, data = event.data[:6], event.data[6:]
            if ble.passes(device.scan_filter, mac, event.number, data):
                scanned = ble.interrupt(mac, event.number, data)
                if scanned is not None:
                    c.interrupt(P.BLE, *scanned)

    def summary(self) -> dict:
        s = self.controller.summary()
        s["time_ms"] = self.clock.now_ms
        s.update(self.device.history.columns())
        s["world"] = self.world.summary()
        barriers = getattr(self.link, "barriers", None)
        if barriers is not None:  # --isolate: the kernel's barriers its child has, and why not the others
            s["isolate"] = {"barriers": dict(barriers), "missing": dict(self.link.barriers_missing)}
        return s
