# The two shared buffers and the helpers that read and write their header.
# Both sides preallocate one bytearray per buffer and write in place: no allocation per message.
import struct

from shared_buffers.protocol import (
    BUFFER_SIZE, HEADER_SIZE, OFF_ACK, OFF_CALL_ID, OFF_IRQ_ID, OFF_LENGTH, OFF_TYPE, PAYLOAD_SIZE,
    ack_name, type_name,
)

_HEADER_FORMAT = "<BBBBH"


def new_buffer():
    return bytearray(BUFFER_SIZE)


def write_header(buf, msg_type, ack, call_id, length, irq_id=0):
    struct.pack_into(_HEADER_FORMAT, buf, 0, msg_type, ack, call_id, length, irq_id)


def irq_id(buf):
    return buf[OFF_IRQ_ID] | (buf[OFF_IRQ_ID + 1] << 8)


def set_irq_id(buf, value):
    buf[OFF_IRQ_ID] = value & 0xFF
    buf[OFF_IRQ_ID + 1] = (value >> 8) & 0xFF


def used_size(buf, offset=0):
    """Bytes in use of the buffer at `offset`: its header and the payload it declares (clamped);
    what travels in a serial frame."""
    n = buf[offset + OFF_LENGTH]
    return HEADER_SIZE + (n if n <= PAYLOAD_SIZE else PAYLOAD_SIZE)


def describe(buf):
    """A short text for traces and errors: TYPE/ACK call=N irq=N len=N."""
    return "%s/%s call=%d irq=%d len=%d" % (
        type_name(buf[OFF_TYPE]), ack_name(buf[OFF_ACK]), buf[OFF_CALL_ID], irq_id(buf),
        buf[OFF_LENGTH])
