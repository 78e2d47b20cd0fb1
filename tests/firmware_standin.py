"""A hand-written firmware stand-in: a Link whose resume() runs the next scripted step against the
two buffers instead of the real runtime, so that a test can make the microapp's side say
exactly what a broken or hostile runtime would, byte by byte, and watch the host's answer."""
from __future__ import annotations

from collections import deque
from typing import Callable

from shared_buffers import protocol as P
from shared_buffers.buffers import new_buffer, set_irq_id


class ScriptEnded(AssertionError):
    """The host resumed the stand-in more often than the test scripted."""


class StandIn:
    def __init__(self, *steps: Callable[[StandIn], None]) -> None:
        self.m2b = new_buffer()
        self.b2m = new_buffer()
        self.steps = deque(steps)
        self.resumes = 0
        self.restarts = 0
        self.entry_ids: list[int] = []  # the call id the host wrote into b2m at each resume

    def resume(self) -> None:
        self.resumes += 1
        self.entry_ids.append(self.b2m[P.OFF_CALL_ID])
        if not self.steps:
            raise ScriptEnded(f"resume {self.resumes} has no step")
        self.steps.popleft()(self)

    def restart(self) -> None:
        self.restarts += 1

    @property
    def entry_id(self) -> int:
        return self.b2m[P.OFF_CALL_ID]


# -- what a runtime writes (each takes the stand-in; call_id None = the current entry's) -------
def _trailer(buf: bytearray, call_id: int, used: int, raised: str | None = None) -> None:
    """Our trailer after bluenet's 48 bytes: call id, used, and the raised flag with its text."""
    buf[P.OFF_CALL_ID] = call_id
    buf[P.OFF_USED] = used
    if raised is None:
        buf[P.OFF_FLAGS] = 0
        buf[P.OFF_TEXT_LEN] = 0
    else:
        text = raised.encode()[:P.TEXT_MAX]
        buf[P.OFF_FLAGS] = P.FLAG_RAISED
        buf[P.OFF_TEXT_LEN] = len(text)
        buf[P.OFF_TEXT:P.OFF_TEXT + len(text)] = text


def final(fw: StandIn, sub_type: int = P.YIELD_LOOP, ack: int = P.NO_REQUEST,
          call_id: int | None = None, slots: int = P.DEFAULT_STACK_DEPTH,
          raised: str | None = None) -> None:
    """A hard yield in m2b (microapp_sdk_yield_t): the main context's (or delay()'s) final
    status; raised: the error text of an exception out of it (FLAG_RAISED)."""
    m2b = fw.m2b
    m2b[0] = P.YIELD
    m2b[1] = ack
    m2b[P.OFF_YIELD_TYPE] = sub_type
    m2b[P.OFF_YIELD_SLOTS] = slots
    _trailer(m2b, fw.entry_id if call_id is None else call_id, P.YIELD_STRUCT, raised)


def request(fw: StandIn, msg_type: int, struct_bytes: bytes, call_id: int | None = None,
            ack: int = P.REQUEST) -> None:
    """A request in m2b: bluenet's struct for msg_type from byte 2."""
    m2b = fw.m2b
    m2b[0] = msg_type
    m2b[1] = ack
    m2b[2:2 + len(struct_bytes)] = struct_bytes
    _trailer(m2b, fw.entry_id if call_id is None else call_id, 2 + len(struct_bytes))


def accept(fw: StandIn) -> None:
    """Take the interrupt in b2m (IN_PROGRESS); the handler then speaks in m2b."""
    fw.b2m[P.OFF_ACK] = P.IN_PROGRESS


def answer(fw: StandIn, ack: int = P.SUCCESS, irq: int | None = None, call_id: int | None = None,
           raised: str | None = None) -> None:
    """A handler's final status in b2m, for interrupt `irq` (default: the one in b2m); raised:
    the error text of an exception out of the handler (FLAG_RAISED in the trailer)."""
    b2m = fw.b2m
    b2m[P.OFF_ACK] = ack
    if call_id is not None:
        b2m[P.OFF_CALL_ID] = call_id
    if irq is not None:
        set_irq_id(b2m, irq)
    if raised is not None:
        text = raised.encode()[:P.TEXT_MAX]
        b2m[P.OFF_FLAGS] = P.FLAG_RAISED
        b2m[P.OFF_TEXT_LEN] = len(text)
        b2m[P.OFF_TEXT:P.OFF_TEXT + len(text)] = text


def setup_done(fw: StandIn) -> None:
    final(fw, P.YIELD_SETUP)


def log_request(fw: StandIn, call_id: int | None = None) -> None:
    """Serial.println("hi"): microapp_sdk_log_header_t (type STR, newline, size 2) and the text."""
    request(fw, P.LOG, bytes((P.LOG_STR, P.LOG_FLAG_NEWLINE, 2)) + b"hi", call_id)
