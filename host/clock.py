"""Clocks: virtual time for the simulator, wall time for a board."""
from __future__ import annotations

import time


class Clock:
    now_ms: int = 0


class VirtualClock(Clock):
    """Time moves only when the simulation sets it: deterministic and as fast as the CPU."""

    def __init__(self) -> None:
        self.now_ms = 0

    def set(self, t_ms: int) -> None:
        self.now_ms = t_ms


class WallClock(Clock):
    """Milliseconds since the clock was made; `sleep_until` paces ticks in real time."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    @property  # type: ignore[override]
    def now_ms(self) -> int:
        return int((time.monotonic() - self._start) * 1000)

    def set(self, t_ms: int) -> None:
        """Wall time cannot be set: wait until it is t_ms (the simulation's step paces ticks)."""
        self.sleep_until(t_ms)

    def sleep_until(self, t_ms: int) -> None:
        delay = t_ms / 1000 - (time.monotonic() - self._start)
        if delay > 0:
            time.sleep(delay)
