"""Signals (seed 003): what the host dropped or aborted, told to the microapp afterwards.

Every event the host drops (throttled, refused as busy, host queue full) or aborts (its handler
faulted, the app hung or was restarted) is recorded here with its interrupt id and a reason
code (SIG_* in shared_buffers.protocol). At the start of a tick the controller hands pending
signals to the app's signal handler, as many as the app's reserved budget allows; an app with
no handler or no reservation has them skipped, and counted. So every signal is delivered,
skipped, overflowed (the pending queue is bounded), or still pending: nothing goes uncounted.
"""
from __future__ import annotations

from collections import deque

from host.limits import Limits
from shared_buffers import protocol as P


class Signals:
    def __init__(self, limits: Limits) -> None:
        self.capacity = limits.signal_queue
        self.default_budget = limits.signal_budget
        self.max_budget = limits.max_signal_budget
        self.pending: deque[tuple[int, int]] = deque()  # (reason code, interrupt id)
        self.by_reason = [0] * len(P.SIGNAL_NAMES)
        self.recorded = 0
        self.delivered = 0
        self.skipped = 0
        self.overflowed = 0
        self.handler = False  # the app registered a signal handler
        self.budget = self.default_budget  # signals per tick the app has reserved

    def record(self, code: int, irq: int) -> None:
        self.recorded += 1
        self.by_reason[code] += 1
        if len(self.pending) < self.capacity:
            self.pending.append((code, irq))
        else:
            self.overflowed += 1

    def skip_pending(self) -> None:
        """No handler or no reservation: the pending signals are dropped, and counted."""
        self.skipped += len(self.pending)
        self.pending.clear()

    def app_restarted(self) -> None:
        """A fresh app has no handler yet and the default reservation; pending signals stay."""
        self.handler = False
        self.budget = self.default_budget

    def request(self, m2b: bytearray) -> int:
        """The SIGNAL request (ours): op@2; REGISTER (the app has a handler) or RESERVE budget@3."""
        op = m2b[P.OFF_SIGNAL_OP]
        if op == P.SIGNAL_REGISTER:
            self.handler = True
            return P.SUCCESS
        if op == P.SIGNAL_RESERVE:
            if m2b[P.OFF_SIGNAL_VALUE] > self.max_budget:
                return P.ERR_OUT_OF_RANGE
            self.budget = m2b[P.OFF_SIGNAL_VALUE]
            return P.SUCCESS
        return P.ERR_UNDEFINED

    def summary(self) -> dict:
        return {
            "recorded": self.recorded,
            "delivered": self.delivered,
            "skipped": self.skipped,
            "overflowed": self.overflowed,
            "pending": len(self.pending),
            "by_reason": {P.SIGNAL_NAMES[c]: n for c, n in enumerate(self.by_reason) if n},
        }
