"""A hand-written firmware stand-in: a Link whose resume() runs the next scripted step against the
two buffers instead of the real runtime, so that a test can make the microapp's side say
exactly what a broken or hostile runtime would, byte by byte, and watch the host's answer."""
from __future__ import annotations

import struct
from collections import deque
from typing import Callable

from shared_buffers import protocol as P
from shared_buffers.buffers import new_buffer, set_irq_id

_P = P.HEADER_SIZE


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
def final(fw: StandIn, sub_type: int = P.YIELD_LOOP, ack: int = P.NO_REQUEST,
          call_id: int | None = None, slots: int = P.DEFAULT_STACK_DEPTH) -> None:
    """A hard yield in m2b: the main context's (or delay()'s) final status."""
    m2b = fw.m2b
    struct.pack_into("<BBBB", m2b, 0, P.YIELD, ack, fw.entry_id if call_id is None else call_id, 2)
    m2b[_P] = sub_type
    m2b[_P + 1] = slots


def request(fw: StandIn, msg_type: int, payload: bytes, call_id: int | None = None,
            ack: int = P.REQUEST) -> None:
    m2b = fw.m2b
    struct.pack_into("<BBBB", m2b, 0, msg_type, ack, fw.entry_id if call_id is None else call_id,
                     len(payload))
    m2b[_P:_P + len(payload)] = payload


def accept(fw: StandIn) -> None:
    """Take the interrupt in b2m (IN_PROGRESS); the handler then speaks in m2b."""
    fw.b2m[P.OFF_ACK] = P.IN_PROGRESS


def answer(fw: StandIn, ack: int = P.SUCCESS, irq: int | None = None, call_id: int | None = None) -> None:
    """A handler's final status in b2m, for interrupt `irq` (default: the one in b2m)."""
    b2m = fw.b2m
    b2m[P.OFF_ACK] = ack
    if call_id is not None:
        b2m[P.OFF_CALL_ID] = call_id
    if irq is not None:
        set_irq_id(b2m, irq)


def setup_done(fw: StandIn) -> None:
    final(fw, P.YIELD_SETUP)


def log_request(fw: StandIn, call_id: int | None = None) -> None:
    request(fw, P.LOG, b"\x00\x01hi", call_id)
