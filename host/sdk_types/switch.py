"""SWITCH: microapp_sdk_switch_t (handleRequestSwitch, RequestHandler.cpp:347-405): SET dispatches
CMD_SWITCH with source MICROAPP to the world's switch aggregator; GET answers switch_state_t."""
from __future__ import annotations

from shared_buffers import protocol as P

_NAMED = (P.SWITCH_OFF, P.SWITCH_ON, P.SWITCH_TOGGLE, P.SWITCH_SMART_ON, P.SWITCH_BEHAVIOUR)


class Switch:
    def __init__(self, world) -> None:
        self.world = world

    def handle(self, m2b: bytearray) -> int:
        kind = m2b[P.OFF_SWITCH_TYPE]
        if kind == P.SWITCH_SET:
            value = m2b[P.OFF_SWITCH_VALUE]
            if value not in _NAMED and not P.SWITCH_OFF < value < P.SWITCH_ON:
                return P.ERR_OUT_OF_RANGE
            self.world.dispatch_switch(value, "microapp")
            return P.SUCCESS
        if kind == P.SWITCH_GET:
            m2b[P.OFF_SWITCH_VALUE] = self.world.switch.state  # dimmer bits 0-6, relay bit 7
            return P.SUCCESS
        return P.ERR_UNDEFINED
