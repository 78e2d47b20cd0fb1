"""CONTROL_COMMAND: microapp_sdk_control_command_t (handleRequestControlCommand,
RequestHandler.cpp:939-963), then bluenet's CommandHandler as at crownstone/bluenet b4161ec3d
(cs_CommandHandler.cpp: _handleCommand, getRequiredAccessLevel and the handlers), with access
MEMBER, source MICROAPP and an empty result buffer (cs_result_t(): a microapp gets no result
data, so every "get" command fails with ERR_BUFFER_TOO_SMALL or ERR_BUFFER_UNASSIGNED).

Each command answers bluenet's result code; the microapp sees it through bluenetResultToMicroapp
(cs_MicroappSdkUtil.cpp:22-50). Every command but a switching one that succeeded is recorded in
the world's history ("control", with bluenet's result). docs/protocol.md has the table: what
takes effect, what is only acked, and the few whose effect we do not model."""
from __future__ import annotations

from shared_buffers import protocol as P

# CommandHandlerTypes (cs_CommandTypes.h).
SETUP, STATE_GET, STATE_SET, GET_BOOTLOADER_VERSION, GET_UICR_DATA = 0, 2, 3, 4, 5
GET_MAC_ADDRESS, GET_HARDWARE_VERSION, GET_FIRMWARE_VERSION = 7, 8, 9
NOP, DISCONNECT, SWITCH, MULTI_SWITCH, PWM, RELAY = 12, 13, 20, 21, 22, 23
SET_TIME, INCREASE_TX, MESH_COMMAND, SET_SUN_TIME, GET_TIME = 30, 31, 33, 34, 35
SAVE_BEHAVIOUR, REPLACE_BEHAVIOUR, REMOVE_BEHAVIOUR, GET_BEHAVIOUR, GET_BEHAVIOUR_INDICES = 60, 61, 62, 63, 64
REGISTER_TRACKED_DEVICE, TRACKED_DEVICE_HEARTBEAT = 70, 71

# getRequiredAccessLevel: what a MEMBER (the microapp) may give: ENCRYPTION_DISABLED, BASIC
# (SETUP and INCREASE_TX too: BASIC, though meant for setup mode) and MEMBER. Every other known
# type needs ADMIN; an unknown one is NOT_SET: both ERR_NO_ACCESS (KeysAndAccess::allowAccess).
MEMBER_TYPES = frozenset((SETUP, STATE_GET, STATE_SET, GET_BOOTLOADER_VERSION, GET_UICR_DATA,
                          GET_MAC_ADDRESS, GET_HARDWARE_VERSION, GET_FIRMWARE_VERSION, NOP,
                          DISCONNECT, SWITCH, MULTI_SWITCH, PWM, RELAY, SET_TIME, INCREASE_TX,
                          MESH_COMMAND, SET_SUN_TIME, GET_TIME, SAVE_BEHAVIOUR, REPLACE_BEHAVIOUR,
                          REMOVE_BEHAVIOUR, GET_BEHAVIOUR, GET_BEHAVIOUR_INDICES,
                          REGISTER_TRACKED_DEVICE, TRACKED_DEVICE_HEARTBEAT))
# allowedAsMeshCommand (cs_CommandHandler.cpp): of these a member may give SET_TIME and STATE_SET.
MESH_ALLOWED = frozenset((1, 32, 10, SET_TIME, STATE_SET, 50, 6, 36, 41, 40, 92, 93, 94, 95))

# bluenetResultToMicroapp: these keep a meaning of their own, every other code is ERROR.
TO_MICROAPP = {"ERR_SUCCESS": P.SUCCESS, "ERR_SUCCESS_NO_CHANGE": P.SUCCESS,
               "ERR_WAIT_FOR_SUCCESS": P.IN_PROGRESS, "ERR_NOT_FOUND": P.ERR_NOT_FOUND,
               "ERR_NO_SPACE": P.ERR_NO_SPACE, "ERR_NOT_IMPLEMENTED": P.ERR_NOT_IMPLEMENTED,
               "ERR_BUSY": P.ERR_BUSY, "ERR_NOT_AVAILABLE": P.ERR_DISABLED}

OK, WRONG_LENGTH, TOO_SMALL = "ERR_SUCCESS", "ERR_WRONG_PAYLOAD_LENGTH", "ERR_BUFFER_TOO_SMALL"
STATE_HEADER = 4          # state_packet_header_t: type u16, id u8, persistence mode u8
MESH_HEADER = 4           # mesh_control_command_packet_header_t: type, flags, timeout, id count
CONTROL_HEADER = 5        # control_packet_header_t: protocol u8, type u16, payload size u16
TRACKED_DEVICE_SIZE = 11  # register_tracked_device_packet_t (cs_Packets.h:351-367)
HEARTBEAT_SIZE = 7        # tracked_device_heartbeat_packet_t (cs_Packets.h:371-376)
SECONDS_PER_DAY = 24 * 60 * 60


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
        payload = bytes(m2b[P.OFF_CONTROL_PAYLOAD:P.OFF_CONTROL_PAYLOAD + size])
        result = self.command(m2b[P.OFF_CONTROL_PROTOCOL], command, payload)
        ack = TO_MICROAPP.get(result, P.ERROR)
        if command not in (SWITCH, RELAY, PWM, MULTI_SWITCH) or result != OK:
            self.world.control(command, payload, ack, result)
        return ack

    def command(self, protocol: int, command: int, payload: bytes) -> str:
        """CommandHandler::_handleCommand: bluenet's result code, by name."""
        if protocol != P.CONTROL_PROTOCOL:
            return "ERR_PROTOCOL_UNSUPPORTED"
        if command not in MEMBER_TYPES:
            return "ERR_NO_ACCESS"
        return getattr(self, _HANDLERS[command])(payload)

    # -- the switch ------------------------------------------------------------------------------
    def _switching(self, payload: bytes, change) -> str:
        """handleCmdSwitch, handleCmdPwm, handleCmdRelay: switch_message_payload_t (1 byte)."""
        if not self.world.has_switch:
            return "ERR_NOT_AVAILABLE"  # not a Crownstone (IS_CROWNSTONE)
        if len(payload) != 1:
            return WRONG_LENGTH
        change(payload[0], "control")
        return OK

    def _switch(self, payload: bytes) -> str:
        return self._switching(payload, self.world.dispatch_switch)

    def _relay(self, payload: bytes) -> str:
        return self._switching(payload, lambda value, source: self.world.switch_relay(value != 0, source))

    def _pwm(self, payload: bytes) -> str:
        return self._switching(payload, self.world.switch_dimmer)

    def _multi_switch(self, payload: bytes) -> str:
        """handleCmdMultiSwitch: multi_switch_t (count u8, then count items of stone id u8 and
        switch value u8; cs_Packets.h:253-264). Valid when the payload holds count items (the
        count is not held to the struct's 5). An item for id 0 is skipped; one for this stone's
        id goes to the aggregator as CMD_SWITCH (MultiSwitchHandler; no IS_CROWNSTONE check: on
        a guidestone no one listens); one for another stone goes out on the mesh
        (CMD_SEND_MESH_MSG_MULTI_SWITCH). ERR_SUCCESS whatever the items did."""
        count = payload[0]
        if len(payload) < 1 + 2 * count:
            return "ERR_INVALID_MESSAGE"
        for i in range(count):
            stone, value = payload[1 + 2 * i], payload[2 + 2 * i]
            if stone != 0:  # cs_multi_switch_item_is_valid
                self.world.multi_switch(stone, value)
        return OK

    # -- time ------------------------------------------------------------------------------------
    def _set_time(self, payload: bytes) -> str:
        """CMD_SET_TIME through the dispatcher (payload must be TypeSize 4), SystemTime::setTime:
        0 is ERR_WRONG_PARAMETER; within 60 s of the last set ERR_BUSY (throttled)."""
        if len(payload) != 4:
            return WRONG_LENGTH
        return self.world.set_time(int.from_bytes(payload, "little"), "control")

    def _set_sun_time(self, payload: bytes) -> str:
        """handleCmdSetSunTime: sun_time_t (sunrise, sunset u32, seconds after midnight);
        SystemTime::setSunTimes: over a day ERR_WRONG_PARAMETER, within 30 min ERR_BUSY."""
        if len(payload) != 8:
            return WRONG_LENGTH
        rise, sunset = int.from_bytes(payload[:4], "little"), int.from_bytes(payload[4:], "little")
        if rise > SECONDS_PER_DAY or sunset > SECONDS_PER_DAY:
            return "ERR_WRONG_PARAMETER"
        return self.world.set_sun_time(rise, sunset)

    # -- acked as bluenet acks them, nothing to change in this world -----------------------------
    def _success(self, payload: bytes) -> str:
        return OK  # NOP; DISCONNECT (no connection); INCREASE_TX (advertiser's TX power)

    def _no_result_buffer(self, payload: bytes) -> str:
        return TOO_SMALL  # GET_UICR_DATA, GET_MAC_ADDRESS, GET_TIME: the result has no room

    def _not_implemented(self, payload: bytes) -> str:
        return "ERR_NOT_IMPLEMENTED"  # GET_HARDWARE_VERSION, GET_FIRMWARE_VERSION

    def _bootloader_version(self, payload: bytes) -> str:
        # bluenet sets ERR_BUFFER_TOO_SMALL but goes on (no return), and ends with ERR_SUCCESS
        # when the bootloader left its IPC data (it always does): a bug, acked as bluenet acks.
        return OK

    def _setup(self, payload: bytes) -> str:
        return "ERR_NOT_AVAILABLE"  # Setup::handleCommand: only in setup mode

    def _state_get(self, payload: bytes) -> str:
        # Past the header: ERR_NO_ACCESS for a state a member may not read, else no room.
        return WRONG_LENGTH if len(payload) < STATE_HEADER else TOO_SMALL

    def _behaviour_indices(self, payload: bytes) -> str:
        return WRONG_LENGTH  # CMD_GET_BEHAVIOUR_INDICES has TypeSize 0; a request has >= 1 byte

    def _get_behaviour(self, payload: bytes) -> str:
        # The behaviour store is not modelled: every index is empty (ERR_NOT_FOUND).
        return WRONG_LENGTH if len(payload) != 1 else "ERR_NOT_FOUND"

    # -- acked after bluenet's first checks, their effect not modelled ---------------------------
    def _not_modelled(self, payload: bytes) -> str:
        return OK  # SAVE_BEHAVIOUR, REPLACE_BEHAVIOUR: addBehaviour's checks not modelled

    def _state_set(self, payload: bytes) -> str:
        return WRONG_LENGTH if len(payload) < STATE_HEADER else OK

    def _remove_behaviour(self, payload: bytes) -> str:
        return WRONG_LENGTH if len(payload) != 1 else OK

    def _tracked_device(self, payload: bytes) -> str:
        return WRONG_LENGTH if len(payload) != TRACKED_DEVICE_SIZE else OK

    def _heartbeat(self, payload: bytes) -> str:
        return WRONG_LENGTH if len(payload) != HEARTBEAT_SIZE else OK

    def _mesh_command(self, payload: bytes) -> str:
        """handleCmdMeshCommand: mesh header (type 0, flags, timeout, id count), the ids, a
        control header (protocol u8, type u16, size u16) and its payload. Only SET_TIME and
        STATE_SET pass allowedAsMeshCommand and a member's access. For this stone (no ids, or
        its own among them) the inner command is handled here; for others it goes on the mesh
        (recorded; the state's access level and MeshMsgSender's own checks not modelled)."""
        if len(payload) < MESH_HEADER:
            return "ERR_INVALID_MESSAGE"
        if payload[0] != 0:
            return "ERR_WRONG_PARAMETER"
        count = payload[3]
        start = MESH_HEADER + count
        if len(payload) < start + CONTROL_HEADER:
            return WRONG_LENGTH
        ids = payload[MESH_HEADER:start]
        inner = payload[start + 1] | payload[start + 2] << 8  # its protocol byte is not read
        size = payload[start + 3] | payload[start + 4] << 8
        data = payload[start + CONTROL_HEADER:start + CONTROL_HEADER + size]
        if len(data) < size:
            return WRONG_LENGTH
        if inner not in MESH_ALLOWED:
            return "ERR_NOT_AVAILABLE"
        if inner not in MEMBER_TYPES:
            return "ERR_NO_ACCESS"
        own = self.world.stone_id
        for_self = not ids or own in ids
        for_others = not ids or any(i != own for i in ids)
        if for_self:
            result = self.command(P.CONTROL_PROTOCOL, inner, data)  # bluenet passes the outer one
            if not for_others:
                return result  # else the mesh's result replaces it
        if inner == STATE_SET and len(data) < STATE_HEADER:
            return WRONG_LENGTH
        self.world.mesh_command_out(bytes(ids), inner, data)
        return OK


_HANDLERS = {
    SETUP: "_setup", STATE_GET: "_state_get", STATE_SET: "_state_set",
    GET_BOOTLOADER_VERSION: "_bootloader_version", GET_UICR_DATA: "_no_result_buffer",
    GET_MAC_ADDRESS: "_no_result_buffer", GET_HARDWARE_VERSION: "_not_implemented",
    GET_FIRMWARE_VERSION: "_not_implemented", NOP: "_success", DISCONNECT: "_success",
    SWITCH: "_switch", MULTI_SWITCH: "_multi_switch", PWM: "_pwm", RELAY: "_relay",
    SET_TIME: "_set_time", INCREASE_TX: "_success", MESH_COMMAND: "_mesh_command",
    SET_SUN_TIME: "_set_sun_time", GET_TIME: "_no_result_buffer", SAVE_BEHAVIOUR: "_not_modelled",
    REPLACE_BEHAVIOUR: "_not_modelled", REMOVE_BEHAVIOUR: "_remove_behaviour",
    GET_BEHAVIOUR: "_get_behaviour", GET_BEHAVIOUR_INDICES: "_behaviour_indices",
    REGISTER_TRACKED_DEVICE: "_tracked_device", TRACKED_DEVICE_HEARTBEAT: "_heartbeat",
}
