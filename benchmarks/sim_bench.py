"""Simulator figures, in thread CPU time over interleaved rounds (benchmarks.measure):

- greenlet_switch_us: a bare greenlet switch pair (to a child and back);
- soft_yield_us: one request (a pin write) handled and the microapp resumed, timed over one
  Simulation.step whose loop() makes them all;
- soft_yield_overhead_ratio: the two, per round;
- empty_ticks_per_s: ticks of an empty loop() through Simulation.run (its step: events, clock,
  controller, the app; idle ticks granted as a run grants them).
"""
from __future__ import annotations

import greenlet

from benchmarks.measure import interleaved, ratio, spread, timed
from host.limits import Limits
from host.simulator import Simulation

SWITCHES = 200_000
WRITES = 100_000
TICKS = 100_000


def greenlet_switch_s(n: int = SWITCHES) -> float:
    """Seconds per switch pair, over n of them."""
    def child() -> None:
        back = parent.switch
        while True:
            back()

    parent = greenlet.getcurrent()
    g = greenlet.greenlet(child)
    g.switch()

    def run() -> None:
        switch = g.switch
        for _ in range(n):
            switch()
    return timed(run) / n


SOFT_YIELD_APP = """
import microapp
def setup():
    microapp.pinMode(3, microapp.OUTPUT)
def loop():
    write = microapp.digitalWrite
    for i in range({n}):
        write(3, i & 1)
"""


def soft_yield_s(n: int = WRITES) -> float:
    """Seconds per pin write request, all n in one entry (budget lifted for the measurement)."""
    sim = Simulation(SOFT_YIELD_APP.format(n=n), limits=Limits(entry_budget=1 << 60))
    sim.step()  # setup
    seconds = timed(sim.step)
    assert sim.controller.requests[2] == n + 1
    return seconds / n


def empty_tick_s(n: int = TICKS) -> float:
    """Seconds per tick of n ticks with an empty loop(), run as Simulation.run runs them (its
    step, which may grant idle ticks in one entry)."""
    sim = Simulation("def loop():\n    pass\n")
    sim.run(2)
    seconds = timed(lambda: sim.run(n))
    assert sim.controller.ticks == n + 2 and not sim.controller.faults
    return seconds / n


def figures() -> dict[str, float]:
    switch, soft = interleaved(greenlet_switch_s, soft_yield_s)
    ticks = [1 / empty_tick_s() for _ in switch]
    return {
        **spread("greenlet_switch_us", [s * 1e6 for s in switch]),
        **spread("soft_yield_us", [s * 1e6 for s in soft]),
        **ratio("soft_yield_overhead_ratio", soft, switch),
        **spread("empty_ticks_per_s", ticks),
    }
