"""Run one control-flow scenario on every link and compare what the host saw.

`on_both_links(source, scenario, limits)` runs `scenario(sim)` on a Simulation whose app runs in
a greenlet (the simulator) and on one whose app runs on the board (the plugin's session board,
virtual unless --board-port is given) through the serial link. It asserts that both recorded the
same (b2m type, b2m ack, m2b type, m2b ack) at every switch, the same log, the same summary (but
for the wording of exception texts) and the same scenario results, and returns the greenlet's
Observation for the test's own checks.
"""
from __future__ import annotations

import textwrap
from typing import Any, Callable, Iterator, NamedTuple

import pytest

from host.limits import Limits
from host.simulator import Simulation
from host.trace import Step, SwitchTrace
from host.world.scenario import parse_scenario
from host.sdk_types import mesh as mesh_type
from shared_buffers import protocol as P


class Observation(NamedTuple):
    steps: list[Step]  # every switch, from the moment the scenario marks (see `mark`)
    result: Any        # what the scenario returned
    summary: dict


class Run:
    """What a scenario gets: the simulation, and mark() to start recording switches there."""

    def __init__(self, sim: Simulation, trace: SwitchTrace) -> None:
        self.sim = sim
        self._trace = trace

    def mark(self) -> None:
        self._trace.steps.clear()

    def steps(self) -> list[Step]:
        """The switches since the last mark()."""
        return list(self._trace.steps)

    def mesh(self, data: bytes = b"x", sender: int = 2) -> str:
        return self.sim.controller.interrupt(P.MESH, *mesh_type.interrupt(sender, data))

    def log(self) -> list[str]:
        return [text for _, text in self.sim.device.log]


def _same_interpreter(summary: dict) -> dict:
    """The summary without the faults' texts: an exception's text comes from the interpreter, and
    MicroPython words some differently from CPython (str(KeyError("k")) is k, not 'k')."""
    faults = [(f["time_ms"], f["where"], f["error"].split(":")[0]) for f in summary["faults"]]
    return {**summary, "faults": faults}


@pytest.fixture
def on_both_links(request: pytest.FixtureRequest) -> Iterator[Callable[..., Observation]]:
    links = []

    def run_on(kind: str, source: str, scenario: Callable[[Run], Any], limits: Limits,
               world: str | None) -> Observation:
        trace = SwitchTrace()
        stone = parse_scenario(textwrap.dedent(world)) if world else None
        if kind == "greenlet":
            sim = Simulation(source, limits=limits, trace=trace, scenario=stone)
        else:
            board = request.getfixturevalue("board_under_test")
            link = board.link(board.install_app(source), stack_depth=limits.stack_depth,
                              trace=trace, watchdog_ms=limits.watchdog_ms)
            links.append(link)
            sim = Simulation(None, limits=limits, link=link, scenario=stone)
        run = Run(sim, trace)
        result = scenario(run)
        return Observation(list(trace.steps), result, sim.summary())

    def on_both(source: str, scenario: Callable[[Run], Any], limits: Limits | None = None,
                world: str | None = None) -> Observation:
        """world: a scenario (TOML text) for the stone's world on both links."""
        source, limits = textwrap.dedent(source), limits or Limits()
        greenlet = run_on("greenlet", source, scenario, limits, world)
        board = run_on("board", source, scenario, limits, world)
        assert board.steps == greenlet.steps
        assert board.result == greenlet.result
        assert _same_interpreter(board.summary) == _same_interpreter(greenlet.summary)
        return greenlet

    yield on_both
    for link in links:
        link.close()
