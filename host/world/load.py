"""The load on the Crownstone's outlet and the power the stone measures through its switch.

What bluenet's STATE_POWER_USAGE holds (mW, int32): the load's power times what the switch lets
through (the relay: all; the dimmer: its PWM value, which fades to the dimmer's state), plus the
meter's reading with nothing flowing (`standby_mw`), plus noise: uniform in +-noise_mw, drawn
from the run's seed per 100 ms sample, so the same run reads the same values.

After a change the reading follows as bluenet's PowerSampling does (cs_PowerSampling.cpp,
calculatePower, calculateSlowAveragePower): a significant change resets the reported average
to the fast average, which takes each 20 ms mains cycle's power with a discount of 0.2
(POWER_EXP_AVG_DISCOUNT, cs_Config.h:172): 80% of the difference left after 20 ms, 1% after
about 420 ms. Switching off resets it to 0 at once.
"""
from __future__ import annotations

import random

from host.world.history import History

SAMPLE_MS = 100
CYCLE_MS = 20          # one mains cycle: one ADC buffer, one power value
KEEP_PER_CYCLE = 0.8   # 1 - POWER_EXP_AVG_DISCOUNT / 1000


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
        # The dimmer's PWM value as it is now: it fades towards the switch's dimmer state
        # (the world moves it, host/world/world.py).
        self.pwm = switch.dimmer
        self._from_mw = 0.0  # the reading when the last change came, and when: None when settled
        self._since: int | None = None

    def before_change(self) -> None:
        """The load or the switch is about to change: the reading moves on from where it is."""
        self._from_mw = self._average()
        self._since = self.clock.now_ms

    def after_change(self) -> None:
        if self.fraction() == 0:  # switched off: the average is reset to 0
            self._since = None

    def set_watts(self, watts: float, source: str) -> None:
        self.before_change()
        self.watts = watts
        self.history.record(self.clock.now_ms, "load", source, watts=watts)

    def fraction(self) -> float:
        """How much of the load's power the switch lets through, 0..1: all with the relay on,
        else the dimmer's PWM value as it is now."""
        return 1.0 if self.switch.relay else self.pwm / 100

    def draw_mw(self) -> int:
        """What flows now (without the meter's averaging and noise)."""
        return round(self._target())

    def _target(self) -> float:
        return self.watts * 1000 * self.fraction() + self.standby_mw

    def _average(self) -> float:
        target = self._target()
        if self._since is None:
            return target
        cycles = (self.clock.now_ms - self._since) // CYCLE_MS
        if cycles > 60:  # settled
            self._since = None
            return target
        return target + (self._from_mw - target) * KEEP_PER_CYCLE ** cycles

    def power_mw(self) -> int:
        """The power reading now, in milliwatts (clamped to int32 as bluenet stores it)."""
        mw = self._average()
        if self.noise_mw:
            sample = self.clock.now_ms // SAMPLE_MS
            mw += random.Random(self.seed * 1_000_003 + sample).uniform(-self.noise_mw, self.noise_mw)
        return max(-0x80000000, min(0x7FFFFFFF, round(mw)))
