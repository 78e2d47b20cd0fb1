"""One module per SDK type, each holding both directions: validating and executing its requests
(bluenet's cs_MicroappRequestHandler.cpp), and building its interrupts
(cs_MicroappInterruptHandler.cpp). Adding a type is adding a module and a line in `table`.

A request handler takes the microapp-to-host buffer, reads bluenet's struct at its offsets,
writes any result back into it and returns the ack. Nothing a microapp writes may make one
raise: every field is checked first and a bad one gets bluenet's error ack.
"""
from __future__ import annotations

from typing import Callable

from shared_buffers import protocol as P

Handler = Callable[[bytearray], int]

# bluenet's stopAfterMicroappRequest (cs_MicroappController.cpp:326-353): after these types the
# app is resumed again in the same entry; after NONE, YIELD, CONTINUE or an unknown type not.
CONTINUES = frozenset((P.LOG, P.PIN, P.SWITCH, P.SERVICE_DATA, P.TWI, P.BLE, P.MESH,
                       P.POWER_USAGE, P.PRESENCE, P.CONTROL_COMMAND, P.MESSAGE, P.BLUENET_EVENT,
                       P.ASSETS, P.SIGNAL))


def not_implemented(m2b: bytearray) -> int:
    """A type bluenet serves that this host does not model (yet)."""
    return P.ERR_NOT_IMPLEMENTED


def table(handlers: dict[int, Handler]) -> list[Handler | None]:
    """The dispatch table by message type: None answers ERR_UNDEFINED (unknown, CONTINUE)."""
    t: list[Handler | None] = [None] * 256
    for msg_type in CONTINUES:
        t[msg_type] = not_implemented
    for msg_type, handler in handlers.items():
        t[msg_type] = handler
    return t
