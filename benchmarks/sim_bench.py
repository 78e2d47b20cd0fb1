"""Simulator figures: a bare greenlet switch pair, a soft yield (one request handled and resumed)
and their ratio measured in the same run, and empty ticks per second."""
from __future__ import annotations

import time

import greenlet

from host.limits import Limits
from host.simulator import Simulation

REPEATS = 5


def _best(fn, n: int) -> float:
    """Best seconds per operation over REPEATS runs of fn(n)."""
    best = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn(n)
        best = min(best, (time.perf_counter() - t) / n)
    return best


def greenlet_switch_s(n: int = 200_000) -> float:
    def child() -> None:
        back = parent.switch
        while True:
            back()

    parent = greenlet.getcurrent()
    g = greenlet.greenlet(child)
    g.switch()

    def run(k: int) -> None:
        switch = g.switch
        for _ in range(k):
            switch()
    return _best(run, n)


SOFT_YIELD_APP = """
import microapp
def setup():
    microapp.pinMode(3, microapp.OUTPUT)
def loop():
    write = microapp.digitalWrite
    for i in range({n}):
        write(3, i & 1)
"""


def soft_yield_s(n: int = 100_000) -> float:
    """One PIN write request per soft yield, all in one entry (budget lifted for the measurement)."""
    def run(k: int) -> None:
        sim = Simulation(SOFT_YIELD_APP.format(n=k), limits=Limits(entry_budget=1 << 60))
        sim.run(1)  # setup
        t = time.perf_counter()
        sim.step()
        run.elapsed = time.perf_counter() - t  # type: ignore[attr-defined]
        assert sim.controller.requests[2] == k + 1
    best = float("inf")
    for _ in range(REPEATS):
        run(n)
        best = min(best, run.elapsed / n)  # type: ignore[attr-defined]
    return best


def empty_ticks_per_s(n: int = 200_000) -> float:
    sim = Simulation("def loop():\n    pass\n")
    sim.run(2)
    tick = sim.controller.tick
    def run(k: int) -> None:
        for _ in range(k):
            tick()
    return 1 / _best(run, n)


def figures() -> dict[str, float]:
    switch = greenlet_switch_s()
    soft = soft_yield_s()
    return {
        "greenlet_switch_us": switch * 1e6,
        "soft_yield_us": soft * 1e6,
        "soft_yield_overhead_ratio": soft / switch,
        "empty_ticks_per_s": empty_ticks_per_s(),
    }
