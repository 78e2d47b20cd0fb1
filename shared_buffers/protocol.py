# The contract between host and microapp: message types, acks, sub-codes and the buffer layout.
# Numbers follow bluenet's cs_MicroappStructs.h; what bluenet lacks (call id, interrupt id,
# payload length) sits in the header after bluenet's two bytes. docs/protocol.md gives every byte.
# Runs under MicroPython: const() is a compile-time constant there, the identity in CPython.
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):  # type: ignore[misc]
        return x

# Message types (header byte 0), as bluenet numbers them.
NONE = const(0x00)
LOG = const(0x01)
PIN = const(0x02)
SWITCH = const(0x03)
SERVICE_DATA = const(0x04)
TWI = const(0x05)
BLE = const(0x06)
MESH = const(0x07)
POWER_USAGE = const(0x08)
PRESENCE = const(0x09)
CONTROL_COMMAND = const(0x0A)
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

# Acks (header byte 1), as bluenet numbers them.
SUCCESS = const(0x00)
NO_REQUEST = const(0x01)
REQUEST = const(0x02)
IN_PROGRESS = const(0x03)
ERROR = const(0x04)
ERR_NOT_FOUND = const(0x05)
ERR_UNDEFINED = const(0x06)
ERR_NO_SPACE = const(0x07)
ERR_NOT_IMPLEMENTED = const(0x08)
ERR_BUSY = const(0x09)
ERR_OUT_OF_RANGE = const(0x0A)
ERR_DISABLED = const(0x0B)
ERR_EMPTY = const(0x0C)
ERR_TOO_LARGE = const(0x0D)
ERR_ALREADY_EXISTS = const(0x0E)
ERR_WRONG_PARAM = const(0x0F)
ERR_TIMEOUT = const(0x10)

ACK_NAMES = (
    "SUCCESS", "NO_REQUEST", "REQUEST", "IN_PROGRESS", "ERROR", "ERR_NOT_FOUND", "ERR_UNDEFINED",
    "ERR_NO_SPACE", "ERR_NOT_IMPLEMENTED", "ERR_BUSY", "ERR_OUT_OF_RANGE", "ERR_DISABLED",
    "ERR_EMPTY", "ERR_TOO_LARGE", "ERR_ALREADY_EXISTS", "ERR_WRONG_PARAM", "ERR_TIMEOUT",
)

# Header: type u8, ack u8, call id u8, payload length u8, interrupt id u16 little-endian.
OFF_TYPE = const(0)
OFF_ACK = const(1)
OFF_CALL_ID = const(2)
OFF_LENGTH = const(3)
OFF_IRQ_ID = const(4)
HEADER_SIZE = const(6)
PAYLOAD_SIZE = const(48)
BUFFER_SIZE = const(54)

# YIELD payload: [0] sub-type, [1] empty interrupt slots, then (only with an error ack) the
# error text. A YIELD is the final status of an entry: ack NO_REQUEST = clean, an error ack = the
# context raised.
YIELD_SETUP = const(1)
YIELD_LOOP = const(2)
YIELD_ASYNC = const(3)

# CONTINUE payload: [0:4] time of the tick in ms, u32 little-endian.

# LOG payload: [0] value kind, [1] flags, [2:] value.
LOG_STR = const(0)
LOG_INT = const(1)  # value: i32 little-endian
LOG_FLAG_NEWLINE = const(1)

# PIN request payload: [0] op, [1] pin, [2] value or mode, [3] edge (MODE only).
PIN_MODE = const(1)
PIN_READ = const(2)   # the host writes the level into [2]
PIN_WRITE = const(3)
PIN_EVENT = const(4)  # interrupt: [1] pin, [2] new level
PIN_INPUT = const(0)
PIN_OUTPUT = const(1)
PIN_INPUT_PULLUP = const(2)
EDGE_NONE = const(0)
EDGE_RISING = const(1)
EDGE_FALLING = const(2)
EDGE_CHANGE = const(3)

# MESH payload: [0] op, then per op.
MESH_SEND = const(1)      # [1] stone id (0 = all), [2:] data
MESH_LISTEN = const(2)    # registers the MESH interrupt
MESH_OWN_ID = const(3)    # the host writes the stone id into [1]
MESH_RECEIVED = const(4)  # interrupt: [1] sender stone id, [2:] data
MESH_MAX_DATA = const(7)

# BLE payload: [0] op, then per op.
BLE_SCAN_START = const(1)
BLE_SCAN_STOP = const(2)
BLE_SCAN_REGISTER = const(3)  # registers the BLE scan interrupt
BLE_SCAN_RESULT = const(4)    # interrupt: [1:7] MAC, [7] rssi (i8), [8:] advertisement data

# SIGNAL interrupt payload: [0] reason code, [1:3] interrupt id of what was dropped or aborted.
# Events get interrupt ids 1..0x7FFF; a signal's own delivery gets one with bit 15 set.
# SIGNAL request payload: [0] op.
SIGNAL_RESERVE = const(1)  # [1] budget (signals per tick) the app reserves
SIGNAL_REGISTER = const(2)  # the app has a signal handler
SIGNAL_ID_BIT = const(0x8000)
SIG_THROTTLED = const(1)
SIG_BUSY = const(2)
SIG_QUEUE_FULL = const(3)
SIG_HANDLER_FAULT = const(4)  # this event's handler raised
SIG_WATCHDOG = const(5)  # the app hung while this event was open or waiting
SIG_APP_FAULT = const(6)  # the app faulted elsewhere (or broke the protocol) and was restarted or stopped
SIGNAL_NAMES = ("NONE", "THROTTLED", "BUSY", "QUEUE_FULL", "HANDLER_FAULT", "WATCHDOG", "APP_FAULT")

# Interrupt sources are keyed (type, sub-id): a PIN interrupt by its pin, MESH, BLE and SIGNAL by 0.
DEFAULT_STACK_DEPTH = const(3)


def type_name(t):
    return TYPE_NAMES[t] if 0 <= t < TYPE_COUNT else "0x%02X" % t


def ack_name(a):
    return ACK_NAMES[a] if 0 <= a < len(ACK_NAMES) else "0x%02X" % a
