"""Every limit the host enforces, in one place. The defaults are bluenet's; where a default is
ours (the watchdog, the call limit in the simulator, the host queue, fuel costs, signals), the
setting is named here and docs/protocol.md's table sets it beside bluenet's rule."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from shared_buffers import protocol as P


def _default_costs() -> dict[int, tuple[int, int]]:
    # (constant, per payload byte) per request type: cost 1 each is bluenet's consecutive-call
    # limit. YIELD is a final status, not a request, and costs nothing.
    return {t: (1, 0) for t in range(P.TYPE_COUNT)}


BLUENET_CALL_DURATION_MS = 20


@dataclass(frozen=True)
class Limits:
    tick_ms: int = 100
    # Fuel (seeds 000/001): each request costs costs[type] = (base, per_byte); an entry stops
    # resuming the microapp once it has used `entry_budget`. Cost 1 and budget 4 is bluenet's
    # MICROAPP_MAX_NUMBER_CONSECUTIVE_CALLS=3 checked after handling: 4 requests an entry.
    entry_budget: int = 4
    costs: dict[int, tuple[int, int]] = field(default_factory=_default_costs)
    # Interrupts: at most this many per registration (type, sub-id) per tick.
    interrupts_per_registration: int = 3
    # bluenet's MICROAPP_MAX_SOFT_INTERRUPT_REGISTRATIONS (the SDK itself holds 6).
    max_registrations: int = 10
    # The microapp's context stack depth (runtime side; the host learns free slots from yields).
    stack_depth: int = P.DEFAULT_STACK_DEPTH
    # How many of bluenet's 18 virtual pins the board has (a missing one answers ERR_NOT_FOUND).
    pins: int = P.PIN_COUNT
    max_log_line: int = 256
    # PRESENCE: bluenet answers profile 0 with everyone's rooms and 0 for profiles 1-7 (0); 1
    # answers each profile's own rooms (ours, host/sdk_types/presence.py).
    presence_per_profile: int = 0
    # Fault containment (docs/faults.md). A call into the microapp that does not yield within
    # watchdog_ms of wall time is preempted; the app is flagged did-reboot and stopped (0: off).
    watchdog_ms: int = 1000
    # bluenet's per-call limit, measured after the call: a longer call flags the app
    # exceeded-call-duration and stops it. 0 = not checked (the simulator's default);
    # `--strict-timing` sets BLUENET_CALL_DURATION_MS.
    call_duration_ms: int = 0
    # Ours: events held back while the microapp has no empty interrupt slot, delivered later;
    # 0 (bluenet) drops them, with a GATED signal.
    host_queue: int = 0
    # Signals: delivered per tick unless the app reserves another budget (at most
    # max_signal_budget); at most signal_queue wait, more are counted as overflowed.
    signal_budget: int = 1
    max_signal_budget: int = 8
    signal_queue: int = 32
    # Ours: when nothing is due for the app (no event, signal, queue or trace), one entry may
    # grant up to this many idle ticks; the runtime runs them itself until its first request.
    # The same log and summary as tick by tick (0 or 1: every tick its own entry).
    idle_grant: int = 255

    def cost(self, msg_type: int, length: int) -> int:
        base, per_byte = self.costs.get(msg_type, (1, 0))
        return base + per_byte * length

    def with_overrides(self, pairs: list[str]) -> "Limits":
        """Apply NAME=INT overrides (the CLI's --limit); cost.TYPE=BASE[,PER_BYTE] sets a cost."""
        known = {f.name: f for f in fields(self) if f.name != "costs"}
        changes: dict[str, object] = {}
        costs = dict(self.costs)
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(f"limit {pair!r}: expected NAME=VALUE")
            if name.startswith("cost."):
                type_name = name[5:].upper()
                if type_name not in P.TYPE_NAMES:
                    raise ValueError(f"limit {pair!r}: no message type {type_name}")
                base, _, per_byte = value.partition(",")
                costs[P.TYPE_NAMES.index(type_name)] = (_int(pair, base), _int(pair, per_byte or "0"))
                continue
            if name not in known:
                raise ValueError(f"limit {pair!r}: unknown limit; known: {', '.join(sorted(known))}, cost.TYPE")
            changes[name] = _int(pair, value)
        return replace(self, costs=costs, **changes)


def _int(pair: str, text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ValueError(f"limit {pair!r}: {text!r} is not an integer") from None
    if value < 0:
        raise ValueError(f"limit {pair!r}: must not be negative")
    return value
