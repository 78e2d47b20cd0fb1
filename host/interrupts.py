"""Interrupt registrations, the per-tick throttle and the empty-slot gate (bluenet's rules)."""
from __future__ import annotations

from shared_buffers import protocol as P

# Outcomes of offering an interrupt to the microapp.
DELIVERED = "delivered"
NOT_REGISTERED = "not_registered"
THROTTLED = "throttled"
GATED = "gated"  # held back in the host queue: the microapp reported no empty slot (after ERR_BUSY)
BUSY = "busy"    # the microapp refused it: its context stack was full
QUEUE_FULL = "queue_full"  # refused: the host queue of held-back events was full
ABORTED = "aborted"  # dropped: the app faulted before it took the event (restarted or stopped)


class Registry:
    """Registrations by key (type << 8 | sub-id), each with an interrupt counter for this tick."""

    def __init__(self, max_registrations: int, per_tick: int, stack_depth: int) -> None:
        self.max_registrations = max_registrations
        self.per_tick = per_tick
        self.counts: dict[int, int] = {}
        self.edges: dict[int, int] = {}  # PIN registrations: which edge
        self.stack_depth = stack_depth
        # Empty interrupt slots the microapp last reported; 0 closes the gate (bluenet).
        self.slots = stack_depth

    def clear(self) -> None:
        """The app restarted: no registrations, an empty context stack."""
        self.counts.clear()
        self.edges.clear()
        self.slots = self.stack_depth

    def register(self, key: int, edge: int = 0) -> int:
        if key not in self.counts:
            if len(self.counts) >= self.max_registrations:
                return P.ERR_NO_SPACE
            self.counts[key] = 0
        self.edges[key] = edge
        return P.SUCCESS

    def unregister(self, key: int) -> None:
        self.counts.pop(key, None)
        self.edges.pop(key, None)

    def new_tick(self) -> None:
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
        return DELIVERED

    def wants_edge(self, key: int, old: int, new: int) -> bool:
        edge = self.edges.get(key, P.EDGE_NONE)
        if old == new or edge == P.EDGE_NONE:
            return False
        return edge == P.EDGE_CHANGE or (edge == P.EDGE_RISING) == (new > old)
