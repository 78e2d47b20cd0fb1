"""LOG: microapp_sdk_log_header_t, printed as bluenet's handleRequestLog prints it."""
from __future__ import annotations

import struct

from host.device import Device
from host.limits import Limits
from shared_buffers import protocol as P

_V = P.OFF_LOG_VALUE
_NUMBERS = {P.LOG_INT: struct.Struct("<i"), P.LOG_UINT: struct.Struct("<I"),
            P.LOG_SHORT: struct.Struct("<h"), P.LOG_FLOAT: struct.Struct("<f"),
            P.LOG_DOUBLE: struct.Struct("<d")}


def _decimal(value: float) -> str:
    # bluenet has no printf float: "%i.%03i" of (int32)v and abs((int)(v * 1000) % 1000), with
    # C's truncation (so -0.5 prints as 0.500). DOUBLE passes no decimals argument in bluenet
    # (RequestHandler.cpp:158, a bug): we print it as FLOAT, as was meant.
    whole, thousandths = int(value), abs(int(value * 1000)) % 1000
    return "%d.%03d" % (whole, thousandths)


def text_of(m2b: bytearray) -> str | None:
    """The text bluenet would print for this LOG request, or None for an unknown value type."""
    kind, size = m2b[P.OFF_LOG_TYPE], m2b[P.OFF_LOG_SIZE]
    if size == 0:
        return ""
    if kind == P.LOG_STR:
        # Zero-terminated at min(size, 42) (RequestHandler.cpp:161-170); %s stops at a zero.
        raw = bytes(m2b[_V:_V + min(size, P.LOG_MAX_STRING - 1)]).split(b"\0", 1)[0]
        return raw.decode("utf-8", "replace")
    if kind == P.LOG_CHAR:
        return str(m2b[_V])
    if kind == P.LOG_ARR:
        return "[" + ", ".join(str(b) for b in m2b[_V:_V + min(size, P.LOG_MAX_ARRAY)]) + "]"
    number = _NUMBERS.get(kind)
    if number is None:
        return None
    value = number.unpack_from(m2b, _V)[0]
    if kind == P.LOG_FLOAT or kind == P.LOG_DOUBLE:
        return _decimal(value) if value == value and abs(value) < 2 ** 31 else str(value)
    return str(value)


class Log:
    def __init__(self, device: Device, limits: Limits) -> None:
        self.device = device
        self.max_line = limits.max_log_line

    def handle(self, m2b: bytearray) -> int:
        text = text_of(m2b)
        if text is None:
            return P.ERR_UNDEFINED
        self.device.write_log(text, bool(m2b[P.OFF_LOG_FLAGS] & P.LOG_FLAG_NEWLINE), self.max_line)
        return P.SUCCESS
