"""Run a scenario: build a stone per [[stone]] on one network, run it, report, check expectations."""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from typing import Callable

from host.faults import FaultPolicy
from host.limits import Limits
from host.mesh import radio as R
from host.mesh.network import Network, Stone
from host.mesh.scenario import Scenario, ScenarioError
from host.simulator import AppLoadError, Simulation, read_app
from host.world.scenario import ScenarioError as WorldError, load_scenario


_PIECE_US = 60_000_000


class StoneImportError(Exception):
    """A stone's app raised (or hung) while importing; names the stone."""


@dataclass
class MeshResult:
    seed: int
    minutes: float
    stones: dict[int, dict]
    network: dict
    log: list[tuple[int, int, str]]
    not_started: dict[int, str]
    failures: list[str] = field(default_factory=list)

    def stone_log(self, sid: int) -> list[str]:
        return [text for _, s, text in self.log if s == sid]

    def to_json(self) -> dict:
        return {
            "seed": self.seed,
            "minutes": self.minutes,
            "network": self.network,
            "stones": {str(sid): s for sid, s in self.stones.items()},
            "not_started": {str(sid): e for sid, e in self.not_started.items()},
            "failures": self.failures,
            "log": [[t / 1e6, sid, text] for t, sid, text in self.log],
        }


class MeshRun:
    def __init__(self, scenario: Scenario, seed: int | None = None, limits: Limits | None = None,
                 policy: FaultPolicy | None = None, skip_broken: bool = False,
                 on_log: Callable[[int, int, str], None] | None = None, recorder=None,
                 watchdog: bool = True) -> None:
        """recorder: a host.trace.perfetto.Recorder that sees every switch and message."""
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        try:
            limits = (limits or Limits()).with_overrides(scenario.limits)
        except ValueError as e:
            raise ScenarioError(f"{scenario.path}: limits: {e}") from None
        if not watchdog:
            limits = _replace(limits, watchdog_ms=0)
        self.limits = limits
        self.radio = R.Radio(scenario.radio, self.seed)
        realtime = any(s.port for s in scenario.stones)
        self.network = Network(self.radio, realtime=realtime)
        self.network.on_log = on_log
        self.not_started: dict[int, str] = {}
        self.recorder = recorder
        if recorder is not None:
            recorder.clock = lambda: self.network.now_us
            self.radio.on_flow = recorder.flow
        codes: dict[str, object] = {}
        for spec in scenario.stones:
            if spec.port is None and spec.app not in codes:
                try:
                    codes[spec.app] = read_app(spec.app)
                except AppLoadError as e:
                    raise ScenarioError(f"{scenario.path}:{spec.line}: stone {spec.sid}: {e}") from None
            world = self._world(spec)
            node = self.radio.add_node(spec.sid, spec.relay)
            trace = recorder.switch_trace(spec.sid) if recorder is not None else None
            try:
                link = self._board_link(spec, trace) if spec.port else None
                sim = Simulation(codes.get(spec.app), limits=limits, on_log=self.network.log_line(spec.sid),
                                 policy=policy, app_name=f"stone{spec.sid}", link=link, trace=trace,
                                 scenario=world, seed=0 if world is None else self.seed * 256 + spec.sid)
            except (ScenarioError, StoneImportError):
                raise
            except Exception as e:  # its top-level code raised or hung
                why = f"{os.path.basename(spec.app)} does not import: {type(e).__name__}: {e}"
                if not skip_broken:
                    raise StoneImportError(f"stone {spec.sid}: {why}") from None
                self.not_started[spec.sid] = why
                del self.radio.nodes[spec.sid]
                continue
            stone = Stone(spec.sid, sim, node, int(spec.phase_ms * 1000), spec.drift_ppm, limits.tick_ms,
                          spec.app, spec.port)
            self.network.add(stone)
            for event in spec.events:
                self.network.at(event.time_ms * 1000, stone, event)
        for a, b, loss in scenario.links:
            if a in self.radio.nodes and b in self.radio.nodes:
                self.radio.link(a, b, loss)

    def _world(self, spec):
        """The stone's world (host/world), read with a seed of its own from the run's; its
        stone id is the mesh's. A mistake in it names the world's file and line."""
        if spec.world is None:
            return None
        try:
            world = load_scenario(spec.world, seed=self.seed * 256 + spec.sid)
        except WorldError as e:
            raise ScenarioError(str(e)) from None
        world.stone_id = spec.sid
        return world

    def _board_link(self, spec, trace):
        from host.board_install import InstallError, connect_with_app
        from host.links.serial_link import BoardError
        with open(spec.app, "rb") as f:
            app = f.read()
        try:
            return connect_with_app(spec.port, app, spec.baud, stack_depth=self.limits.stack_depth,
                                    trace=trace, watchdog_ms=self.limits.watchdog_ms or 2000)
        except (InstallError, BoardError) as e:
            raise StoneImportError(f"stone {spec.sid}: board at {spec.port}: {e}") from None

    def run(self, minutes: float | None = None) -> MeshResult:
        minutes = self.scenario.minutes if minutes is None else minutes
        end_us = int(minutes * 60e6)
        # A simulated minute at a time: what is alive then (the stones; the messages and figures
        # kept for the report) goes to the collector's permanent generation, so that full
        # collections do not walk it again and again (7% of a 100-stone hour); a run makes no
        # cyclic garbage to speak of. At the end all of it is the collector's again (gc.unfreeze,
        # also what the caller froze).
        try:
            try:
                t = self.network.now_us
                while True:
                    t = min(end_us, t + _PIECE_US)
                    self.network.run(t)
                    gc.freeze()
                    if t >= end_us:
                        break
            finally:
                if self.recorder is not None:
                    self.recorder.finish()
            return self.result(minutes, end_us)
        finally:
            gc.unfreeze()
            self.close()

    def close(self) -> None:
        """End every stone's app, so that the stones can be freed: a paused app's greenlet
        would keep its stone alive for good (a seed sweep's worker would grow with each seed).
        run() does this at its end; a MeshRun runs once."""
        for stone in self.network.stones.values():
            stone.sim.close()
            stone.resume = stone.rebind = None

    def result(self, minutes: float, end_us: int) -> MeshResult:
        stones = {}
        for sid, stone in sorted(self.network.stones.items()):
            s = stone.sim.summary()
            s["app"] = os.path.basename(stone.app)
            s["phase_ms"] = stone.phase_us / 1000
            s["drift_ppm"] = stone.ppm
            if stone.port:
                s["port"] = stone.port
            stones[sid] = s
        network = self.radio.report()
        res = MeshResult(self.seed, minutes, stones, network, self.network.lines(), dict(self.not_started))
        res.failures = self.check(res, end_us)
        return res

    def check(self, res: MeshResult, end_us: int) -> list[str]:
        """The expectations that failed, and every stone fault, one line each."""
        failures = []
        path = self.scenario.path
        for e in self.scenario.expects:
            if e.log is not None and e.stone is not None:
                if not any(e.log in line for line in res.stone_log(e.stone)):
                    failures.append(f"{path}:{e.line}: stone {e.stone} logged no line containing {e.log!r}")
                continue
            if e.within_s is None or e.dst is None:
                continue
            limit = int(e.within_s * 1e6)
            for msg in self.radio.messages:
                if msg.src != e.src or msg.kind == R.REPLY or msg.dst not in (0, e.dst):
                    continue
                if msg.sent_us + limit >= end_us:
                    continue  # not due yet when the run ended
                t = (msg.delivered_to or {}).get(e.dst)
                if t is None or t - msg.sent_us > limit:
                    how = "never reached it" if t is None else f"reached it after {(t - msg.sent_us) / 1e6:.3f} s"
                    failures.append(f"{path}:{e.line}: message {msg.mid} from {e.src} sent at "
                                    f"{msg.sent_us / 1e6:.3f} s {how} (expected within {e.within_s} s of {e.dst})")
                    break
        for sid, s in res.stones.items():
            for fault in s["faults"]:
                failures.append(f"stone {sid} faulted at {fault['time_ms'] / 1000:.3f} s in {fault['where']}: {fault['error']}")
        for sid, why in res.not_started.items():
            failures.append(f"stone {sid} did not start: {why}")
        return failures


def _replace(limits: Limits, **changes) -> Limits:
    from dataclasses import replace
    return replace(limits, **changes)
