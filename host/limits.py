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
        limits = replace(self, costs=costs, **changes)
        check_ranges(limits)
        return limits


def _int(pair: str, text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise ValueError(f"limit {pair!r}: {text!r} is not an integer") from None
    if value < 0:
        raise ValueError(f"limit {pair!r}: must not be negative")
    return value


# -- ranges ----------------------------------------------------------------------------------
# What each limit can be: outside it a run cannot work (a 0 ms tick never advances time) or
# the value does not fit where it goes (one byte in a buffer, the board's heap). --limit and
# the pytest plugin refuse a value outside its range with the range.
RANGES: dict[str, tuple[int, int, str]] = {
    "tick_ms": (1, 60_000, "ms per tick; bluenet's is 100"),
    "entry_budget": (1, 1_000_000, "fuel per entry"),
    "interrupts_per_registration": (0, 255, "per registration per tick"),
    "max_registrations": (1, 255, "a registration count is one byte"),
    "stack_depth": (1, 16, "each level keeps two buffer copies on the board's heap; bluenet's is 3"),
    "pins": (1, 255, "a pin number is one byte; a Crownstone has 18 virtual pins"),
    "max_log_line": (1, 4096, "bytes"),
    "watchdog_ms": (0, 600_000, "0: off"),
    "call_duration_ms": (0, 600_000, "0: not checked"),
    "host_queue": (0, 100_000, "events held back"),
    "signal_budget": (0, 255, "signals per tick"),
    "max_signal_budget": (0, 255, "a reservation is one byte"),
    "signal_queue": (0, 100_000, "signals waiting"),
    "idle_grant": (0, 255, "a grant is one byte of the CONTINUE's trailer"),
}
COST_RANGE = (0, 1_000_000)


def check_ranges(limits: Limits) -> None:
    """ValueError naming the limit and its range when one is outside RANGES."""
    for name, (lo, hi, why) in RANGES.items():
        value = getattr(limits, name)
        if not lo <= value <= hi:
            raise ValueError(f"limit {name}={value} is outside {lo}..{hi} ({why})")
    if limits.signal_budget > limits.max_signal_budget:
        raise ValueError(f"limit signal_budget={limits.signal_budget} is over "
                         f"max_signal_budget={limits.max_signal_budget}")
    lo, hi = COST_RANGE
    for t, (base, per_byte) in limits.costs.items():
        if not (lo <= base <= hi and lo <= per_byte <= hi):
            raise ValueError(f"limit cost.{P.type_name(t)}={base},{per_byte} is outside {lo}..{hi}")
