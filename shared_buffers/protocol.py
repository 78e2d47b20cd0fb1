# The contract between host and microapp: message types, acks, sub-types and the buffer layout.
# Bytes 0-47 of each buffer are bluenet's io_buffer_t (cs_MicroappStructs.h): the 2-byte header
# (type, ack) and each type's struct at bluenet's offsets, with bluenet's numbers. What we add
# (call id, used length, interrupt id, tick time, the raised flag and error text) lives in one
# trailer after byte 47. docs/protocol.md gives every byte; OFF_* below are buffer offsets.
# Runs under MicroPython: const() is a compile-time constant there, the identity in CPython.
import sys

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):  # type: ignore[misc]
        return x

# Message types (byte 0), MicroappSdkType (structs.h:130-163).
LOG = const(0x01)
PIN = const(0x02)
SWITCH = const(0x03)
SERVICE_DATA = const(0x04)
TWI = const(0x05)
BLE = const(0x06)
MESH = const(0x07)
POWER_USAGE = const(0x08)
PRESENCE = const(0x09)
YIELD = const(0x0B)
CONTINUE = const(0x0C)
MESSAGE = const(0x0D)
BLUENET_EVENT = const(0x0E)
ASSETS = const(0x0F)
# Ours: the host delivers a pending signal (seed 003) as an interrupt of this type.
SIGNAL = const(0x10)
TYPE_COUNT = const(0x11)

TYPE_NAMES = (
    "NONE", "LOG", "PIN", "SWITCH", "SERVICE_DATA", "TWI", "BLE", "MESH", "POWER_USAGE",
    "PRESENCE", "CONTROL_COMMAND", "YIELD", "CONTINUE", "MESSAGE", "BLUENET_EVENT", "ASSETS",
    "SIGNAL",
)

# Acks (byte 1), MicroappSdkAck (structs.h:82-123).
SUCCESS = const(0x00)
NO_REQUEST = const(0x01)
REQUEST = const(0x02)
IN_PROGRESS = const(0x03)
ERROR = const(0x04)
ERR_NOT_FOUND = const(0x05)
ERR_UNDEFINED = const(0x06)
ERR_NO_SPACE = const(0x07)
ERR_BUSY = const(0x09)

ACK_NAMES = (
    "SUCCESS", "NO_REQUEST", "REQUEST", "IN_PROGRESS", "ERROR", "ERR_NOT_FOUND", "ERR_UNDEFINED",
    "ERR_NO_SPACE", "ERR_NOT_IMPLEMENTED", "ERR_BUSY", "ERR_OUT_OF_RANGE", "ERR_DISABLED",
    "ERR_EMPTY", "ERR_TOO_LARGE", "ERR_ALREADY_EXISTS", "ERR_WRONG_PARAM", "ERR_TIMEOUT",
)

# -- the buffer: bluenet's 48 bytes, then our trailer ------------------------------------------
OFF_TYPE = const(0)
OFF_ACK = const(1)
BLUENET_SIZE = const(48)  # MICROAPP_SDK_MAX_PAYLOAD: header included (structs.h:45)
OFF_CALL_ID = const(48)   # u8: the context this message belongs to (seed 001)
OFF_USED = const(49)      # u8: bytes 0..used-1 of bluenet's part are in use (what travels)
OFF_IRQ_ID = const(50)    # u16 LE: the interrupt (event) id; signals have bit 15 set
OFF_TIME = const(52)      # u32 LE, b2m: the host's clock at this entry, ms (millis())
OFF_GRANT_DONE = const(52)  # u8, m2b: idle ticks of a grant the runtime ran before this message
OFF_FLAGS = const(56)     # u8, a final status: FLAG_RAISED when the context raised
OFF_GRANT = const(56)     # u8, b2m CONTINUE: idle ticks granted in one entry (0, 1: none)
OFF_TEXT_LEN = const(57)  # u8: bytes of error text that follow
OFF_TEXT = const(58)
TEXT_MAX = const(40)
TRAILER_FIXED = const(10)
BUFFER_SIZE = const(98)
FLAG_RAISED = const(1)

# -- LOG: microapp_sdk_log_header_t (structs.h:417-494) ---------------------------------------
OFF_LOG_TYPE = const(2)
OFF_LOG_FLAGS = const(3)
OFF_LOG_SIZE = const(4)
OFF_LOG_VALUE = const(5)
LOG_CHAR = const(1)
LOG_INT = const(2)
LOG_STR = const(3)
LOG_ARR = const(4)
LOG_FLOAT = const(5)
LOG_DOUBLE = const(6)
LOG_UINT = const(7)
LOG_SHORT = const(8)
LOG_FLAG_NEWLINE = const(1)
LOG_MAX_STRING = const(43)  # the str field; bluenet forces a zero at min(size, 42)
LOG_MAX_ARRAY = const(43)

# -- PIN: microapp_sdk_pin_t, 8 bytes (structs.h:225-272, 499-522) ----------------------------
OFF_PIN_PIN = const(2)
OFF_PIN_TYPE = const(3)
OFF_PIN_DIRECTION = const(4)
OFF_PIN_POLARITY = const(5)
OFF_PIN_ACTION = const(6)
OFF_PIN_VALUE = const(7)
PIN_STRUCT = const(8)
PIN_INIT = const(1)
PIN_ACTION = const(2)
PIN_INPUT = const(1)
PIN_INPUT_PULLUP = const(2)
PIN_OUTPUT = const(3)
PIN_NO_POLARITY = const(1)
PIN_CHANGE = const(2)
PIN_RISING = const(3)
PIN_FALLING = const(4)
PIN_READ = const(1)
PIN_WRITE = const(2)
PIN_OFF = const(0)
PIN_ON = const(1)
# bluenet's 18 virtual pins (structs.h:201-220): GPIO0-9, BUTTON1-4, LED1-4.
PIN_COUNT = const(18)

# -- SWITCH: microapp_sdk_switch_t, 4 bytes (structs.h:274-294, 526-547) ----------------------
OFF_SWITCH_TYPE = const(2)
OFF_SWITCH_VALUE = const(3)  # set: the value below; get: dimmer (bits 0-6) | relay (bit 7)
SWITCH_STRUCT = const(4)
SWITCH_SET = const(1)
SWITCH_GET = const(2)
SWITCH_OFF = const(0)
SWITCH_ON = const(100)
SWITCH_TOGGLE = const(0xFD)
SWITCH_BEHAVIOUR = const(0xFE)
SWITCH_SMART_ON = const(0xFF)

# -- SERVICE_DATA: microapp_sdk_service_data_t, 13 bytes (structs.h:554-565) ------------------
OFF_SERVICE_UUID = const(2)  # u16
OFF_SERVICE_SIZE = const(4)
OFF_SERVICE_DATA = const(5)
SERVICE_DATA_MAX = const(8)

# -- TWI: microapp_sdk_twi_t (structs.h) ------------------------------------------------------
OFF_TWI_TYPE = const(2)
OFF_TWI_ADDRESS = const(3)
OFF_TWI_FLAGS = const(4)
OFF_TWI_SIZE = const(5)
OFF_TWI_BUF = const(6)
TWI_READ = const(1)
TWI_WRITE = const(2)
TWI_INIT = const(3)
TWI_FLAG_STOP = const(1)
TWI_MAX = const(42)

# -- BLE: microapp_sdk_ble_t, two levels (structs.h:596-1001) ---------------------------------
OFF_BLE_TYPE = const(2)
BLE_SCAN = const(2)
BLE_MAC = const(5)
OFF_BLE_SCAN_TYPE = const(3)
BLE_SCAN_REGISTER = const(1)
BLE_SCAN_START = const(2)
BLE_SCAN_STOP = const(3)
BLE_SCAN_EVENT = const(4)
BLE_SCAN_FILTER = const(5)
# scan event: address type@4, MAC@5-10 (big-endian, as printed), rssi i8@11, size@12, data@13
OFF_BLE_ADDR_TYPE = const(4)
OFF_BLE_MAC = const(5)
OFF_BLE_RSSI = const(11)
OFF_BLE_SIZE = const(12)
OFF_BLE_DATA = const(13)
BLE_ADV_MAX = const(31)
# scan filter: type@4, then rssi i8@5 | mac[6]@5 | name size@5, name[31]@6 | service u16@5
OFF_BLE_FILTER_TYPE = const(4)
OFF_BLE_FILTER_VALUE = const(5)
BLE_FILTER_RSSI = const(1)
BLE_FILTER_MAC = const(2)
BLE_FILTER_NAME = const(3)
BLE_FILTER_SERVICE_16 = const(4)
BLE_NAME_MAX = const(31)
# MAC request: address type@3, MAC@4-9
OFF_BLE_OWN_MAC = const(4)

# -- MESH: microapp_sdk_mesh_t, 13 bytes (structs.h:318-327, 1075-1095) -----------------------
OFF_MESH_TYPE = const(2)
OFF_MESH_STONE = const(3)
OFF_MESH_OPTIONS = const(4)  # bit 0: doNotRelay
OFF_MESH_SIZE = const(5)
OFF_MESH_DATA = const(6)
MESH_SEND = const(1)
MESH_LISTEN = const(2)
MESH_READ_CONFIG = const(3)
MESH_READ = const(4)
MESH_DO_NOT_RELAY = const(1)
MESH_MAX_DATA = const(7)

# -- POWER_USAGE (7 bytes), PRESENCE (11 bytes) -----------------------------------------------
OFF_POWER_TYPE = const(2)
OFF_POWER_VALUE = const(3)  # i32, milliwatts
OFF_PRESENCE_PROFILE = const(2)
OFF_PRESENCE_MASK = const(3)  # u64

# -- CONTROL_COMMAND: protocol@2, type u16@3, size u16@5, payload@7 ---------------------------

# -- MESSAGE: type@2, size u16@3, data@5 ------------------------------------------------------
OFF_MESSAGE_TYPE = const(2)
OFF_MESSAGE_SIZE = const(3)
OFF_MESSAGE_DATA = const(5)
MESSAGE_REGISTER = const(1)
MESSAGE_SEND = const(2)
MESSAGE_RECEIVED = const(3)
MESSAGE_MAX = const(43)

# -- BLUENET_EVENT: type@2, event type u16@3, size u16@5, data@7 ------------------------------
OFF_EVENT_TYPE = const(2)
OFF_EVENT_EVENT_TYPE = const(3)
OFF_EVENT_SIZE = const(5)
OFF_EVENT_DATA = const(7)
EVENT_REGISTER = const(1)
EVENT_EVENT = const(2)
EVENT_MAX = const(41)

# -- ASSETS: type@2, asset id[3]@3, rssi@6, channel@7, profile@8, filter@9, addr type@10, MAC@11

# -- the world's types: what the blocks above leave out (issue 9) ------------------------------
POWER_USAGE_POWER = const(1)  # the request's type; bluenet answers power in mW whatever it is
EVENT_MAX_TYPES = const(10)  # MICROAPP_MAX_BLUENET_EVENT_INTERRUPT_REGISTRATIONS (Controller.h:110)

# -- YIELD: microapp_sdk_yield_t, 4 bytes: sub-type@2, empty interrupt slots@3 ----------------
OFF_YIELD_TYPE = const(2)
OFF_YIELD_SLOTS = const(3)
YIELD_STRUCT = const(4)
YIELD_SETUP = const(1)
YIELD_LOOP = const(2)
YIELD_ASYNC = const(3)

# -- SIGNAL (ours): op@2; request: value@3; interrupt (op EVENT): code@3, source id u16@4 -----
OFF_SIGNAL_OP = const(2)
OFF_SIGNAL_VALUE = const(3)
OFF_SIGNAL_CODE = const(3)
OFF_SIGNAL_SOURCE = const(4)
SIGNAL_RESERVE = const(1)  # value: budget (signals per tick) the app reserves
SIGNAL_REGISTER = const(2)  # the app has a signal handler
SIGNAL_EVENT = const(3)  # the interrupt: one dropped or aborted event
SIG_THROTTLED = const(1)
SIG_BUSY = const(2)
SIG_QUEUE_FULL = const(3)
SIG_HANDLER_FAULT = const(4)  # this event's handler raised
SIG_WATCHDOG = const(5)  # the app hung while this event was open or waiting
SIG_APP_FAULT = const(6)  # the app faulted elsewhere (or broke the protocol) and was restarted or stopped
SIG_GATED = const(7)  # dropped: the app reported no empty interrupt slot (bluenet drops these)
SIG_CPU_BUSY = const(8)  # dropped: the CPU-busy gate was on (bluenet generates none)
SIGNAL_NAMES = ("NONE", "THROTTLED", "BUSY", "QUEUE_FULL", "HANDLER_FAULT", "WATCHDOG", "APP_FAULT",
                "GATED", "CPU_BUSY")

# The SDK's interrupt stack (microapp.c MAX_INTERRUPT_DEPTH) and registrations (microapp.h).
DEFAULT_STACK_DEPTH = const(3)
SDK_MAX_REGISTRATIONS = const(6)


def type_name(t):
    return TYPE_NAMES[t] if 0 <= t < TYPE_COUNT else "0x%02X" % t


def ack_name(a):
    return ACK_NAMES[a] if 0 <= a < len(ACK_NAMES) else "0x%02X" % a


if sys.implementation.name != "micropython":
    # What only the host reads (CPython). Kept out of this module on a board: every public name
    # of a module loaded there takes heap for its name and its dict entry.
    from shared_buffers.protocol_host import *  # noqa: E402,F401,F403
else:
    def __getattr__(name):
        # a host running in MicroPython (tests) gets the host's names when it first asks for one
        from shared_buffers import protocol_host
        return getattr(protocol_host, name)
