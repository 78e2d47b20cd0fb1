"""How every benchmark takes its figures (docs/benchmarks.md).

- A figure is measured over ROUNDS rounds and reported as its median, with `NAME_min` and
  `NAME_max` beside it: the spread says how much a single run can be trusted.
- A ratio is taken per round, between its two sides measured in that same round, one right
  after the other (the order alternating from round to round), never between two figures taken
  at different moments; then the median, min and max of those per-round ratios.
- CPU-bound figures are timed in thread CPU time (time.thread_time: what another process on
  the machine takes does not count); figures that wait on a line or a subprocess, in wall time.
"""
from __future__ import annotations

import statistics
import time
from typing import Callable

ROUNDS = 7

cpu_clock = time.thread_time
wall_clock = time.perf_counter


def timed(fn: Callable[[], object], clock: Callable[[], float] = cpu_clock) -> float:
    """Seconds fn() takes on clock."""
    start = clock()
    fn()
    return clock() - start


def spread(name: str, values: list[float]) -> dict[str, float]:
    """NAME (the median), NAME_min and NAME_max of one figure's values, a value a round."""
    return {name: statistics.median(values), f"{name}_min": min(values), f"{name}_max": max(values)}


def interleaved(a: Callable[[], float], b: Callable[[], float], rounds: int = ROUNDS) -> tuple[list[float], list[float]]:
    """a() and b() (each returns its measurement) once a round, in alternating order."""
    xs: list[float] = []
    ys: list[float] = []
    for i in range(rounds):
        if i % 2:
            ys.append(b())
            xs.append(a())
        else:
            xs.append(a())
            ys.append(b())
    return xs, ys


def ratio(name: str, top: list[float], bottom: list[float]) -> dict[str, float]:
    """The per-round ratios top[i] / bottom[i] as NAME, NAME_min, NAME_max."""
    return spread(name, [t / b for t, b in zip(top, bottom)])
