# The contract between host and microapp: message types, acks, sub-types and the buffer layout.
# Bytes 0-47 of each buffer are bluenet's io_buffer_t (cs_MicroappStructs.h): the 2-byte header
# (type, ack) and each type's struct at bluenet's offsets, with bluenet's numbers. What we add
# (call id, used length, interrupt id, tick time, the raised flag and error text) lives in one
# trailer after byte 47. docs/protocol.md gives every byte; OFF_* below are buffer offsets.
# Runs under MicroPython: const() is a compile-time constant there, the identity in CPython.
# The layouts only the radio and world SDK objects read are in protocol_world.py, what only the
# host reads in protocol_host.py: a board loads those only when it needs them (each public name
# of a loaded module costs heap there); under CPython this module re-exports both.
import sys

from shared_buffers import names as _names

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

ACK_NAMES = tuple(_names.ACKS.split())

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
SIGNAL_NAMES = tuple(_names.SIGNALS.split())

# The SDK's interrupt stack (microapp.c MAX_INTERRUPT_DEPTH) and registrations (microapp.h).
DEFAULT_STACK_DEPTH = const(3)
SDK_MAX_REGISTRATIONS = const(6)


def ack_name(a):
    return ACK_NAMES[a] if 0 <= a < len(ACK_NAMES) else "0x%02X" % a


if sys.implementation.name != "micropython":
    # The layouts only the radio and world SDK objects read (imported on a board with them).
    from shared_buffers.protocol_world import *  # noqa: E402,F401,F403
    # What only the host reads (CPython). Kept out of this module on a board: every public name
    # of a module loaded there takes heap for its name and its dict entry.
    from shared_buffers.protocol_host import *  # noqa: E402,F401,F403
else:
    def __getattr__(name):
        # a host running in MicroPython (tests) gets the other names when it first asks for one
        from shared_buffers import protocol_world
        if hasattr(protocol_world, name):
            return getattr(protocol_world, name)
        from shared_buffers import protocol_host
        return getattr(protocol_host, name)

del sys  # an app that reaches this module (the SDK uses it) does not reach sys.modules from it
