# The two shared buffers and the helpers that read and write our trailer (after bluenet's 48).
# Both sides preallocate one bytearray per buffer and write in place: no allocation per message.
from shared_buffers.protocol import (
    BUFFER_SIZE, OFF_ACK, OFF_CALL_ID, OFF_IRQ_ID, OFF_TEXT, OFF_TEXT_LEN, OFF_TYPE, OFF_USED,
    TEXT_MAX,
)


def new_buffer():
    return bytearray(BUFFER_SIZE)


def irq_id(buf):
    return buf[OFF_IRQ_ID] | (buf[OFF_IRQ_ID + 1] << 8)


def set_irq_id(buf, value):
    buf[OFF_IRQ_ID] = value & 0xFF
    buf[OFF_IRQ_ID + 1] = (value >> 8) & 0xFF


def error_text(buf):
    """The error text a final status carries (utf-8, replaced where broken)."""
    n = min(buf[OFF_TEXT_LEN], TEXT_MAX)
    return bytes(buf[OFF_TEXT:OFF_TEXT + n]).decode("utf-8", "replace")


def describe(buf):
    """A short text for traces and errors: TYPE/ACK call=N irq=N used=N."""
    from shared_buffers.protocol import ack_name, type_name  # the host's (protocol_host.py)
    return "%s/%s call=%d irq=%d used=%d" % (
        type_name(buf[OFF_TYPE]), ack_name(buf[OFF_ACK]), buf[OFF_CALL_ID], irq_id(buf),
        buf[OFF_USED])
