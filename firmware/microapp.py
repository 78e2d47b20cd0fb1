# The SDK a microapp imports: crownstone-microapp's objects and names in Python form (bytes and
# str where C passes a pointer and a size): `from microapp import *`. Every call writes bluenet's
# struct into the microapp-to-host buffer and soft-yields through the runtime bound by the link.
# Return values are the real SDK's; where it loses an error (it checks sendMessage()'s result,
# always SUCCESS, instead of the ack), or returns nothing, ours returns what the host answered
# (docs/sdk.md). Runs under MicroPython and CPython.
from firmware.runtime import SDK_CELL as _C
from shared_buffers import protocol as _P  # its numbers: the board's build folds them in
from shared_buffers.names import ACKS as _ACKS, SIGNALS as _SIGNALS, nth as _nth

# -- constants (Arduino.h) --------------------------------------------------------------------
LOW = 0
HIGH = 1
INPUT = _P.PIN_INPUT
OUTPUT = _P.PIN_OUTPUT
INPUT_PULLUP = _P.PIN_INPUT_PULLUP
CHANGE = _P.PIN_CHANGE
RISING = _P.PIN_RISING
FALLING = _P.PIN_FALLING
GPIO0_PIN, GPIO1_PIN, GPIO2_PIN, GPIO3_PIN, GPIO4_PIN = 0, 1, 2, 3, 4
GPIO5_PIN, GPIO6_PIN, GPIO7_PIN, GPIO8_PIN, GPIO9_PIN = 5, 6, 7, 8, 9
BUTTON1_PIN, BUTTON2_PIN, BUTTON3_PIN, BUTTON4_PIN = 10, 11, 12, 13
LED1_PIN, LED2_PIN, LED3_PIN, LED4_PIN = 14, 15, 16, 17
NUMBER_OF_PINS = _P.PIN_COUNT
# Acks, for what the calls return (ours) and raw requests.
SUCCESS = _P.SUCCESS
ERROR = _P.ERROR
# Ours: why an event reached the app only as a signal (on_signal's signal_code).
THROTTLED = _P.SIG_THROTTLED
BUSY = _P.SIG_BUSY
QUEUE_FULL = _P.SIG_QUEUE_FULL
HANDLER_FAULT = _P.SIG_HANDLER_FAULT
WATCHDOG = _P.SIG_WATCHDOG
APP_FAULT = _P.SIG_APP_FAULT
GATED = _P.SIG_GATED
CPU_BUSY = _P.SIG_CPU_BUSY


class _Unbound:
    def __getattr__(self, name):
        raise RuntimeError("microapp calls work in setup(), loop() and handlers, not at import")


_C[0] = _Unbound()  # the Runtime serving this app; set by the link with bind()


class RequestError(Exception):
    """A request the host refused (ours: signals and raw requests); .ack holds the ack."""


def _refused(what, ack):
    # MicroPython has no Exception.__init__ to call from a subclass: build, then annotate.
    e = RequestError("%s refused: %s" % (what, _nth(_ACKS, ack) or "0x%02X" % ack))
    e.ack = ack
    return e


def bind(runtime, _c=_C):
    """Serve SDK calls with `runtime`; None while an app is being imported. (An app that
    reaches it can bind its own SDK to an object of its own, never read the runtime.)"""
    _c[0] = _Unbound() if runtime is None else runtime


# The SDK's ways to the runtime: each holds the cell as a default argument, does one thing an
# app could do with the public SDK anyway, and none returns the runtime (firmware/runtime.py,
# SDK_CELL: an app that walks to this module's globals reaches these, not the runtime).
def _request(msg_type, used, _c=_C):
    return _c[0].request(msg_type, used)


def _register(key, handler, _c=_C):
    return _c[0].register(key, handler)


def _handlers(_c=_C):
    return _c[0].handlers  # this app's dispatch table (its registrations)


def _state(_c=_C):
    return _c[0].sdk_state  # this app's SDK objects' state


# -- raw messages (microapp.h) ----------------------------------------------------------------
def _out(_c=_C):
    """The microapp-to-bluenet buffer: write bluenet's struct at its offsets, then sendMessage()."""
    return _c[0].m2b


getOutgoingMessagePayload = _out


def getIncomingMessagePayload(_c=_C):
    return _c[0].b2m


def sendMessage(used=_P.BLUENET_SIZE, _c=_C):
    """Send the request in the outgoing buffer as it is (its type and ack set by the caller, as
    in C) and return the ack the host wrote (the real SDK returns SUCCESS whatever it was).
    used: how many of bluenet's 48 bytes it fills (what travels on a serial link)."""
    rt = _c[0]
    m2b = rt.m2b
    m2b[_P.OFF_CALL_ID] = rt.call_id
    m2b[_P.OFF_USED] = used
    rt._wait()
    return m2b[1]


# -- Serial (Serial.cpp) ----------------------------------------------------------------------
def _log(kind, flags, data, size):
    m2b = _out()
    m2b[_P.OFF_LOG_TYPE] = kind
    m2b[_P.OFF_LOG_FLAGS] = flags
    m2b[_P.OFF_LOG_SIZE] = size
    m2b[_P.OFF_LOG_VALUE:_P.OFF_LOG_VALUE + len(data)] = data
    _request(_P.LOG, _P.OFF_LOG_VALUE + len(data))
    return m2b[_P.OFF_LOG_SIZE]


def _le(value, n):
    return bytes((value >> (8 * i)) & 0xFF for i in range(n))


def _log_value(value, kind, flags):
    if kind is None:
        if isinstance(value, float):
            kind = _P.LOG_FLOAT
        elif isinstance(value, int) and not isinstance(value, bool):
            kind = _P.LOG_INT if -0x80000000 <= value < 0x80000000 else _P.LOG_UINT
        elif isinstance(value, (bytes, bytearray)):
            kind = _P.LOG_ARR
        else:
            kind = _P.LOG_STR
    if kind == _P.LOG_STR:
        data = str(value).encode()[:_P.LOG_MAX_STRING]  # the SDK truncates (Serial.cpp:175-186)
        return _log(kind, flags, data, len(data))
    if kind == _P.LOG_ARR:
        data = bytes(value)[:_P.LOG_MAX_ARRAY]
        return _log(kind, flags, data, len(data))
    if kind == _P.LOG_FLOAT or kind == _P.LOG_DOUBLE:
        import struct
        data = struct.pack("<f" if kind == _P.LOG_FLOAT else "<d", value)
        return _log(kind, flags, data, len(data))
    size = 1 if kind == _P.LOG_CHAR else 2 if kind == _P.LOG_SHORT else 4
    if kind == _P.LOG_CHAR and isinstance(value, str):
        value = ord(value[0])
    return _log(kind, flags, _le(int(value), size), size)


class _Serial:
    """Serial.print / println / write: one LOG request each, typed by the value (int: INT or
    UINT past 2^31, float: FLOAT, bytes: ARR, anything else: its str), or by `kind`
    (Serial.CHAR, SHORT, UINT, DOUBLE...). Returns the bytes sent, as the real SDK does."""
    CHAR = _P.LOG_CHAR
    INT = _P.LOG_INT
    STR = _P.LOG_STR
    ARR = _P.LOG_ARR
    FLOAT = _P.LOG_FLOAT
    DOUBLE = _P.LOG_DOUBLE
    UINT = _P.LOG_UINT
    SHORT = _P.LOG_SHORT

    def begin(self, baud=0):
        pass

    def print(self, value="", kind=None):
        return _log_value(value, kind, 0)

    def write(self, value="", kind=None):
        return _log_value(value, kind, 0)

    def println(self, value="", kind=None):
        return _log_value(value, kind, _P.LOG_FLAG_NEWLINE)


Serial = _Serial()


def log(*values, sep=" ", end="\n"):
    """print(): one LOG STR request, truncated to 43 bytes as Serial.println does."""
    _log_value(sep.join([str(v) for v in values]), _P.LOG_STR, _P.LOG_FLAG_NEWLINE if "\n" in end else 0)


def _void(fn):
    # The SDK's handlers are void: what the user's function returns is not the ack.
    def handler(frame):
        fn()
    return handler


# -- pins (Arduino.c) -------------------------------------------------------------------------
def _pin(pin, kind, direction=0, polarity=0, action=0, value=0):
    m2b = _out()
    m2b[_P.OFF_PIN_PIN] = pin
    m2b[_P.OFF_PIN_TYPE] = kind
    m2b[_P.OFF_PIN_DIRECTION] = direction
    m2b[_P.OFF_PIN_POLARITY] = polarity
    m2b[_P.OFF_PIN_ACTION] = action
    m2b[_P.OFF_PIN_VALUE] = value
    return _request(_P.PIN, _P.PIN_STRUCT)


def pinMode(pin, mode):
    """Returns the ack (the real one returns nothing); None for a pin the SDK does not know."""
    if 0 <= pin < _P.PIN_COUNT:
        return _pin(pin, _P.PIN_INIT, mode, _P.PIN_NO_POLARITY)


def digitalWrite(pin, value, _c=_C):
    if 0 <= pin < 18:  # PIN_COUNT
        # The fields Arduino.c writes for an ACTION, then Runtime.request inlined: the busiest
        # request of all pays for one Python call, not two. Literals on this hot path.
        rt = _c[0]
        m2b = rt.m2b
        m2b[0] = 2  # PIN
        m2b[1] = 2  # REQUEST
        m2b[2] = pin  # OFF_PIN_PIN
        m2b[3] = 2  # OFF_PIN_TYPE = PIN_ACTION
        m2b[6] = 2  # OFF_PIN_ACTION = PIN_WRITE
        m2b[7] = 1 if value == 1 else 0  # OFF_PIN_VALUE = PIN_ON if HIGH else PIN_OFF
        m2b[48] = rt.call_id  # OFF_CALL_ID
        m2b[49] = 8  # OFF_USED = PIN_STRUCT
        to_host = rt._yield  # an attribute, not a method: looked up faster as one
        to_host()
        b2m = rt.b2m
        while b2m[1] == 2:  # an interrupt (ack REQUEST) on top of this request: serve it first
            rt._interrupt()
            to_host()
        rt.call_id = b2m[48]
        return m2b[1]


def digitalRead(pin):
    """The level, or -1 when the host refused or the pin does not exist."""
    if not 0 <= pin < _P.PIN_COUNT:
        return -1
    if _pin(pin, _P.PIN_ACTION, action=_P.PIN_READ) != _P.SUCCESS:
        return -1
    return _out()[_P.OFF_PIN_VALUE]


analogRead = digitalRead
analogWrite = digitalWrite


def digitalPinToInterrupt(pin):
    return pin


def attachInterrupt(pin, isr, mode):
    """isr() runs as an interrupt on an edge of `pin` (an INPUT_PULLUP). Returns whether the
    host took it: unlike the real SDK, which reports success whatever bluenet answered, a second
    attachInterrupt for a pin returns False (bluenet answers ERROR) and keeps the first isr."""
    if not 0 <= pin < _P.PIN_COUNT:
        return False
    key = (_P.PIN << 8) | pin
    fresh = key not in _handlers()
    if fresh and _register(key, _void(isr)) != _P.SUCCESS:
        return False
    if _pin(pin, _P.PIN_INIT, _P.PIN_INPUT_PULLUP, mode) != _P.SUCCESS:
        if fresh:
            del _handlers()[key]
        return False
    return True


# -- mesh (Mesh.cpp) --------------------------------------------------------------------------
class MeshMsg:
    def __init__(self, stoneId, data):
        self.stoneId = stoneId
        self.dataPtr = data
        self.dataSize = len(data)


def _mesh_interrupt(frame):
    msg = MeshMsg(frame[_P.OFF_MESH_STONE],
                  bytes(frame[_P.OFF_MESH_DATA:_P.OFF_MESH_DATA + min(frame[_P.OFF_MESH_SIZE], _P.MESH_MAX_DATA)]))
    state = _state()
    handler = state.get("mesh_handler")
    if handler is not None:
        handler(msg)
        return _P.SUCCESS
    buffer = state.setdefault("mesh_buffer", [None, None])  # MESH_MSG_BUFFER_LEN = 2
    for i in range(len(buffer)):
        if buffer[i] is None:
            buffer[i] = msg
            return _P.SUCCESS
    return _P.ERR_NO_SPACE


class _Mesh:
    def listen(self):
        """Register for mesh messages; False if the host refused (a second listen: ERROR)."""
        if _register((_P.MESH << 8) | _P.MESH_READ, _mesh_interrupt) != _P.SUCCESS:
            return False
        _out()[_P.OFF_MESH_TYPE] = _P.MESH_LISTEN
        return _request(_P.MESH, _P.OFF_MESH_TYPE + 1) == _P.SUCCESS

    def setIncomingMeshMsgHandler(self, handler):
        """handler(MeshMsg) runs for each message; without one they wait for readMeshMsg()."""
        _state()["mesh_handler"] = handler

    def available(self):
        buffer = _state().get("mesh_buffer")
        return bool(buffer) and (buffer[0] is not None or buffer[1] is not None)

    def readMeshMsg(self):
        """The next buffered message (the last slot first, as the SDK reads), or None."""
        buffer = _state().get("mesh_buffer") or ()
        for i in range(len(buffer) - 1, -1, -1):
            if buffer[i] is not None:
                msg, buffer[i] = buffer[i], None
                return msg
        return None

    def sendMeshMsg(self, data, stoneId=0, doNotRelay=False):
        """Send up to 7 bytes (more are cut, as the SDK does) to one stone or to all (0).
        Returns the host's ack (the real one returns nothing)."""
        if isinstance(data, str):
            data = data.encode()
        data = data[:_P.MESH_MAX_DATA]
        m2b = _out()
        m2b[_P.OFF_MESH_TYPE] = _P.MESH_SEND
        m2b[_P.OFF_MESH_STONE] = stoneId
        m2b[_P.OFF_MESH_OPTIONS] = _P.MESH_DO_NOT_RELAY if doNotRelay else 0
        m2b[_P.OFF_MESH_SIZE] = len(data)
        m2b[_P.OFF_MESH_DATA:_P.OFF_MESH_DATA + len(data)] = data
        return _request(_P.MESH, _P.OFF_MESH_DATA + len(data))

    def id(self):
        """This stone's id, asked once and cached (0 if the host refused)."""
        state = _state()
        if not state.get("stone_id"):
            m2b = _out()
            m2b[_P.OFF_MESH_TYPE] = _P.MESH_READ_CONFIG
            if _request(_P.MESH, _P.OFF_MESH_STONE + 1) == _P.SUCCESS:
                state["stone_id"] = m2b[_P.OFF_MESH_STONE]
        return state.get("stone_id", 0)


Mesh = _Mesh()


# -- BLE event names (ArduinoBLE.h): the BLE objects are in firmware/sdk_radio.py --------------
BLEDeviceScanned = 1
BLEConnected = 2
BLEDisconnected = 3


# -- time -------------------------------------------------------------------------------------
def delay(ms, _c=_C):
    """bluenet's delay(): one ASYNC yield per 100 ms, rounded down (delay(50) does not yield)."""
    _c[0].delay(ms)


def millis(_c=_C):
    """Ours: the host's clock at this entry, in ms (the real SDK has no millis())."""
    return _c[0].millis()


# -- signals (ours, seed 003) -----------------------------------------------------------------
def on_signal(handler):
    """handler(signal_from, signal_code) runs, at the start of a later tick, for each event the
    host dropped or aborted: signal_from is the event's interrupt id, signal_code why (THROTTLED,
    BUSY, GATED, QUEUE_FULL, CPU_BUSY, HANDLER_FAULT, WATCHDOG, APP_FAULT; signal_name() spells
    it). Raises RequestError when the host refuses."""
    def signalled(f):
        handler(f[_P.OFF_SIGNAL_SOURCE] | (f[_P.OFF_SIGNAL_SOURCE + 1] << 8), f[_P.OFF_SIGNAL_CODE])
    _handlers()[(_P.SIGNAL << 8) | _P.SIGNAL_EVENT] = signalled
    _out()[_P.OFF_SIGNAL_OP] = _P.SIGNAL_REGISTER
    ack = _request(_P.SIGNAL, _P.OFF_SIGNAL_OP + 1)
    if ack != _P.SUCCESS:
        raise _refused("on_signal", ack)


def reserve_signal_budget(n):
    """Let the host deliver up to n signals per tick (0: none; they are skipped, and counted)."""
    m2b = _out()
    m2b[_P.OFF_SIGNAL_OP] = _P.SIGNAL_RESERVE
    m2b[_P.OFF_SIGNAL_VALUE] = n
    ack = _request(_P.SIGNAL, _P.OFF_SIGNAL_VALUE + 1)
    if ack != _P.SUCCESS:
        raise _refused("reserve_signal_budget", ack)


def signal_name(code):
    return _nth(_SIGNALS, code) or str(code)


# -- imported at first use: BLE (firmware/sdk_radio.py) and the stone's world
# (firmware/sdk_world.py). An app that does not use them does not pay their heap --------------
def _world(_c=_C):
    _c[1] = True  # the import hook lets the SDK's own import through (firmware/loader.py)
    try:
        from firmware import sdk_world
    finally:
        _c[1] = False
    return sdk_world


def _radio(_c=_C):
    _c[1] = True
    try:
        from firmware import sdk_radio
    finally:
        _c[1] = False
    return sdk_radio


class _World:
    def __init__(self, name, module=_world):
        self._name = name
        self._module = module

    def __getattr__(self, attr):
        return getattr(getattr(self._module(), self._name), attr)


BLE = _World("BLE", _radio)
BleDevice = _World("BleDevice", _radio)
CrownstoneSwitch = _World("CrownstoneSwitch")
PowerUsage = _World("PowerUsage")
Presence = _World("Presence")
ServiceData = _World("ServiceData")
Wire = _World("Wire")
Message = _World("Message")
BluenetInternal = _World("BluenetInternal")


def registerInterrupt(msg_type, sub_id, handler):
    """microapp.h's registerInterrupt (firmware/sdk_world.py)."""
    return _world().registerInterrupt(msg_type, sub_id, handler)


# -- what the loader gives an app beside the SDK (firmware/loader.py) --------------------------
# Its __import__, open(), shadowed builtins and module views. MicroPython gives every function its
# __globals__ and every object its __class__: defined in the loader, these would lead an app to
# the loader's globals (the real open(), the in_app flag, sys.modules). Defined here, they lead
# to this module's, which hold nothing an app cannot reach through the SDK anyway; what each
# needs it holds in a closure (MicroPython has no __closure__).
class _View:
    """What an app gets for a module: the names it may use, no path back to the module."""

    def __init__(self, name, names):
        self.__name__ = name
        for key, value in names:
            setattr(self, key, value)


def _closed_over(fn):
    def call(*args, **kwargs):
        return fn(*args, **kwargs)
    return call


def _withheld(name):
    def withheld(*args, **kwargs):
        raise NameError("name '%s' isn't defined" % name)
    return withheld


del _C  # the functions hold it; the module does not

