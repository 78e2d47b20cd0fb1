# Our signals (seed 003): on_signal, reserve_signal_budget, signal_name, re-exported by
# microapp.py and imported there at their first use: an app that does not use them does not pay
# their heap. They serve the runtime bound in microapp.py (through its _request & co.),
# whichever app is running. Runs under MicroPython and CPython.
from firmware.microapp import _Lazy, RequestError
from firmware.microapp import getOutgoingMessagePayload as _out
from shared_buffers import names as _names  # a module name is one global, its 3 names would be 3
from shared_buffers import protocol as _P
_request, _state = _Lazy._request, _Lazy._state  # the SDK's private helpers (microapp.py)


def _refused(name, ack):
    # MicroPython has no Exception.__init__ to call from a subclass: build, then annotate.
    e = RequestError("%s refused: %s" % (name, _names.nth(_names.ACKS, ack) or "0x%02X" % ack))
    e.ack = ack
    return e


def on_signal(handler):
    """handler(signal_from, signal_code) runs, at the start of a later tick, for each event the
    host dropped or aborted: signal_from is the event's interrupt id, signal_code why (THROTTLED,
    BUSY, GATED, QUEUE_FULL, CPU_BUSY, HANDLER_FAULT, WATCHDOG, APP_FAULT; signal_name() spells
    it). Raises RequestError when the host refuses."""
    def call(f):  # the SIGNAL interrupt's handler (a name the board has: _closed_over's)
        handler(f[_P.OFF_SIGNAL_SOURCE] | (f[_P.OFF_SIGNAL_SOURCE + 1] << 8), f[_P.OFF_SIGNAL_CODE])
    _state(True)[(_P.SIGNAL << 8) | _P.SIGNAL_EVENT] = call
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
    return _names.nth(_names.SIGNALS, code) or str(code)
