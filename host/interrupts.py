"""Interrupt registrations, the per-tick throttle and the empty-slot gate (bluenet's
cs_MicroappController.cpp: registerSoftInterrupt, allowSoftInterrupts, the slot count)."""
from __future__ import annotations

from shared_buffers import protocol as P

# Outcomes of offering an interrupt to the microapp.
DELIVERED = "delivered"
NOT_REGISTERED = "not_registered"
THROTTLED = "throttled"
GATED = "gated"  # the microapp reported no empty slot (after ERR_BUSY): dropped, as bluenet does
QUEUED = "queued"  # held back in the host queue instead (our extension, limits.host_queue > 0)
BUSY = "busy"    # the microapp refused it: its context stack was full
QUEUE_FULL = "queue_full"  # refused: the host queue of held-back events was full
CPU_BUSY = "cpu_busy"  # the world's CPU-busy gate was on: bluenet generates no interrupt
ABORTED = "aborted"  # dropped: the app faulted before it took the event (restarted or stopped)

# bluenet's _emptySoftInterruptSlots starts at 1, also after clear() (Controller.h:146).
INITIAL_SLOTS = 1


def bluenet_result(ack: int) -> int:
    """What bluenetResultToMicroapp makes of a registration result (SdkUtil.cpp:22-50):
    ERR_ALREADY_EXISTS becomes ERROR."""
    return ack if ack in (P.SUCCESS, P.ERR_NO_SPACE, P.ERR_NOT_FOUND) else P.ERROR


class Registry:
    """Registrations by key (type << 8 | id), each with an interrupt counter for this tick."""

    def __init__(self, max_registrations: int, per_tick: int) -> None:
        self.max_registrations = max_registrations
        self.per_tick = per_tick
        self.counts: dict[int, int] = {}
        # Empty interrupt slots: set from every YIELD, +1 per finished interrupt (no clamp), 0
        # after ERR_BUSY; never lowered when an interrupt is accepted (bluenet).
        self.slots = INITIAL_SLOTS
        self.fresh = True  # no interrupt counted since new_tick(): nothing to reset

    def clear(self) -> None:
        """bluenet's clear() (only on Remove, and here on a restart of the app)."""
        self.counts.clear()
        self.slots = INITIAL_SLOTS

    def register(self, key: int) -> int:
        """registerSoftInterrupt: ERR_ALREADY_EXISTS for a duplicate, ERR_NO_SPACE when full.
        There is no unregistering in bluenet."""
        if key in self.counts:
            return P.ERR_ALREADY_EXISTS
        if len(self.counts) >= self.max_registrations:
            return P.ERR_NO_SPACE
        self.counts[key] = 0
        return P.SUCCESS

    def new_tick(self) -> None:
        if self.fresh:
            return
        self.fresh = True
        counts = self.counts
        for key in counts:
            counts[key] = 0

    def admit(self, key: int) -> str:
        """Count one interrupt for key against the throttle and the gate."""
        count = self.counts.get(key)
        if count is None:
            return NOT_REGISTERED
        if count >= self.per_tick:
            return THROTTLED
        if self.slots <= 0:
            return GATED
        self.counts[key] = count + 1
        self.fresh = False
        return DELIVERED

    def finished(self) -> None:
        self.slots = min(self.slots + 1, 255)  # a uint8_t in bluenet
