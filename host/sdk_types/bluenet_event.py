"""BLUENET_EVENT: microapp_sdk_bluenet_event_t (handleRequestBluenetEvent,
RequestHandler.cpp:1003-1018; registerBluenetEventInterrupt, Controller.cpp:481-497) and the
EVENT interrupt (onBluenetEvent, InterruptHandler.cpp:573-591): the event's CS_TYPE, its size and
at most 41 bytes of its data.

bluenet's bug: registerBluenetEventInterrupt registers the (BLUENET_EVENT, 0) interrupt first and
returns its ERR_ALREADY_EXISTS for every type after the first, so a second subscription fails
(ERROR) and is not stored. We do what was meant: one interrupt registration, up to 10 types
(MICROAPP_MAX_BLUENET_EVENT_INTERRUPT_REGISTRATIONS), a type subscribed twice is SUCCESS. Type 0
(CONFIG_DO_NOT_USE, bluenet's empty-slot marker) reads as registered: SUCCESS, nothing stored.

The world raises the events in docs/protocol.md's table. bluenet dispatches an event raised by
the app's own request (a SWITCH that changes the state) inside that request; we deliver it when
the entry has ended, at the same time."""
from __future__ import annotations

from host.interrupts import Registry, bluenet_result
from shared_buffers import protocol as P

KEY = P.BLUENET_EVENT << 8  # registerSoftInterrupt(BLUENET_EVENT, 0)


class BluenetEvent:
    def __init__(self, registry: Registry, on_subscribe=lambda cs_type: None) -> None:
        self.registry = registry
        self.types: set[int] = set()
        self.on_subscribe = on_subscribe  # the world starts raising a periodic event

    def registered(self) -> bool:
        if KEY not in self.registry.counts:
            self.types.clear()  # bluenet's clear(): the app was restarted
            return False
        return True

    def handle(self, m2b: bytearray) -> int:
        if m2b[P.OFF_EVENT_TYPE] != P.EVENT_REGISTER:
            return P.ERR_NOT_FOUND
        event_type = m2b[P.OFF_EVENT_EVENT_TYPE] | m2b[P.OFF_EVENT_EVENT_TYPE + 1] << 8
        if not self.registered():
            ack = self.registry.register(KEY)
            if ack != P.SUCCESS:
                return bluenet_result(ack)
        if event_type == 0 or event_type in self.types:
            return P.SUCCESS
        if len(self.types) >= P.EVENT_MAX_TYPES:
            return P.ERR_NO_SPACE
        self.types.add(event_type)
        self.on_subscribe(event_type)
        return P.SUCCESS

    def wants(self, cs_type: int) -> bool:
        return cs_type in self.types and self.registered()


def interrupt(cs_type: int, data: bytes) -> tuple[int, bytes]:
    """(interrupt id byte, bytes 2.. of b2m) for an event: type EVENT, CS_TYPE u16, size u16, data.
    bluenet registers the interrupt as (BLUENET_EVENT, 0); the SDK dispatches on the type, EVENT."""
    data = data[:P.EVENT_MAX]
    return 0, bytes((P.EVENT_EVENT, cs_type & 0xFF, cs_type >> 8, len(data), 0)) + data
