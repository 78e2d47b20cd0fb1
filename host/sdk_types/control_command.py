"""CONTROL_COMMAND: microapp_sdk_control_command_t (handleRequestControlCommand,
RequestHandler.cpp:939-963), then bluenet's CommandHandler with access MEMBER and source
MICROAPP (cs_CommandHandler.cpp _handleCommand): protocol 5 only; a command needing ADMIN is
refused; SWITCH, RELAY and PWM (one payload byte each) switch the world, and on a device that is
no Crownstone (a guidestone) answer ERR_NOT_AVAILABLE, which the microapp sees as ERR_DISABLED;
NOP does nothing; the other commands a member may give are recorded and answered SUCCESS, their
effect not modelled.
bluenet's result goes through bluenetResultToMicroapp: every refusal is ERROR."""
from __future__ import annotations

from shared_buffers import protocol as P

NOP, SWITCH, PWM, RELAY = 12, 20, 22, 23
# CommandHandlerTypes (cs_CommandTypes.h) a MEMBER may give (getRequiredAccessLevel: BASIC or
# MEMBER); every other known type needs ADMIN, or setup mode.
MEMBER_TYPES = frozenset((2, 3, 12, 13, 20, 21, 22, 23, 30, 33, 34, 35, 60, 61, 62, 63, 64, 70, 71))
ADMIN_TYPES = frozenset((1, 6, 10, 11, 32, 36, 40, 41, 50, 51, 69, 72, 80, 81, 82, 83, 84, 85, 86,
                         87, 88, 90, 91, 92, 93, 94, 95, 96, 100, 110, 111, 112, 113))
NO_ENCRYPTION_TYPES = frozenset((4, 5, 7, 8, 9))  # answered to anyone
SETUP_TYPES = frozenset((0, 31))  # setup mode only: refused to a member
_P = P.OFF_CONTROL_PAYLOAD


class ControlCommand:
    def __init__(self, world) -> None:
        self.world = world

    def handle(self, m2b: bytearray) -> int:
        size = m2b[P.OFF_CONTROL_SIZE] | m2b[P.OFF_CONTROL_SIZE + 1] << 8
        if size == 0:
            return P.ERR_EMPTY
        if size > P.CONTROL_MAX:
            return P.ERR_TOO_LARGE
        command = m2b[P.OFF_CONTROL_TYPE] | m2b[P.OFF_CONTROL_TYPE + 1] << 8
        payload = bytes(m2b[_P:_P + size])
        ack = self._execute(m2b[P.OFF_CONTROL_PROTOCOL], command, payload)
        if command not in (SWITCH, RELAY, PWM) or ack != P.SUCCESS:
            self.world.control(command, payload, ack)
        return ack

    def _execute(self, protocol: int, command: int, payload: bytes) -> int:
        if protocol != P.CONTROL_PROTOCOL:
            return P.ERROR  # ERR_PROTOCOL_UNSUPPORTED
        if command in ADMIN_TYPES or command in SETUP_TYPES:
            return P.ERROR  # ERR_NO_ACCESS
        if command not in MEMBER_TYPES and command not in NO_ENCRYPTION_TYPES:
            return P.ERROR  # ERR_UNKNOWN_TYPE
        if command in (SWITCH, RELAY, PWM):
            if not self.world.has_switch:
                return P.ERR_DISABLED  # ERR_NOT_AVAILABLE: not a Crownstone (IS_CROWNSTONE)
            if len(payload) != 1:  # switch_message_payload_t
                return P.ERROR  # ERR_WRONG_PAYLOAD_LENGTH
            value, world = payload[0], self.world
            if command == SWITCH:
                world.switch_command(value, "control")
            elif command == RELAY:
                world.switch_relay(value != 0, "control")
            else:
                world.switch_dimmer(value, "control")
        return P.SUCCESS
