# The SDK a microapp imports (`import microapp`). Every call writes one request into the
# microapp-to-host buffer and soft-yields through the runtime bound by the link.
# Functions that return a value raise RequestError when the host refuses; log() never raises.
# Runs under MicroPython and CPython.
from shared_buffers.protocol import (
    BLE, BLE_SCAN_REGISTER, BLE_SCAN_START, BLE_SCAN_STOP, EDGE_CHANGE, EDGE_FALLING, EDGE_NONE,
    EDGE_RISING, HEADER_SIZE, LOG, LOG_FLAG_NEWLINE, LOG_STR, MESH, MESH_LISTEN, MESH_MAX_DATA,
    MESH_OWN_ID, MESH_SEND, PAYLOAD_SIZE, PIN, PIN_INPUT, PIN_INPUT_PULLUP, PIN_MODE, PIN_OUTPUT,
    PIN_READ, PIN_WRITE, SIG_APP_FAULT, SIG_BUSY, SIG_HANDLER_FAULT, SIG_QUEUE_FULL, SIG_THROTTLED,
    SIG_WATCHDOG, SIGNAL, SIGNAL_NAMES, SIGNAL_REGISTER, SIGNAL_RESERVE, SUCCESS, ack_name,
)

INPUT = PIN_INPUT
OUTPUT = PIN_OUTPUT
INPUT_PULLUP = PIN_INPUT_PULLUP
RISING = EDGE_RISING
FALLING = EDGE_FALLING
CHANGE = EDGE_CHANGE
LOW = 0
HIGH = 1
BROADCAST = 0
# Why an event reached the app only as a signal (on_signal's signal_code).
THROTTLED = SIG_THROTTLED
BUSY = SIG_BUSY
QUEUE_FULL = SIG_QUEUE_FULL
HANDLER_FAULT = SIG_HANDLER_FAULT
WATCHDOG = SIG_WATCHDOG
APP_FAULT = SIG_APP_FAULT

_P = HEADER_SIZE  # payload offset
_LOG_CHUNK = PAYLOAD_SIZE - 2

class _Unbound:
    def __getattr__(self, name):
        raise RuntimeError("microapp calls work in setup(), loop() and handlers, not at import")


_rt = _Unbound()  # the Runtime serving this app; set by the link with bind()


class RequestError(Exception):
    def __init__(self, what, ack):
        Exception.__init__(self, "%s refused: %s" % (what, ack_name(ack)))
        self.ack = ack


def bind(runtime):
    """Serve SDK calls with `runtime`; None while an app is being imported."""
    global _rt
    _rt = _Unbound() if runtime is None else runtime


def _call(msg_type, length, what):
    ack = _rt.request(msg_type, length)
    if ack != SUCCESS:
        raise RequestError(what, ack)
    return _rt.m2b


# -- log ------------------------------------------------------------------------------------
def log(*values, sep=" ", end="\n"):
    """Send a log line to the host (also installed as the app's print). Returns the host's ack."""
    data = sep.join([str(v) for v in values]).encode()
    m2b = _rt.m2b
    newline = LOG_FLAG_NEWLINE if end.endswith("\n") else 0
    pos = 0
    while True:
        chunk = data[pos:pos + _LOG_CHUNK]
        pos += len(chunk)
        n = len(chunk)
        m2b[_P] = LOG_STR
        m2b[_P + 1] = newline if pos >= len(data) else 0
        m2b[_P + 2:_P + 2 + n] = chunk
        ack = _rt.request(LOG, 2 + n)
        if pos >= len(data):
            return ack


# -- pins -----------------------------------------------------------------------------------
def pin_mode(pin, mode, edge=EDGE_NONE):
    m2b = _rt.m2b
    m2b[_P] = PIN_MODE
    m2b[_P + 1] = pin
    m2b[_P + 2] = mode
    m2b[_P + 3] = edge
    _call(PIN, 4, "pin_mode")


def digital_write(pin, value):
    m2b = _rt.m2b
    m2b[_P] = PIN_WRITE
    m2b[_P + 1] = pin
    m2b[_P + 2] = 1 if value else 0
    _call(PIN, 3, "digital_write")


def digital_read(pin):
    m2b = _rt.m2b
    m2b[_P] = PIN_READ
    m2b[_P + 1] = pin
    return _call(PIN, 2, "digital_read")[_P + 2]


def on_pin_change(pin, handler, edge=EDGE_CHANGE, mode=PIN_INPUT):
    """handler(pin, level) runs as an interrupt whenever the input pin changes on `edge`."""
    key = (PIN << 8) | pin
    # Set before asking: the first interrupt may arrive while the request is being answered.
    _rt.handlers[key] = lambda f: handler(f[_P + 1], f[_P + 2])
    try:
        pin_mode(pin, mode, edge)
    except RequestError:
        del _rt.handlers[key]
        raise


# -- mesh -----------------------------------------------------------------------------------
def mesh_listen():
    _rt.m2b[_P] = MESH_LISTEN
    _call(MESH, 1, "mesh_listen")


def mesh_send(data, stone_id=BROADCAST):
    """Send up to 7 bytes to one stone, or to all (stone_id 0)."""
    if isinstance(data, str):
        data = data.encode()
    n = len(data)
    if n > MESH_MAX_DATA:
        raise ValueError("mesh message is %d bytes, at most %d" % (n, MESH_MAX_DATA))
    m2b = _rt.m2b
    m2b[_P] = MESH_SEND
    m2b[_P + 1] = stone_id
    m2b[_P + 2:_P + 2 + n] = data
    _call(MESH, 2 + n, "mesh_send")


def stone_id():
    _rt.m2b[_P] = MESH_OWN_ID
    return _call(MESH, 1, "stone_id")[_P + 1]


def on_mesh_message(handler):
    """handler(stone_id, data) runs as an interrupt for every mesh message; call mesh_listen()."""
    _rt.handlers[MESH << 8] = lambda f: handler(f[_P + 1], bytes(f[_P + 2:_P + f[3]]))


# -- BLE scanning ---------------------------------------------------------------------------
def on_ble_scan(handler):
    """handler(mac, rssi, data) runs as an interrupt for every scanned advertisement."""
    _rt.handlers[BLE << 8] = lambda f: handler(
        bytes(f[_P + 1:_P + 7]), f[_P + 7] - 256 if f[_P + 7] > 127 else f[_P + 7],
        bytes(f[_P + 8:_P + f[3]]))
    _rt.m2b[_P] = BLE_SCAN_REGISTER
    _call(BLE, 1, "on_ble_scan")


def ble_scan_start():
    _rt.m2b[_P] = BLE_SCAN_START
    _call(BLE, 1, "ble_scan_start")


def ble_scan_stop():
    _rt.m2b[_P] = BLE_SCAN_STOP
    _call(BLE, 1, "ble_scan_stop")


# -- signals (seed 003) ---------------------------------------------------------------------
def on_signal(handler):
    """handler(signal_from, signal_code) runs, at the start of a later tick, for each event the
    host dropped or aborted: signal_from is the event's interrupt id, signal_code why (THROTTLED,
    BUSY, QUEUE_FULL, HANDLER_FAULT, WATCHDOG, APP_FAULT; signal_name() spells it)."""
    _rt.handlers[SIGNAL << 8] = lambda f: handler(f[_P + 1] | (f[_P + 2] << 8), f[_P])
    _rt.m2b[_P] = SIGNAL_REGISTER
    _call(SIGNAL, 1, "on_signal")


def reserve_signal_budget(n):
    """Let the host deliver up to n signals per tick (0: none; they are skipped, and counted)."""
    m2b = _rt.m2b
    m2b[_P] = SIGNAL_RESERVE
    m2b[_P + 1] = n
    _call(SIGNAL, 2, "reserve_signal_budget")


def signal_name(code):
    return SIGNAL_NAMES[code] if 0 <= code < len(SIGNAL_NAMES) else str(code)


# -- time -----------------------------------------------------------------------------------
def delay(ms):
    """Give the host back control until `ms` have passed (hard yield at every tick)."""
    _rt.delay(ms)


def millis():
    """Host time of the current tick, in ms."""
    return _rt.now_ms
