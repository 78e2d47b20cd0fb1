"""Stones on one clock: the outside events of the stones' timelines and the radio's events are
(time us, seq, action, a, b) entries of one heap, handled in time order with every stone's ticks.

Each stone is a whole single-stone simulation (its controller, runtime, device and SDK binding,
host.simulator.Simulation); the network only decides when each one runs. Stone i ticks at global
time phase_i + n * tick / (1 + drift_i), so its own clock reads n * tick at its n-th tick, as a
real stone's does. Before any entry into a stone's app the SDK is bound to that stone's runtime
(only when the last entry was another stone's: one comparison per entry, and nothing at all on
the single-stone path).
"""
from __future__ import annotations

import heapq
import time
from typing import Callable

from host.events import Event
from host.links import PAUSED, AppHung
from host.mesh import radio as R
from host.sdk_types.mesh import interrupt as mesh_interrupt
from shared_buffers import protocol as P

TICK = 0
OUTSIDE = 3  # a: Stone, b: Event (its time_ms is rewritten to the stone's clock)
_MESH = P.MESH
_MESH_KEY = (P.MESH << 8) | P.MESH_READ


class Stone:
    __slots__ = ("sid", "sim", "controller", "node", "phase_us", "ppm", "tick_us", "n", "bind", "app",
                 "port", "outside", "skip_to", "pending", "resume", "rebind")

    def __init__(self, sid: int, sim, node: R.Node, phase_us: int, ppm: int, tick_ms: int,
                 app: str, port: str | None) -> None:
        self.sid = sid
        self.sim = sim
        self.controller = sim.controller
        self.node = node
        self.phase_us = phase_us
        self.ppm = ppm
        self.tick_us = tick_ms * 1000
        self.n = 0
        self.bind: Callable[[], None] | None = getattr(sim.link, "bind", None)
        self.app = app
        self.port = port
        self.outside: list[int] = []  # times (us) of its timeline events still to come, soonest last
        self.skip_to = 0  # the round its next tick is in (after a grant of idle ticks)
        self.pending: list[tuple[int, int, bytes, bool]] = []  # sends made ahead, in a grant
        self.resume: Callable[[bool], object] | None = None  # its link's, in a stepped grant,
        self.rebind: Callable[[], None] | None = None  # and its bind() then

    def global_us(self, local_ms: int) -> int:
        """Global time (us) at which this stone's clock reads local_ms."""
        if not self.ppm:
            return self.phase_us + local_ms * 1000
        return self.phase_us + (local_ms * 1000 * 1_000_000) // (1_000_000 + self.ppm)

    def tick_time(self, n: int) -> int:
        """Global time (us) of this stone's n-th tick."""
        if not self.ppm:
            return self.phase_us + n * self.tick_us
        return self.phase_us + (n * self.tick_us * 1_000_000) // (1_000_000 + self.ppm)

    def local_ms(self, t_us: int) -> int:
        """What this stone's clock reads at global time t_us."""
        if t_us <= self.phase_us:
            return 0
        return ((t_us - self.phase_us) * (1_000_000 + self.ppm)) // 1_000_000_000


class Network:
    def __init__(self, radio: R.Radio, realtime: bool = False) -> None:
        """realtime: pace the clock to wall time (a stone is a board)."""
        self.radio = radio
        self.stones: dict[int, Stone] = {}
        self.now_us = 0
        self.realtime = realtime
        # (global time us, 0 and arrival order | 1 and tick slot, stone id, line): see lines()
        self._log: list[tuple[int, int, int, int, str]] = []
        self.on_log: Callable[[int, int, str], None] | None = None
        self._bound: Stone | None = None
        self._steady: list[tuple] | None = None  # planned at the first run()
        self._period = 0
        self._round = self._index = 0
        self._granting = False  # a stone has run ahead in a grant of idle ticks
        self._slot = -1  # the index of the steady stone whose tick runs, else -1
        self._start = time.monotonic()
        radio.deliver = self._deliver

    def add(self, stone: Stone) -> None:
        assert self._steady is None, "stones join before the first run()"
        self.stones[stone.sid] = stone
        device = stone.sim.device
        device.stone_id = stone.sid
        keep, radio, sid, clock = device.send_mesh, self.radio, stone.sid, stone.sim.clock

        def send_mesh(to: int, data: bytes, do_not_relay: bool) -> bool:
            keep(to, data, do_not_relay)
            at = stone.global_us(clock.now_ms)
            if at > self.now_us:  # made at the end of a grant: sent in its slot of that round
                stone.pending.append((at, to, data, do_not_relay))
                return True  # its queue was empty when the grant began: not full
            return radio.send(sid, to, data, do_not_relay, self.now_us)
        device.send_mesh = send_mesh

    def log_line(self, sid: int) -> Callable[[int, str], None]:
        """A stone's on_log: the line with the network's time (or the stone's own, when it ran
        ahead in a grant of idle ticks) and the stone's id."""
        log = self._log

        def on_log(t_ms: int, text: str) -> None:
            t = self.now_us
            if self._granting:
                t = max(t, self.stones[sid].global_us(t_ms))
            slot = self._slot
            log.append((t, 1, slot, sid, text) if slot >= 0 else (t, 0, len(log), sid, text))
            if self.on_log is not None:
                self.on_log(t, sid, text)
        return on_log

    def lines(self) -> list[tuple[int, int, str]]:
        """The merged log, (time us, stone id, line), in time order; at one time, the lines of
        entries between ticks (in the order they came) before those of ticks (in phase order):
        the order of a run tick by tick, also when a stone logged ahead in a grant."""
        return [(t, sid, text) for t, _, _, sid, text in sorted(self._log, key=lambda e: e[:3])]

    def at(self, t_us: int, stone: Stone, event: Event) -> None:
        """An outside event (pin, BLE scan, a message from outside the mesh) for a stone."""
        self.radio.schedule(t_us, OUTSIDE, stone, event)
        stone.outside.append(t_us)
        stone.outside.sort(reverse=True)

    def run(self, until_us: int) -> None:
        """Handle every event before until_us, in time order.

        Stones whose clocks do not drift tick in rounds: round n ticks each of them at
        phase + n * tick, in phase order, with no heap entry per tick (most of a quiet mesh's
        time is ticks). Drifting stones' ticks, outside events and the radio's events are heap
        entries; those due at or before a round tick are handled first."""
        if self._steady is None:
            self._plan()
        steady = self._steady
        if not steady:
            self._drain(until_us)
            self._end(until_us)
            return
        heap = self.radio.heap
        mesh_tick = self.radio.mesh_tick
        period = self._period
        n, i = self._round, self._index
        count = len(steady)
        realtime = self.realtime
        while True:
            base = n * period
            while i < count:
                offset, first, stone, node, step, bind, controller = steady[i]
                t = offset + base
                if t >= until_us:
                    self._round, self._index = n, i
                    self._drain(until_us)
                    self._end(until_us)
                    return
                if heap and heap[0][0] <= t:
                    self._drain(t + 1)
                i += 1
                if controller.stepping and not controller.held:
                    # Its app is paused in a stepped grant: its next idle tick, by itself.
                    if node.queued:
                        mesh_tick(node, t)
                    if self._bound is not stone:
                        self._bound = stone
                        stone.rebind()
                    controller.entry_seq += 1  # an entry of its own, running: the watchdog's
                    try:
                        back = stone.resume(True)
                    except AppHung as e:
                        back = e
                    if back is PAUSED:
                        controller.entry_seq += 1
                        continue
                    self.now_us = t
                    self._slot = i - 1  # a message: the tick is handled, the grant may go on
                    stone.sim.stepped_message(back)
                    self._slot = -1
                    continue
                if t < first:
                    continue  # its first tick is in a later round
                if n < stone.skip_to:  # its app ran this tick already, in a grant
                    self.now_us = t
                    if node.queued:
                        mesh_tick(node, t)
                    if stone.pending and stone.pending[0][0] <= t:
                        for at, to, data, no_relay in stone.pending:
                            self.radio.send(stone.sid, to, data, no_relay, at)
                        stone.pending.clear()
                    continue
                if controller.stepping:  # interrupts came since its last tick (held)
                    if stone.sim.stepped_goes_on():
                        controller.release_stepped()
                        i -= 1  # the idle tick, as above
                        continue
                    controller.end_stepped()  # this tick is a tick of its own
                if realtime:
                    self._pace(t)
                self.now_us = t
                if node.queued:
                    mesh_tick(node, t)
                if self._bound is not stone:
                    self._bound = stone
                    if bind is not None:
                        bind()
                most = 1 if realtime else controller.idle_ticks()
                if most > 1 and (node.queued or node.uc_busy or _MESH_KEY in controller.registry.counts):
                    # The mesh may reach this app at any time: a stepped grant, whose idle ticks
                    # run one by one at their own times, each a plain resume of the app.
                    self._slot = i - 1
                    step(most, True)
                    self._slot = -1
                    if controller.stepping:
                        link = stone.sim.link
                        stone.resume, stone.rebind = link.resume, link.binder()
                    continue
                # Nothing of the mesh can reach this app (it does not listen) and its bluenet
                # has nothing to send: it may run idle ticks ahead, up to its next timeline
                # event and the end of this run (issue 14's grant; the same summary).
                if most > 1:
                    limit = min(until_us, stone.outside[-1]) if stone.outside else until_us
                    most = min(most, (limit - t - 1) // period + 1)
                self._slot = i - 1
                if most > 1:
                    self._granting = True
                    took = step(most)
                    if took > 1:
                        stone.skip_to = n + took
                else:
                    step()
                self._slot = -1
            i = 0
            n += 1
            if self._granting:  # every stone ran ahead: go to the round where the first one is due
                low = min(s[2].skip_to for s in steady) - 1  # (its sends made ahead go then)
                if low > n and not any(s[3].queued for s in steady):
                    n = low

    def _plan(self) -> None:
        self._start = time.monotonic() - self.now_us / 1e6  # real time starts with the first run
        period = self._period = next(iter(self.stones.values())).tick_us if self.stones else 100_000
        steady = sorted((s for s in self.stones.values() if not s.ppm and s.tick_us == period),
                        key=lambda s: (s.phase_us % period, s.sid))
        # What a round needs of each stone, looked up once.
        self._steady = [(s.phase_us % period, s.phase_us, s, s.node, s.sim.step, s.bind, s.controller)
                        for s in steady]
        for stone in self.stones.values():
            if stone not in steady:
                self.radio.schedule(stone.phase_us, TICK, stone, None)

    def _end(self, until_us: int) -> None:
        if self.realtime:
            self._pace(until_us)
        self.now_us = max(self.now_us, until_us)
        for stone in self.stones.values():  # their ticks so far, for the figures
            if stone.controller.stepping:
                stone.controller.end_stepped()

    def _pace(self, t_us: int) -> None:
        delay = self._start + t_us / 1e6 - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def _drain(self, until_us: int) -> None:
        """Handle the heap's entries before until_us. A retry timer whose transfer has ended
        (its reply came: most of them) is dropped as soon as it is first in the heap, whatever
        its time: it would do nothing, and this way no run() comes here for it."""
        heap = self.radio.heap
        receive, retry = self.radio.receive, self.radio.retry
        heappop, heapreplace = heapq.heappop, heapq.heapreplace
        realtime = self.realtime
        RETRY = R.RETRY
        while heap:
            entry = heap[0]
            action = entry[2]
            if action == RETRY and entry[4].finished:
                heappop(heap)
                continue
            t = entry[0]
            if t >= until_us:
                break
            if realtime:
                self._pace(t)
            self.now_us = t
            if action == TICK:  # a drifting stone
                stone = entry[3]
                if stone.node.queued:
                    self.radio.mesh_tick(stone.node, t)
                if self._bound is not stone:
                    self._enter(stone)
                stone.sim.step()
                stone.n += 1
                self.radio._seq += 1
                heapreplace(heap, (stone.tick_time(stone.n), self.radio._seq, TICK, stone, None))
            else:
                heappop(heap)
                if action == R.RECEIVE:
                    receive(entry[3], entry[4], t)
                elif action == OUTSIDE:
                    stone = entry[3]
                    stone.outside.pop()
                    self._at_stone(stone, t)
                    e = entry[4]
                    stone.sim.deliver(Event(stone.sim.clock.now_ms, e.kind, e.number, e.data))
                else:
                    retry(entry[3], entry[4], t)

    def _enter(self, stone: Stone) -> None:
        self._bound = stone
        if stone.bind is not None:
            stone.bind()

    def _at_stone(self, stone: Stone, t_us: int) -> None:
        """Set the stone's clock to its time at t_us and bind the SDK to it."""
        if stone.controller.stepping:  # an event between two ticks of its stepped grant
            stone.controller.hold_stepped()
        clock = stone.sim.clock
        local = stone.local_ms(t_us)
        if local > clock.now_ms:
            clock.set(local)
        if self._bound is not stone:
            self._enter(stone)

    def _deliver(self, node: R.Node, sender: int, data: bytes, t_us: int) -> None:
        stone = self.stones[node.sid]
        clock = stone.sim.clock
        if self._granting and stone.global_us(clock.now_ms) > t_us:
            return  # its app ran ahead in a grant, which it got only while not listening
        controller = stone.controller
        # _at_stone, inlined (once per message heard)
        if controller.stepping and not controller.held:
            controller.hold_stepped()
        local = stone.local_ms(t_us)
        if local > clock.now_ms:
            clock.set(local)
        if self._bound is not stone:
            self._enter(stone)
        controller.interrupt(_MESH, *mesh_interrupt(sender, data))
