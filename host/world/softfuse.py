"""bluenet's soft fuse: over-current protection, as PowerSampling::checkSoftfuse does it at
crownstone/bluenet b4161ec3d (source/src/processing/cs_PowerSampling.cpp:1079-1225) after each
mains period's ADC buffer (20 ms):

- a current over CURRENT_USAGE_THRESHOLD (16 A) for more than CURRENT_THRESHOLD_CONSECUTIVE
  (100) periods in a row sets the overCurrent error and dispatches
  EVT_CURRENT_USAGE_ABOVE_THRESHOLD: SafeSwitch::forceSwitchOff;
- else a current over CURRENT_USAGE_THRESHOLD_DIMMER (1 A) for more than
  CURRENT_THRESHOLD_DIMMER_CONSECUTIVE (20) periods, checked while the dimmer is on, sets
  overCurrentDimmer and dispatches EVT_CURRENT_USAGE_ABOVE_THRESHOLD_DIMMER:
  SafeSwitch::forceRelayOnAndDimmerOff (cs_Config.h:187-190).

The errors stay until a RESET_ERRORS control command, which needs ADMIN: a microapp cannot clear
them. The current is what the load draws at 230 V RMS; it changes only when the switch or the
load does, so the world asks `changed()` then and puts the trip on its timeline: a run whose
current stays under the thresholds pays nothing per tick. Not modelled: the median filter over
the last buffers (a trip here comes its length earlier), the dimmer-on failure detection (no
current flows here with the relay and dimmer off), a voltage outside 200-250 V (that skips the
check in bluenet).
"""
from __future__ import annotations

PERIOD_MS = 20                # one mains period: one ADC buffer
VOLTS = 230                   # the RMS voltage the current follows from
THRESHOLD_MA = 16_000         # CURRENT_USAGE_THRESHOLD
THRESHOLD_DIMMER_MA = 1_000   # CURRENT_USAGE_THRESHOLD_DIMMER
CONSECUTIVE = 100             # CURRENT_THRESHOLD_CONSECUTIVE: it trips on the 101st
CONSECUTIVE_DIMMER = 20       # CURRENT_THRESHOLD_DIMMER_CONSECUTIVE
MAIN, DIMMER = "over_current", "over_current_dimmer"


def first_sample_after(t_ms: int) -> int:
    """The end of the first mains period that sees a current set at t_ms."""
    return (t_ms // PERIOD_MS + 1) * PERIOD_MS


class Softfuse:
    """When the current went over each threshold (None: it is under), and the next trip."""

    def __init__(self) -> None:
        self.over_since: int | None = None         # over THRESHOLD_MA since this sample
        self.over_dimmer_since: int | None = None  # over THRESHOLD_DIMMER_MA since this sample

    def changed(self, now_ms: int, milliamps: int, dimming: bool, errors: int,
                main_error: int, dimmer_error: int) -> tuple[int, str] | None:
        """The current (mA) from now on; (when, MAIN or DIMMER) of the trip it leads to, if
        nothing changes before then, or None."""
        first = first_sample_after(now_ms)
        if milliamps <= THRESHOLD_MA:
            self.over_since = None
        elif self.over_since is None:
            self.over_since = first
        if milliamps <= THRESHOLD_DIMMER_MA:
            self.over_dimmer_since = None
        elif self.over_dimmer_since is None:
            self.over_dimmer_since = first
        trips = []
        if self.over_since is not None and not errors & main_error:
            trips.append((self.over_since + CONSECUTIVE * PERIOD_MS, MAIN))
        if self.over_dimmer_since is not None and dimming and not errors & dimmer_error:
            # the count runs whatever the dimmer does; it trips at a sample with the dimmer on
            trips.append((max(self.over_dimmer_since + CONSECUTIVE_DIMMER * PERIOD_MS, first), DIMMER))
        return min(trips) if trips else None
