"""The bluenet side's runner loop (seed 002) over the link to one microapp.

An entry (a tick or an interrupt) resumes the microapp, reads what it wrote, and handles it,
until the serviced context reaches a final status or the entry's fuel budget is spent. Every
request runs seed 001's sequence: read, validate, charge fuel, execute, write the ack, resume.
The host keeps a model of the contexts the microapp holds open and checks every message against
it: a message from the wrong context, or a request where a final status must be, is a protocol
violation and the app is faulted, never resumed in the wrong place.
"""
from __future__ import annotations

import struct

from host import interrupts as I
from host.clock import Clock
from host.device import Device
from host.interrupts import Registry
from host.limits import Limits
from host.links import AppHung, Link
from host.requests import RequestHandlers
from shared_buffers import protocol as P
from shared_buffers.buffers import describe, irq_id

# How an entry ended.
YIELDED = 0       # the serviced context made a hard yield (its final status for this entry)
SPENT = 1         # the fuel budget ran out: handled, but resumed only at the next entry
HANDLER_DONE = 2  # an interrupt handler reported its final status
BUSY = 3          # the microapp refused the interrupt (stack full)
FAULTED = 4       # protocol violation: the app is stopped

_CONTINUE = struct.Struct("<BBBBHI")
_IRQ_HEADER = struct.Struct("<BBBBH")
_YIELD_NAMES = {P.YIELD_SETUP: "setup", P.YIELD_LOOP: "loop", P.YIELD_ASYNC: "loop"}


class Controller:
    def __init__(self, link: Link, device: Device, limits: Limits, clock: Clock) -> None:
        self.link = link
        self.m2b = link.m2b
        self.b2m = link.b2m
        self.device = device
        self.limits = limits
        self.clock = clock
        self.registry = Registry(limits.max_registrations, limits.interrupts_per_registration,
                                 limits.stack_depth)
        self.handlers = RequestHandlers(device, self.registry, limits).table
        self._base = [limits.cost(t, 0) for t in range(256)]
        self._per_byte = [limits.cost(t, 1) - self._base[t] for t in range(256)]
        self.enabled = True
        self.ticks = 0
        self.requests = [0] * 256
        self.fuel_used = 0
        self.interrupts = {"generated": 0, "delivered": 0, "throttled": 0, "gated": 0, "busy": 0}
        self.faults: list[dict] = []
        self.host_errors = 0
        # Interrupt ids of the handler contexts the microapp holds open, innermost last; the
        # main context (setup/loop) is always below them.
        self.contexts: list[int] = []
        self._call_id = 0
        self._irq_id = 0

    # -- entries ----------------------------------------------------------------------------
    def tick(self) -> None:
        """One tick: resume the innermost open context; when a handler finishes, the next one."""
        self.ticks += 1
        if not self.enabled:
            return
        self.registry.new_tick()
        for _ in range(len(self.contexts) + 1):
            _CONTINUE.pack_into(self.b2m, 0, P.CONTINUE, P.NO_REQUEST, self._next_call_id(), 4, 0,
                                self.clock.now_ms & 0xFFFFFFFF)
            if self._run_entry(0) != HANDLER_DONE:
                return

    def interrupt(self, msg_type: int, sub_id: int, data: bytes) -> str:
        """Offer an event to the microapp; returns what became of it (host.interrupts)."""
        if not self.enabled:
            return I.NOT_REGISTERED
        outcome = self.registry.admit((msg_type << 8) | sub_id)
        if outcome == I.NOT_REGISTERED:
            return outcome
        counters = self.interrupts
        counters["generated"] += 1
        if outcome != I.DELIVERED:
            counters[outcome] += 1
            return outcome
        self._irq_id = self._irq_id % 0xFFFF + 1
        b2m = self.b2m
        _IRQ_HEADER.pack_into(b2m, 0, msg_type, P.REQUEST, self._next_call_id(), len(data), self._irq_id)
        b2m[P.HEADER_SIZE:P.HEADER_SIZE + len(data)] = data
        if self._run_entry(self._irq_id) == BUSY:
            counters["busy"] += 1
            self.registry.slots = 0
            return I.BUSY
        counters["delivered"] += 1
        return I.DELIVERED

    def _next_call_id(self) -> int:
        # Ids die with their entry: each entry gets the next one (1..255; 0 names no context).
        self._call_id = self._call_id % 255 + 1
        return self._call_id

    def _run_entry(self, irq: int) -> int:
        """The runner loop: resume, read, handle, until a final status or the budget is spent.
        irq is the new interrupt's id, or 0 for a tick (servicing the innermost open context)."""
        m2b, b2m = self.m2b, self.b2m
        call_id = b2m[P.OFF_CALL_ID]
        resume = self.link.resume
        table, requests, base, per_byte = self.handlers, self.requests, self._base, self._per_byte
        budget = self.limits.entry_budget
        fuel = 0
        accepted = False
        try:
            while True:
                resume()
                b_ack = b2m[1]
                if b_ack == P.IN_PROGRESS and irq:
                    if not accepted:
                        accepted = True
                        self.contexts.append(irq)
                elif b_ack != P.NO_REQUEST or irq:
                    return self._interrupt_answer(call_id, irq, accepted)
                # The serviced context speaks in m2b: a request, or its final status.
                if m2b[1] == P.REQUEST:
                    if m2b[2] != call_id:
                        return self._violation(f"request from call id {m2b[2]} in entry {call_id}")
                    t, n = m2b[0], m2b[3]
                    if n > P.PAYLOAD_SIZE:
                        ack, n = P.ERR_TOO_LARGE, P.PAYLOAD_SIZE
                    else:
                        handler = table[t]
                        ack = P.ERR_NOT_IMPLEMENTED if handler is None else self._call(handler, m2b, n)
                    m2b[1] = ack
                    requests[t] += 1
                    fuel += base[t] + per_byte[t] * n
                    if fuel >= budget:
                        return SPENT
                elif m2b[0] == P.YIELD:
                    return self._hard_yield(call_id)
                else:
                    return self._violation(f"yielded without a request or final status: {describe(m2b)}")
        except AppHung as e:
            self._record_fault("watchdog", str(e))
            self.enabled = False
            return FAULTED
        finally:
            self.fuel_used += fuel

    def _call(self, handler, m2b: bytearray, n: int) -> int:
        try:
            return handler(m2b, n)
        except Exception as e:  # a host bug: the microapp still gets an answer
            self.host_errors += 1
            self._record_fault("host", f"request handler raised {e!r} on {describe(m2b)}")
            return P.ERROR

    def _hard_yield(self, call_id: int) -> int:
        m2b = self.m2b
        if m2b[2] != call_id:
            return self._violation(f"final status from call id {m2b[2]} in entry {call_id}")
        ack = m2b[1]
        if ack >= P.ERROR:
            where = _YIELD_NAMES.get(m2b[P.HEADER_SIZE], "handler")
            self._record_fault(where, _error_text(m2b, P.HEADER_SIZE + 2))
        elif ack != P.NO_REQUEST:
            return self._violation(f"final status with ack {P.ack_name(ack)}")
        self.registry.slots = m2b[P.HEADER_SIZE + 1]
        m2b[1] = P.SUCCESS
        return YIELDED

    def _interrupt_answer(self, call_id: int, irq: int, accepted: bool) -> int:
        """b2m carries a refusal or a handler's final status (seed 004's second diagram)."""
        b2m = self.b2m
        ack = b2m[1]
        if b2m[2] != call_id:
            return self._violation(f"interrupt answer from call id {b2m[2]} in entry {call_id}")
        if ack == P.ERR_BUSY and irq and not accepted:
            return BUSY
        expected = irq if irq and not accepted else (self.contexts[-1] if self.contexts else -1)
        if irq_id(b2m) != expected:
            return self._violation(f"final status for interrupt {irq_id(b2m)}, expected {expected}")
        if ack != P.SUCCESS and (ack < P.ERROR or ack == P.ERR_BUSY):
            return self._violation(f"interrupt answered {P.ack_name(ack)}")
        if accepted or not irq:
            self.contexts.pop()
        if ack == P.ERROR:
            self._record_fault(f"{P.type_name(b2m[0])} handler", _error_text(b2m, P.HEADER_SIZE))
        self.registry.slots = min(self.registry.slots + 1, self.limits.stack_depth)
        return HANDLER_DONE

    # -- faults -----------------------------------------------------------------------------
    def _violation(self, text: str) -> int:
        self._record_fault("protocol", text)
        self.enabled = False
        return FAULTED

    def _record_fault(self, where: str, text: str) -> None:
        self.faults.append({"time_ms": self.clock.now_ms, "where": where, "error": text})

    # -- reporting --------------------------------------------------------------------------
    def summary(self) -> dict:
        return {
            "ticks": self.ticks,
            "requests": {P.type_name(t): n for t, n in enumerate(self.requests) if n},
            "interrupts": dict(self.interrupts),
            "fuel_used": self.fuel_used,
            "faults": list(self.faults),
            "enabled": self.enabled,
            "host_errors": self.host_errors,
        }


def _error_text(buf: bytearray, offset: int) -> str:
    end = P.HEADER_SIZE + min(buf[P.OFF_LENGTH], P.PAYLOAD_SIZE)
    return bytes(buf[offset:end]).decode("utf-8", "replace")
