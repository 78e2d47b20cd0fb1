# The SDK a microapp imports: crownstone-microapp's objects and names in Python form (bytes and
# str where C passes a pointer and a size): `from microapp import *`. Every call writes bluenet's
# struct into the microapp-to-host buffer and soft-yields through the runtime bound by the link.
# Return values are the real SDK's; where it loses an error (it checks sendMessage()'s result,
# always SUCCESS, instead of the ack), or returns nothing, ours returns what the host answered
# (docs/sdk.md). Runs under MicroPython and CPython.
from firmware.runtime import SDK_CELL
from shared_buffers import protocol as _P  # its numbers: the board's build folds them in

del __file__  # the module's path is no SDK name (and a slot of its name table, see _Lazy)

# The SDK's constants (HIGH, OUTPUT, LED1_PIN, SUCCESS, the signal codes...) are not here: the
# host folds them into the app's code when it builds it, as the C++ SDK's macros are compiled
# into a microapp (host/sdk_constants.py): each would cost this module a slot and a name.


class _Lazy:
    """An SDK object of a module imported at its first use: Mesh's (firmware/sdk_mesh.py), the
    signals' (sdk_signal.py), BLE's (sdk_radio.py) and the stone's world's (sdk_world.py); an
    app that does not use them does not pay their heap. The one in the SDK's cell while no
    runtime is bound stands for the runtime: SDK calls raise.
    A stand-in is made with no attributes (16 B, not 32). At its first use it finds its name,
    the SDK global that is itself (_View: the class's), and its module, the one listed before
    that name in __getattr__'s table; from then on it keeps both as __name__ and __module__
    (until then its __module__ is the class's: this module's name).
    The class also holds the SDK's private helpers, plain functions called through the class
    (_Lazy._request(...)), for this module, its lazy modules and the loader: as globals they
    would take the module's name table past 37 slots (31 public names, __name__ and _Lazy; a
    table grows by filling: 38 names take 47 slots, 80 B more on a 32-bit board)."""

    _View: "_Lazy"  # set below (a bare annotation: no entry, on the board as in CPython)
    # {name: stand-in} of the builtins an app may not use, set by the loader on a board: each
    # raises NameError for its name, as the builtin's absence would
    _withheld: dict

    def __getattr__(self, name, _c=SDK_CELL):
        """The object's attribute `name` (None: the object itself)."""
        if self is _c[0]:
            raise RuntimeError("microapp calls work in setup(), loop() and handlers, not at import")
        if name == "id" and self is Mesh:
            return self._mesh_id  # (a Mesh class of its own would cost 112 B)
        module = self.__module__
        if module != __name__:  # known since its first use
            key = self.__name__
        else:  # its first use
            g = globals()
            for key in g:  # its name: the SDK's global that is itself
                if g[key] is self:
                    break
            else:  # the class's _View, a withheld builtin's shadow, or not found (its SDK
                # global the app rebound)
                key = "_View" if self is _Lazy._View else ""
                shadows = getattr(_Lazy, "_withheld", ())
                for withheld in shadows:
                    if shadows[withheld] is self:
                        raise NameError("name '%s' isn't defined" % withheld)
            table = (" firmware.sdk_mesh Mesh MeshMsg firmware.sdk_signal on_signal "
                     "reserve_signal_budget signal_name firmware.sdk_radio BLE BleDevice "
                     "firmware.sdk_world CrownstoneSwitch PowerUsage Presence ServiceData Wire "
                     "Message BluenetInternal firmware.sdk_view _View ")
            module = table.find(" %s " % key)  # its module: the last one listed before its name
            if module < 0:
                raise AttributeError(name)
            module = table.rfind(" firmware.", 0, module) + 1
            module = table[module:table.find(" ", module)]
        _c[1] = True  # the import hook lets the SDK's own import through (firmware/loader.py)
        try:
            module = __import__(module, None, None, (key,))
        finally:
            _c[1] = False
        self.__name__ = key  # kept from its first import on (names the board has interned)
        self.__module__ = module.__name__
        if name == "__name__" or name == "__module__":
            return getattr(self, name)
        target = getattr(module, key)
        return target if name is None else getattr(target, name)

    def __call__(self, *args, **kwargs):  # a function or class of the module's
        return self.__getattr__(None)(*args, **kwargs)

    def _mesh_id(self):
        """Mesh.id(), held here (an app asks it at setup, examples/hello.py): this stone's id,
        asked once and cached (0 if the host refused)."""
        state = _Lazy._state()
        if not state.get("stone_id"):
            m2b = getOutgoingMessagePayload()
            m2b[_P.OFF_MESH_TYPE] = _P.MESH_READ_CONFIG
            if _Lazy._request(_P.MESH, _P.OFF_MESH_STONE + 1) == _P.SUCCESS:
                state["stone_id"] = m2b[_P.OFF_MESH_STONE]
        return state.get("stone_id", 0)

    # The SDK's ways to the runtime: each holds the cell as a default argument, does one thing
    # an app could do with the public SDK anyway, and none returns the runtime
    # (firmware/runtime.py, SDK_CELL: an app that walks to this module's globals reaches these,
    # not the runtime).
    def _request(msg_type, used, _c=SDK_CELL):
        """Send the request whose struct is in the outgoing buffer (bytes 2..used-1); its ack."""
        m2b = _c[0].m2b
        m2b[0] = msg_type
        m2b[1] = _P.REQUEST
        return sendMessage(used)

    def _state(handlers=False, _c=SDK_CELL):
        """This app's SDK objects' state; with handlers: its dispatch table (its registrations)."""
        return _c[0].handlers if handlers else _c[0].sdk_state

    def _log_value(value, kind, flags):
        """One LOG request: the value as `kind` (None: typed by the value); the size it sent."""
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
        elif kind == _P.LOG_ARR:
            data = bytes(value)[:_P.LOG_MAX_ARRAY]
        elif kind == _P.LOG_FLOAT or kind == _P.LOG_DOUBLE:
            import struct
            data = struct.pack("<f" if kind == _P.LOG_FLOAT else "<d", value)
        else:  # little-endian, cut to the type's size (a negative value in two's complement)
            size = 1 if kind == _P.LOG_CHAR else 2 if kind == _P.LOG_SHORT else 4
            if kind == _P.LOG_CHAR and isinstance(value, str):
                value = ord(value[0])
            data = (int(value) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        m2b = getOutgoingMessagePayload()
        m2b[_P.OFF_LOG_TYPE] = kind
        m2b[_P.OFF_LOG_FLAGS] = flags
        m2b[_P.OFF_LOG_SIZE] = len(data)
        m2b[_P.OFF_LOG_VALUE:_P.OFF_LOG_VALUE + len(data)] = data
        _Lazy._request(_P.LOG, _P.OFF_LOG_VALUE + len(data))
        return m2b[_P.OFF_LOG_SIZE]

    def _pin(pin, kind, mode, polarity, action):  # (OFF_PIN_VALUE 0: digitalWrite writes its own)
        m2b = getOutgoingMessagePayload()
        m2b[_P.OFF_PIN_PIN] = pin
        m2b[_P.OFF_PIN_TYPE] = kind
        m2b[_P.OFF_PIN_DIRECTION] = mode
        m2b[_P.OFF_PIN_POLARITY] = polarity
        m2b[_P.OFF_PIN_ACTION] = action
        m2b[_P.OFF_PIN_VALUE] = 0
        return _Lazy._request(_P.PIN, _P.PIN_STRUCT)

    # What the loader gives an app beside the SDK (firmware/loader.py): its __import__, open(),
    # shadowed builtins and module views. MicroPython gives every function its __globals__ and
    # every object its __class__: defined in the loader, these would lead an app to the
    # loader's globals (the real open(), the in_app flag, sys.modules). Defined here, they lead
    # to this module's, which hold nothing an app cannot reach through the SDK anyway; what
    # each needs it holds in a closure (MicroPython has no __closure__). The views' class is
    # alone in its module (firmware/sdk_view.py): _Lazy._View, set below.
    def _closed_over(function):
        """function(...) through a function of this module."""
        def call(*args, **kwargs):
            return function(*args, **kwargs)
        return call


_Lazy._View = _Lazy()  # imported by the first view an app gets on a board


class RequestError(Exception):
    """A request the host refused (ours: signals and raw requests); .ack holds the ack."""


def bind(runtime, _c=SDK_CELL):
    """Serve SDK calls with `runtime`; None while an app is being imported. (An app that
    reaches it can bind its own SDK to an object of its own, never read the runtime.)"""
    _c[0] = _Lazy() if runtime is None else runtime


bind(None)  # the Runtime serving this app ([0]) comes with the link's bind()


# -- raw messages (microapp.h) ----------------------------------------------------------------
def getOutgoingMessagePayload(_c=SDK_CELL):
    """The microapp-to-bluenet buffer: write bluenet's struct at its offsets, then sendMessage().
    The SDK's own calls write theirs there too (_out in firmware/sdk_world.py, sdk_radio.py)."""
    return _c[0].m2b


def getIncomingMessagePayload(_c=SDK_CELL):
    return _c[0].b2m


def sendMessage(used=_P.BLUENET_SIZE, _c=SDK_CELL):
    """Send the request in the outgoing buffer as it is (its type and ack set by the caller, as
    in C) and return the ack the host wrote (the real SDK returns SUCCESS whatever it was).
    used: how many of bluenet's 48 bytes it fills (what travels on a serial link)."""
    rt = _c[0]  # literal numbers on this hot path: OFF_CALL_ID 48, OFF_USED 49, REQUEST 2
    m2b = rt.m2b
    m2b[48] = rt.call_id
    m2b[49] = used
    b2m = rt.b2m
    to_host = rt._yield  # an attribute, not a method: looked up faster as one
    to_host()
    # An interrupt written meanwhile (ack REQUEST) is served on top of this request first; the
    # host's resume names this context's id for the entry.
    while b2m[1] == 2:
        rt._interrupt()
        to_host()
    rt.call_id = b2m[48]
    return m2b[1]


# -- Serial (Serial.cpp) ----------------------------------------------------------------------
class Serial:  # its one instance takes its name: a class and an object, one global
    """Serial.print / println / write: one LOG request each, typed by the value (int: INT or
    UINT past 2^31, float: FLOAT, bytes: ARR, anything else: its str), or by `kind`
    (Serial.CHAR, SHORT, UINT, DOUBLE...: numbers the host folds into the app's code, as the
    SDK's other constants, host/sdk_constants.py; 8 entries of this class's table fewer).
    Returns the bytes sent, as the real SDK does."""

    def begin(self, *args):  # Serial.cpp's does nothing, whatever the baud rate
        pass

    def print(self, value="", kind=None):
        return _Lazy._log_value(value, kind, 0)

    write = print  # the same call in Serial.cpp

    def println(self, value="", kind=None):
        return _Lazy._log_value(value, kind, _P.LOG_FLAG_NEWLINE)


Serial = Serial()  # type: ignore[misc, assignment]


def log(*values, **options):
    """print(*values, sep=" ", end="\n"): one LOG STR request, truncated to 43 bytes as
    Serial.println does. (sep and end read from **options: keyword defaults cost the board.)"""
    sep = options.pop("sep", " ")
    end = options.pop("end", "\n")
    if options:
        raise TypeError("unexpected keyword argument '%s'" % next(iter(options)))
    _Lazy._log_value(sep.join([str(v) for v in values]), _P.LOG_STR, _P.LOG_FLAG_NEWLINE if "\n" in end else 0)


# -- pins (Arduino.c) -------------------------------------------------------------------------
def pinMode(pin, mode):
    """Returns the ack (the real one returns nothing); None for a pin the SDK does not know."""
    if 0 <= pin < _P.PIN_COUNT:
        return _Lazy._pin(pin, _P.PIN_INIT, mode, _P.PIN_NO_POLARITY, 0)


def digitalWrite(pin, value, _c=SDK_CELL):
    if 0 <= pin < 18:  # PIN_COUNT
        # The fields Arduino.c writes for an ACTION, then _request and sendMessage inlined: the
        # busiest request of all pays for one Python call, not three. Literals on this hot path.
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
    if _Lazy._pin(pin, _P.PIN_ACTION, 0, 0, _P.PIN_READ) != _P.SUCCESS:
        return -1
    return getOutgoingMessagePayload()[_P.OFF_PIN_VALUE]


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
    def handler(buf):  # the SDK's handlers are void: what isr() returns is not the ack
        isr()
    fresh = key not in _Lazy._state(True)
    if fresh and registerInterrupt(_P.PIN, pin, handler) != _P.SUCCESS:
        return False
    if _Lazy._pin(pin, _P.PIN_INIT, _P.PIN_INPUT_PULLUP, mode, 0) != _P.SUCCESS:
        if fresh:
            del _Lazy._state(True)[key]
        return False
    return True


# -- time -------------------------------------------------------------------------------------
def delay(ms, _c=SDK_CELL):
    """bluenet's delay(): one ASYNC yield per 100 ms tick, rounded down (Arduino.c:9-20;
    delay(50) does not yield), each ending this entry."""
    final = _c[0].final
    for _ in range(ms // 100):
        final(_P.YIELD_ASYNC)


del SDK_CELL  # the functions hold it; the module does not (an app that reaches its globals
# finds no runtime)


def millis():
    """Ours: the host's clock at this entry, in ms (the real SDK has no millis())."""
    b = getIncomingMessagePayload()
    t = b[_P.OFF_TIME] | b[_P.OFF_TIME + 1] << 8 | b[_P.OFF_TIME + 2] << 16 | b[_P.OFF_TIME + 3] << 24
    if b[_P.OFF_GRANT]:  # inside a grant: the idle ticks run so far (the host adopts them later)
        t += getOutgoingMessagePayload()[_P.OFF_GRANT_DONE] * 100
    return t


# -- imported at first use (_Lazy): Mesh, signals, BLE, the stone's world -----------------------
# (each finds its name and module at its first use: the table in _Lazy.__getattr__)
Mesh = _Lazy()  # its id() is _Lazy._mesh_id
MeshMsg = _Lazy()
on_signal = _Lazy()
reserve_signal_budget = _Lazy()
signal_name = _Lazy()
BLE = _Lazy()
BleDevice = _Lazy()
CrownstoneSwitch = _Lazy()
PowerUsage = _Lazy()
Presence = _Lazy()
ServiceData = _Lazy()
Wire = _Lazy()
Message = _Lazy()
BluenetInternal = _Lazy()


def registerInterrupt(msg_type, sub_id, handler):
    """microapp.h's registerInterrupt: handler(frame) runs for interrupts (msg_type, sub_id),
    frame being bluenet's bytes; it returns an ack (None: SUCCESS). At most 6 registrations
    (microapp.h). For what has no wrapper (ASSETS, with a raw REGISTER_INTERRUPT request); the
    SDK's own objects register through it too."""
    handlers = _Lazy._state(True)
    key = (msg_type << 8) | sub_id
    if key not in handlers and len(handlers) >= _P.SDK_MAX_REGISTRATIONS:
        return _P.ERR_NO_SPACE
    handlers[key] = handler
    return _P.SUCCESS
