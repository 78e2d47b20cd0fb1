"""MESSAGE: microapp_sdk_message_t (handleRequestMessage, RequestHandler.cpp:965-1001): register
for messages from outside, send one out (UART_OPCODE_TX_MICROAPP_DATA, clipped to 43 bytes); and
the RECEIVED interrupt (onMessage, InterruptHandler.cpp:112-148), whose result the sender gets."""
from __future__ import annotations

from host import interrupts as I
from host.interrupts import Registry, bluenet_result
from shared_buffers import protocol as P

_D = P.OFF_MESSAGE_DATA
KEY = (P.MESSAGE << 8) | P.MESSAGE_RECEIVED


class Message:
    def __init__(self, world, registry: Registry) -> None:
        self.world = world
        self.registry = registry

    def handle(self, m2b: bytearray) -> int:
        kind = m2b[P.OFF_MESSAGE_TYPE]
        if kind == P.MESSAGE_REGISTER:
            return bluenet_result(self.registry.register(KEY))
        if kind == P.MESSAGE_SEND:
            size = min(m2b[P.OFF_MESSAGE_SIZE] | m2b[P.OFF_MESSAGE_SIZE + 1] << 8, P.MESSAGE_MAX)
            self.world.message_out(bytes(m2b[_D:_D + size]))
            return P.SUCCESS
        return P.ERR_NOT_FOUND


def interrupt(data: bytes) -> tuple[int, bytes]:
    """(interrupt id byte, bytes 2.. of b2m) for a received message (at most 43 bytes)."""
    return P.MESSAGE_RECEIVED, bytes((P.MESSAGE_RECEIVED, len(data) & 0xFF, len(data) >> 8)) + data


def sender_result(data: bytes, registered: bool, outcome: str | None) -> str:
    """What bluenet's onMessage answers the phone or hub: checked before any interrupt."""
    if not data:
        return "ERR_WRONG_PAYLOAD_LENGTH"
    if len(data) > P.MESSAGE_MAX:
        return "ERR_BUFFER_TOO_SMALL"
    if not registered:
        return "ERR_NOT_STARTED"
    return "SUCCESS" if outcome in (I.DELIVERED, I.QUEUED) else "ERR_BUSY"
