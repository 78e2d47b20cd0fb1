"""The load on the Crownstone's outlet and the power the stone measures through its switch.

What bluenet's STATE_POWER_USAGE holds (mW, int32): the load's power times what the switch lets
through (the relay: all; the dimmer: its percentage), plus the meter's reading with nothing
flowing (`standby_mw`), plus noise: uniform in +-noise_mw, drawn from the run's seed per
100 ms sample, so the same run reads the same values.
"""
from __future__ import annotations

import random

from host.world.history import History

SAMPLE_MS = 100


class Load:
    def __init__(self, history: History, clock, switch, watts: float = 0.0, standby_mw: int = 0,
                 noise_mw: int = 0, seed: int = 0) -> None:
        self.history = history
        self.clock = clock
        self.switch = switch
        self.watts = watts
        self.standby_mw = standby_mw
        self.noise_mw = noise_mw
        self.seed = seed

    def set_watts(self, watts: float, source: str) -> None:
        self.watts = watts
        self.history.record(self.clock.now_ms, "load", source, watts=watts)

    def fraction(self) -> float:
        """How much of the load's power the switch lets through, 0..1."""
        switch = self.switch
        return 1.0 if switch.relay else switch.dimmer / 100

    def power_mw(self) -> int:
        """The power reading now, in milliwatts (clamped to int32 as bluenet stores it)."""
        mw = self.watts * 1000 * self.fraction() + self.standby_mw
        if self.noise_mw:
            sample = self.clock.now_ms // SAMPLE_MS
            mw += random.Random(self.seed * 1_000_003 + sample).uniform(-self.noise_mw, self.noise_mw)
        return max(-0x80000000, min(0x7FFFFFFF, round(mw)))
