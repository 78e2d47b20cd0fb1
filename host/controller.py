"""The bluenet side's runner loop (seed 002) over the link to one microapp.

An entry (a tick or an interrupt) resumes the microapp, reads what it wrote, and handles it,
until the serviced context reaches a final status or the entry's fuel budget is spent. Every
request runs seed 001's sequence: read, validate, charge fuel, execute, write the ack, resume.
The host keeps a model of the contexts the microapp holds open and checks every message against
it: a message from the wrong context, or a request where a final status must be, is a protocol
violation and the app is faulted, never resumed in the wrong place.

Faults are contained (docs/faults.md): an exception out of setup(), loop() or a handler restarts
the app or stops it as the fault policy says; a hang (watchdog), an over-long call and a protocol
violation stop it with bluenet's flags. Every event generated for the app is delivered, or
dropped with a signal (throttled, busy, host queue full, aborted), or still waits in the bounded
host queue: generated = delivered + signalled + queued, nothing uncounted.
"""
from __future__ import annotations

import struct
from collections import deque
from typing import Callable

from host import interrupts as I
from host import sdk_types
from host.clock import Clock
from host.device import Device
from host.faults import FaultPolicy
from host.interrupts import Registry
from host.limits import Limits
from host.links import PAUSED, AppHung, CallTooLong, Link
from host.sdk_types.ble import Ble
from host.sdk_types.log import Log
from host.sdk_types.mesh import Mesh
from host.sdk_types.pin import Pin
from host.signals import Signals
from shared_buffers import protocol as P
from shared_buffers.buffers import describe, error_text, irq_id

# How an entry ended.
YIELDED = 0       # the serviced context made a hard yield (its final status for this entry)
SPENT = 1         # the fuel budget ran out: handled, but resumed only at the next entry
HANDLER_DONE = 2  # an interrupt handler reported its final status: the entry ends (bluenet)
BUSY = 3          # the microapp refused the interrupt (stack full)
FAULTED = 4       # the app faulted: it was restarted or stopped
STOPPED = 5       # NONE, CONTINUE or an unknown type: answered (or not), resumed next entry
STEPPING = 6      # a stepped grant: the app paused after its first idle tick (see tick())

# Kinds of fault, and the signal an event it aborts carries. Only EXCEPTION (the app's code
# raised) goes to the fault policy; the others always stop the app.
EXCEPTION = "exception"
WATCHDOG = "watchdog"
CALL_TOO_LONG = "call duration"
PROTOCOL = "protocol"
_SIGNAL_OF = {EXCEPTION: P.SIG_HANDLER_FAULT, WATCHDOG: P.SIG_WATCHDOG,
              CALL_TOO_LONG: P.SIG_APP_FAULT, PROTOCOL: P.SIG_APP_FAULT}

# Our trailer as the host writes it into b2m: call id, used, interrupt id, time, flags, text.
_TRAILER = struct.Struct("<BBHIBB")
_TIME = struct.Struct("<I")
_YIELD_NAMES = {P.YIELD_SETUP: "setup", P.YIELD_LOOP: "loop", P.YIELD_ASYNC: "loop"}  # where it raised
# The protocol's numbers the per-entry paths read, as this module's names (faster than P.X).
_NO_REQUEST, _IN_PROGRESS, _REQUEST, _YIELD, _SUCCESS, _ERR_BUSY = (
    P.NO_REQUEST, P.IN_PROGRESS, P.REQUEST, P.YIELD, P.SUCCESS, P.ERR_BUSY)
_OFF_CALL_ID, _OFF_IRQ_ID, _OFF_FLAGS, _FLAG_RAISED = P.OFF_CALL_ID, P.OFF_IRQ_ID, P.OFF_FLAGS, P.FLAG_RAISED
_OFF_GRANT, _OFF_GRANT_DONE = P.OFF_GRANT, P.OFF_GRANT_DONE


class Controller:
    def __init__(self, link: Link, device: Device, limits: Limits, clock: Clock,
                 policy: FaultPolicy | None = None) -> None:
        self.link = link
        self.m2b = link.m2b
        self.b2m = link.b2m
        self.device = device
        self.limits = limits
        self.clock = clock
        self.registry = Registry(limits.max_registrations, limits.interrupts_per_registration)
        self.signals = Signals(limits)
        self.handlers = sdk_types.table({
            P.LOG: Log(device, limits).handle,
            P.PIN: Pin(device, self.registry).handle,
            P.MESH: Mesh(device, self.registry).handle,
            P.BLE: Ble(device, self.registry).handle,
            P.SIGNAL: self.signals.request,
        })
        self._base = [limits.cost(t, 0) for t in range(256)]
        per_byte = [limits.cost(t, 1) - self._base[t] for t in range(256)]
        self._per_byte = per_byte if any(per_byte) else None  # no per-byte arithmetic unless set
        self.enabled = True
        self.cpu_busy = False  # the world's CPU-busy gate: no ticks, no interrupts (bluenet)
        self.ticks = 0
        self.ticks_skipped = 0
        self.requests = [0] * 256
        self.fuel_used = 0
        self.interrupts = {"generated": 0, "delivered": 0, "throttled": 0, "gated": 0, "busy": 0,
                           "queued": 0, "queue_full": 0, "cpu_busy": 0, "aborted": 0}
        self.faults: list[dict] = []
        self.host_errors = 0
        # Interrupt ids of the handler contexts the microapp holds open, innermost last; the
        # main context (setup/loop) is always below them.
        self.contexts: list[int] = []
        # Ours (limits.host_queue): events held back while the microapp has no empty slot.
        self.queue: deque[tuple[int, bytes, int]] = deque()
        self.policy = policy or FaultPolicy()
        self.app_faults = 0
        self.restarts = 0
        self.did_reboot = False  # bluenet's flags: set when the app is stopped for a hang or
        self.exceeded_call_duration = False  # an over-long call; cleared only by enable()
        self.setup_done = False
        # Called when enabled or a flag changes (the simulator persists the app's state then).
        self.on_flags: Callable[[], None] | None = None
        # Called with each fault's record and the link's detail of it as it happens (the CLI
        # prints it and puts the detail in its --json summary).
        self.on_fault: Callable[[dict, dict], None] | None = None
        # Odd while an entry runs; the watchdog reads it with the request count as progress.
        self.entry_seq = 0
        self._restarted = 0  # restarts since the app was last enabled: what the policy counts
        self._resumable = False  # stopped with its coroutine intact: enable() resumes it
        self._accepted = False  # the app took the event this entry offered
        self._abort_code = P.SIG_APP_FAULT  # the signal for an event a fault kept from the app
        self._call_id = 0
        self._irq_id = 0
        self._signal_id = 0
        self._granted = 1  # ticks the last tick() took
        self.stepping = False  # a stepped grant is open: the app is paused between idle ticks
        self.held = False  # b2m was written (an interrupt) since the stepped grant's last tick
        self._pausing = False  # what the link was last told (pause_in_grants)
        self._step_ms = 0  # a stepped grant's: the time of its last adopted tick,
        self._step_call = 0  # its entry's call id
        self._step_grant = 0  # and its grant byte
        # Grants need a runtime that runs idle ticks itself on a 100 ms tick, and no per-switch
        # observer (a trace, the per-call limit) that would see fewer switches.
        self._grants = (limits.idle_grant > 1 and limits.tick_ms == 100 and not limits.call_duration_ms
                        and getattr(link, "grants", False))
        watchdog = getattr(link, "watchdog", None)
        if watchdog is not None:
            requests, m2b = self.requests, self.m2b  # summed only while an entry runs: an idle look is cheap
            # Progress: entries, requests, and the idle ticks a grant runs without a switch.
            watchdog.follow(lambda: (self.entry_seq, sum(requests) + m2b[P.OFF_GRANT_DONE]
                                     if self.entry_seq & 1 else 0))

    # -- entries ----------------------------------------------------------------------------
    def tick(self, grant: int = 1, stepped: bool = False, go_on: bool = False) -> int:
        """One tick (bluenet's tickMicroapp): one entry, resuming the innermost open context;
        a handler that finishes ends it, and the context below runs at the next tick.
        grant > 1 (ours; the caller knows nothing is due for that many ticks, see idle_ticks):
        the app may run that many idle ticks in this entry. Returns the ticks it took.
        stepped (ours, the mesh's; a greenlet link): the app pauses after each idle tick of the
        grant, and the pause is that tick's final status; the caller runs each next idle tick
        at its own time with a plain link.resume(True), one entry a tick (it counts them in
        entry_seq), and may offer interrupts in between (hold_stepped first, release_stepped
        before the next idle tick). `stepping` is True (and 1 returned) until the caller ends
        the grant (end_stepped) or the app comes back with a message (stepped_message). go_on:
        a tick whose requests were answered may end in a pause too (see stepped_message)."""
        self.ticks += 1
        if not self.enabled:
            return 1
        if self.cpu_busy:
            self.ticks_skipped += 1
            return 1
        self.registry.new_tick()
        if self.signals.pending:
            self._deliver_signals()
            if not self.enabled:
                return 1
        b2m = self.b2m
        b2m[0] = P.CONTINUE
        b2m[1] = P.NO_REQUEST
        _TRAILER.pack_into(b2m, P.OFF_CALL_ID, self._next_call_id(), 2, 0,
                           self.clock.now_ms & 0xFFFFFFFF, grant if grant > 1 else 0, 0)
        self.m2b[P.OFF_GRANT_DONE] = 0
        self._granted = 1
        if grant > 1:
            if stepped != self._pausing:
                self.link.pause_in_grants(stepped)
                self._pausing = stepped
            if stepped:
                self._step_ms, self._step_call, self._step_grant = self.clock.now_ms, b2m[P.OFF_CALL_ID], grant
        self._run_entry(0, grant > 1, go_on=go_on)
        if self.queue:
            self._drain()
        return self._granted

    def end_stepped(self) -> None:
        """The caller ends the stepped grant between two ticks: its ticks so far are ours. The
        app stays in its pause, which the next entry ends (as a final status's wait)."""
        if not self.held:
            self._settle_stepped()
        self.stepping = self.held = False

    def hold_stepped(self) -> None:
        """Before an interrupt between two ticks of the stepped grant: its ticks so far are
        ours (the clock is at the last one's time) and b2m is the interrupt's to write."""
        if not self.held:
            self._settle_stepped()
            self.held = True

    def release_stepped(self) -> None:
        """After interrupts, before the grant's next idle tick: a new tick's throttle, and
        b2m as the grant's entry wrote it."""
        self.held = False
        self.registry.new_tick()
        b2m = self.b2m
        b2m[0] = P.CONTINUE
        b2m[1] = P.NO_REQUEST
        _TRAILER.pack_into(b2m, P.OFF_CALL_ID, self._step_call, 2, 0, self._step_ms & 0xFFFFFFFF,
                           self._step_grant, 0)

    def _settle_stepped(self) -> None:
        self._adopt_grant(counted=True, go_on=True)
        self.registry.slots = self.limits.stack_depth  # what the pause's final status reports

    def stepped_message(self, back: object, go_on: bool = False) -> None:
        """The caller's resume() of a stepped grant came back other than PAUSED: with the app's
        message (a request, the grant's last final status, a fault; back = what resume()
        returned) or with the AppHung it raised (back). The tick's entry is handled as any;
        with go_on (nothing else is due for the app) a tick whose requests were answered may
        end in the next pause instead of a final status, and the grant goes on: `stepping`
        says whether it did."""
        self.stepping = False
        if isinstance(back, AppHung):
            self._adopt_grant(counted=True)
            try:
                self._fault(WATCHDOG, "watchdog", str(back))
            finally:
                self.entry_seq += 1
        else:
            self._run_entry(0, True, resumed=True, go_on=go_on)
        if self.queue:
            self._drain()

    def idle_ticks(self) -> int:
        """How many ticks one entry may grant now: nothing open, waiting or signalled (the
        caller also knows no event is due), setup() done, and no trace or timing to keep."""
        if (self.enabled and self.setup_done and not self.contexts and not self.queue
                and not self.signals.pending and not self.cpu_busy and self._grants):
            return self.limits.idle_grant
        return 1

    def _adopt_grant(self, counted: bool = False, go_on: bool = False) -> None:
        """The app ran idle ticks of its grant before this message: they are ticks of ours.
        counted: a stepped grant's, each already counted as an entry; go_on: it goes on."""
        m2b, b2m = self.m2b, self.b2m
        done = m2b[_OFF_GRANT_DONE]
        if not go_on:
            b2m[_OFF_GRANT] = 0  # the grant ends with the first message
        if done:
            m2b[_OFF_GRANT_DONE] = 0
            self._granted += done
            self.ticks += done
            if counted:  # the clock may have moved for an interrupt in between
                now = self._step_ms = self._step_ms + done * self.limits.tick_ms
            else:
                self.entry_seq += 2 * done
                now = self.clock.now_ms + done * self.limits.tick_ms
            self.clock.set(now)
            _TIME.pack_into(b2m, P.OFF_TIME, now & 0xFFFFFFFF)  # millis() from here on

    def interrupt(self, msg_type: int, sub_id: int, data: bytes) -> str:
        """Offer an event to the microapp (data: bluenet's struct from byte 2); returns what
        became of it (host.interrupts)."""
        if not self.enabled:
            return I.NOT_REGISTERED
        outcome = self.registry.admit((msg_type << 8) | sub_id)
        if outcome == I.NOT_REGISTERED:
            return outcome
        self.interrupts["generated"] += 1
        self._irq_id = irq = self._irq_id % 0x7FFF + 1  # signal deliveries use ids >= 0x8000
        if self.cpu_busy:
            return self._drop(I.CPU_BUSY, P.SIG_CPU_BUSY, irq)
        if outcome == I.THROTTLED:
            return self._drop(I.THROTTLED, P.SIG_THROTTLED, irq)
        queue = self.queue
        if outcome == I.GATED or queue:  # behind the events already waiting, in order
            if not self.limits.host_queue:
                return self._drop(I.GATED, P.SIG_GATED, irq)
            if len(queue) >= self.limits.host_queue:
                return self._drop(I.QUEUE_FULL, P.SIG_QUEUE_FULL, irq)
            self.interrupts["queued"] += 1
            queue.append((msg_type, data, irq))
            outcome = I.QUEUED
        else:
            outcome = self._offer(msg_type, data, irq)
        if queue:
            self._drain()
        return outcome

    def _offer(self, msg_type: int, data: bytes, irq: int) -> str:
        """One interrupt entry for an admitted event."""
        self._write_interrupt(msg_type, data, irq)
        self._accepted = False
        if self._run_entry(irq) == BUSY:
            return self._drop(I.BUSY, P.SIG_BUSY, irq)
        if self._accepted:
            self.interrupts["delivered"] += 1
            return I.DELIVERED
        return self._drop(I.ABORTED, self._abort_code, irq)  # the app faulted before taking it

    def _drain(self) -> None:
        """Offer held-back events, oldest first, while the microapp reports an empty slot and
        the host's model has one too (a drained event whose handler stays open takes a slot
        that the next report has not shown yet)."""
        queue, limit = self.queue, self.limits.stack_depth
        while queue and self.enabled and self.registry.slots > 0 and len(self.contexts) < limit:
            self._offer(*queue.popleft())

    def _drop(self, outcome: str, code: int, irq: int) -> str:
        self.interrupts[outcome] += 1
        self.signals.record(code, irq)
        return outcome

    def _deliver_signals(self) -> None:
        """Hand pending signals to the app's signal handler, each as a SIGNAL interrupt entry,
        up to the app's reserved budget; with no handler or no reservation skip them (counted)."""
        signals = self.signals
        if not self.setup_done:  # the app registers its handler in setup()
            return
        if not (signals.handler and signals.budget):
            signals.skip_pending()
            return
        for _ in range(signals.budget):
            if not signals.pending or self.registry.slots <= 0:
                return
            code, source = signals.pending.popleft()
            self._signal_id = self._signal_id % 0x7FFF + 1
            irq = P.SIGNAL_ID_BIT | self._signal_id
            self._write_interrupt(P.SIGNAL, bytes((P.SIGNAL_EVENT, code, source & 0xFF, source >> 8)), irq)
            result = self._run_entry(irq)
            if result == BUSY:
                signals.pending.appendleft((code, source))
                return
            signals.delivered += 1
            if result == FAULTED:
                return

    def _write_interrupt(self, msg_type: int, data: bytes, irq: int) -> None:
        """A new interrupt in b2m (ack REQUEST) for the next entry."""
        b2m = self.b2m
        n = len(data)
        b2m[0] = msg_type
        b2m[1] = _REQUEST
        b2m[2:2 + n] = data
        self._call_id = call_id = self._call_id % 255 + 1  # _next_call_id(), inlined
        _TRAILER.pack_into(b2m, _OFF_CALL_ID, call_id, 2 + n, irq, self.clock.now_ms & 0xFFFFFFFF, 0, 0)

    def _next_call_id(self) -> int:
        # Ids die with their entry: each entry gets the next one (1..255; 0 names no context).
        self._call_id = self._call_id % 255 + 1
        return self._call_id

    def _run_entry(self, irq: int, granted: bool = False, resumed: bool = False,
                   opened: bool = False, go_on: bool = False) -> int:
        """The runner loop: resume, read, handle, until a final status, a stopping type or the
        spent budget (bluenet's do { callMicroapp; handleAck; handleRequest } while).
        irq is the new interrupt's id, or 0 for a tick (servicing the innermost open context).
        A stepped grant's end (end_stepped, stepped_message): the entry is open already
        (opened), and with `resumed` the app's message is in the buffers already."""
        m2b, b2m = self.m2b, self.b2m
        call_id = b2m[_OFF_CALL_ID]
        resume = self.link.resume
        table, requests, base, per_byte = self.handlers, self.requests, self._base, self._per_byte
        budget = self.limits.entry_budget
        fuel = 0
        accepted = False
        if not (opened or resumed):
            self.entry_seq += 1
        try:
            back = None if resumed else resume()
            if granted:
                if back is PAUSED:  # a stepped grant's first idle tick is done
                    self.stepping = True
                    return STEPPING
                self._adopt_grant(opened or resumed, go_on)
            while True:
                b_ack = b2m[1]
                if b_ack != _NO_REQUEST or irq:
                    if b_ack != _IN_PROGRESS or not irq:
                        return self._interrupt_answer(call_id, irq, accepted)
                    if not accepted:
                        accepted = self._accepted = True
                        self.contexts.append(irq)
                # The serviced context speaks in m2b: a request, or its final status.
                t = m2b[0]
                if t == _YIELD:  # bluenet takes a YIELD whatever its ack
                    return self._hard_yield(call_id)
                if m2b[1] != _REQUEST:  # ours: bluenet would handle the stale m2b again
                    return self._violation(f"yielded without a request or final status: {describe(m2b)}")
                if m2b[_OFF_CALL_ID] != call_id:
                    return self._violation(f"request from call id {m2b[P.OFF_CALL_ID]} in entry {call_id}")
                requests[t] += 1
                handler = table[t]
                if handler is None:
                    if t != P.NONE:  # bluenet writes no ack for NONE
                        m2b[1] = P.ERR_UNDEFINED
                    return STOPPED
                try:
                    m2b[1] = handler(m2b)
                except Exception as e:  # a host bug: the microapp still gets an answer
                    m2b[1] = self._host_error(e)
                fuel += base[t] if per_byte is None else base[t] + per_byte[t] * (m2b[P.OFF_USED] - 2)
                if fuel >= budget:
                    return SPENT
                if resume() is PAUSED:  # a stepped grant that goes on: this tick is done
                    self.stepping = True
                    return STEPPING
        except AppHung as e:
            if granted:  # it hung in an idle tick of its grant: the ticks before are ours
                self._adopt_grant(opened or resumed)
            # The context it hung in: the new interrupt (not yet taken: dropped by _offer), or
            # the innermost open one.
            culprit = self.contexts[-1] if self.contexts and (accepted or not irq) else 0
            return self._fault(WATCHDOG, "watchdog", str(e), culprit)
        except CallTooLong as e:
            return self._fault(CALL_TOO_LONG, "call duration", str(e))
        finally:
            self.fuel_used += fuel
            self.entry_seq += 1

    def _host_error(self, e: Exception) -> int:
        self.host_errors += 1
        self._record_fault("host", f"request handler raised {e!r} on {describe(self.m2b)}")
        return P.ERROR

    def _hard_yield(self, call_id: int) -> int:
        m2b = self.m2b
        if m2b[P.OFF_CALL_ID] != call_id:
            return self._violation(f"final status from call id {m2b[P.OFF_CALL_ID]} in entry {call_id}")
        sub_type = m2b[P.OFF_YIELD_TYPE]
        # Ours: bluenet ignores the sub-type; we check it against the contexts we know of.
        if sub_type != P.YIELD_ASYNC:  # delay() may yield from any context; the rest end the main one
            if sub_type != P.YIELD_LOOP and sub_type != P.YIELD_SETUP:
                return self._violation(f"final status with YIELD sub-type {sub_type}")
            if self.contexts:  # bluenet's old bug: loop() run where a handler should have been
                return self._violation(f"{_YIELD_NAMES[sub_type]}() ended while the handler of "
                                       f"interrupt {self.contexts[-1]} was being serviced")
            self.setup_done = True
        self.registry.slots = m2b[P.OFF_YIELD_SLOTS]
        m2b[1] = P.SUCCESS
        if m2b[P.OFF_FLAGS] & P.FLAG_RAISED:
            return self._fault(EXCEPTION, _YIELD_NAMES.get(sub_type, "loop"), error_text(m2b))
        return YIELDED

    def _interrupt_answer(self, call_id: int, irq: int, accepted: bool) -> int:
        """b2m carries a refusal or a handler's final status (seed 004's second diagram)."""
        b2m = self.b2m
        ack = b2m[1]
        if b2m[_OFF_CALL_ID] != call_id:
            return self._violation(f"interrupt answer from call id {b2m[P.OFF_CALL_ID]} in entry {call_id}")
        if ack == _ERR_BUSY and irq and not accepted:
            self.registry.slots = 0
            return BUSY
        expected = irq if irq and not accepted else (self.contexts[-1] if self.contexts else -1)
        if b2m[_OFF_IRQ_ID] | (b2m[_OFF_IRQ_ID + 1] << 8) != expected:  # irq_id(b2m), inlined
            return self._violation(f"final status for interrupt {irq_id(b2m)}, expected {expected}")
        if ack != _SUCCESS and (ack < P.ERROR or ack == _ERR_BUSY):
            return self._violation(f"interrupt answered {P.ack_name(ack)}")
        if accepted or not irq:
            self.contexts.pop()
        else:
            self._accepted = True  # taken and finished within this entry
        self.registry.finished()
        if b2m[_OFF_FLAGS] & _FLAG_RAISED:
            return self._fault(EXCEPTION, f"{P.type_name(b2m[0])} handler", error_text(b2m), expected)
        return HANDLER_DONE

    # -- faults -----------------------------------------------------------------------------
    def _violation(self, text: str) -> int:
        return self._fault(PROTOCOL, "protocol", text)

    def _fault(self, kind: str, where: str, text: str, culprit: int = 0) -> int:
        """Contain a fault of the app: record it, abort every event it holds (open handlers,
        the host queue) with a signal, then restart it or stop it. culprit: the interrupt id
        of the accepted event whose handler faulted or hung (its signal says so)."""
        # What the link knows: the exception's traceback, or where a hung app was stopped.
        take = getattr(self.link, {EXCEPTION: "take_traceback", WATCHDOG: "take_hang_site"}.get(kind, ""), None)
        self._record_fault(where, text, take() if take is not None else None)
        self.app_faults += 1
        self.stepping = self.held = False  # restarted or stopped: no grant goes on
        self._abort_code = code = _SIGNAL_OF[kind]
        signals = self.signals
        held = bool(self.contexts)
        aborted = self.contexts if culprit in self.contexts else self.contexts + [culprit]
        for irq in aborted:
            if irq and not irq & P.SIGNAL_ID_BIT:  # nothing is signalled about a signal
                signals.record(code if irq == culprit else P.SIG_APP_FAULT, irq)
        self.contexts.clear()
        queue = self.queue
        while queue:
            self._drop(I.ABORTED, P.SIG_APP_FAULT, queue.popleft()[2])
        if kind == EXCEPTION and self.policy.restarts(self._restarted):
            self._restart()
        else:
            if kind == WATCHDOG:
                self.did_reboot = True
            elif kind == CALL_TOO_LONG:
                self.exceeded_call_duration = True
            # bluenet keeps an over-long call's coroutine: Enable resumes it where it was.
            self._stop(resumable=kind == CALL_TOO_LONG and not held)
        return FAULTED

    def _restart(self) -> None:
        self.restarts += 1
        self._restarted += 1
        self._start_afresh()

    def _start_afresh(self) -> None:
        self._forget_app()
        self._pausing = False  # a new runtime does not pause
        try:
            self.link.restart()
        except Exception as e:  # the top-level code hung (AppHung) or raised this time
            self._record_fault("restart", f"{type(e).__name__}: {e}")
            self.app_faults += 1
            self.did_reboot = isinstance(e, AppHung)
            self._stop()

    def _stop(self, resumable: bool = False) -> None:
        self.enabled = False
        self._resumable = resumable
        if self.on_flags is not None:
            self.on_flags()

    def _forget_app(self) -> None:
        """The host's model of a fresh app: nothing registered, nothing open, setup() to run."""
        self.registry.clear()
        self.contexts.clear()
        self.setup_done = False
        self.signals.app_restarted()

    def disable(self) -> None:
        """bluenet's Disable: the app is no longer ticked; its coroutine and registrations stay."""
        if self.stepping:  # its ticks so far are ours; the pause is as good as a final status
            self.end_stepped()
        self._stop(resumable=True)

    def enable(self) -> None:
        """bluenet's Enable: clear the flags; the fault policy counts restarts from zero again.
        As in bluenet (cs_Microapp.cpp:231-242) a coroutine that is still intact (disabled, or
        stopped after an over-long call) resumes where it was, with its registrations; one that
        is gone (a hang resets the chip, a fault ended it) starts afresh, setup() first."""
        self.did_reboot = self.exceeded_call_duration = False
        self._restarted = 0
        self.enabled = True
        if not self._resumable:
            self._start_afresh()
        self._resumable = False
        if self.enabled and self.on_flags is not None:
            self.on_flags()

    def _record_fault(self, where: str, text: str, detail: dict | None = None) -> None:
        """detail: what the link knows of it (the app's "at": file:line, the whole "traceback"),
        handed to on_fault only: the record itself stays {time_ms, where, error}."""
        fault = {"time_ms": self.clock.now_ms, "where": where, "error": text}
        self.faults.append(fault)
        if self.on_fault is not None:
            self.on_fault(fault, detail or {})

    # -- reporting --------------------------------------------------------------------------
    def accounting(self) -> dict:
        """Where every generated event went: uncounted is always 0."""
        c = self.interrupts
        signalled = (c["throttled"] + c["gated"] + c["busy"] + c["queue_full"] + c["cpu_busy"]
                     + c["aborted"])
        queued = len(self.queue)
        return {"generated": c["generated"], "delivered": c["delivered"], "signalled": signalled,
                "queued": queued, "uncounted": c["generated"] - c["delivered"] - signalled - queued}

    def summary(self) -> dict:
        return {
            "ticks": self.ticks,
            "ticks_skipped_cpu_busy": self.ticks_skipped,
            "entries": self.entry_seq // 2,
            "requests": {P.type_name(t): n for t, n in enumerate(self.requests) if n},
            "interrupts": dict(self.interrupts),
            "accounting": self.accounting(),
            "signals": self.signals.summary(),
            "fuel_used": self.fuel_used,
            "faults": list(self.faults),
            "fault_policy": str(self.policy),
            "restarts": self.restarts,
            "enabled": self.enabled,
            "did_reboot": self.did_reboot,
            "exceeded_call_duration": self.exceeded_call_duration,
            "host_errors": self.host_errors,
        }
