# The host's side of the serial frame codec (shared_buffers/serial_frame.py): cutting the line
# into frames and unescaping them, building frames in a buffer of its own, the HELLO the host
# sends, the INFO and TEXT frames it reads.
# The board never imports this module, so it costs the board's heap nothing.
import struct

from shared_buffers import serial_frame as F
from shared_buffers.protocol import BLUENET_SIZE, OFF_TEXT_LEN, OFF_USED, TEXT_MAX, TRAILER_FIXED
from shared_buffers.serial_frame import CHALLENGE_SIZE, ESC, INFO_HEAD_SIZE, MAX_CONTENT

_FLIP = 0x80      # serial_frame's (private there: a const() the board inlines)
_ESC_FLIP = 0xA0
_INFO_HEAD = "<BBII"  # serial_frame.info_body's
MAX_WIRE = 2 * MAX_CONTENT + 2  # the longest frame on the wire: everything escaped, two flags


def spans(buf):
    """The parts of a buffer that travel, as (start, end): bluenet's bytes in use (2..48, byte
    49 says how many), and the trailer in use (10 + the text length of byte 57, at most 40).
    serial_frame's delta() and apply_delta() work them out inline (a function less on the
    board); this is their spec for the host and the tests."""
    used = buf[OFF_USED]
    text = buf[OFF_TEXT_LEN]
    return ((0, 2 if used < 2 else min(used, BLUENET_SIZE)),
            (BLUENET_SIZE, BLUENET_SIZE + TRAILER_FIXED + min(text, TEXT_MAX)))


class Encoder:
    """Builds frames (serial_frame's control() and delta()) in a scratch buffer of its own."""

    def __init__(self):
        self._raw = bytearray(MAX_CONTENT)

    def control(self, kind, seq, body=b""):
        return F.control(self._raw, kind, seq, body)

    def delta(self, session, seq, to_board, m2b, b2m):
        return F.delta(self._raw, session, seq, to_board, m2b, b2m)


class Splitter:
    """The host's side: cuts what arrives into the wire bytes of frames (between flags), keeping
    at most MAX_WIRE bytes of an unfinished one (a line with no flag cannot grow it)."""

    def __init__(self):
        self._rx = bytearray()
        self.dropped = 0  # bytes thrown away for want of a flag

    def feed(self, data):
        """The complete pieces between flags in what came so far (empty ones left out), and the
        bytes dropped from a piece grown past MAX_WIRE (for the console)."""
        rx = self._rx
        rx += data
        pieces = []
        start = 0
        while True:
            i = rx.find(b"\x7e", start)
            if i < 0:
                break
            if i > start:
                pieces.append(bytes(rx[start:i]))
            start = i + 1
        rx = self._rx = rx[start:]
        spill = b""
        if len(rx) > MAX_WIRE:
            spill = bytes(rx)
            self.dropped += len(rx)
            self._rx = bytearray()
        return pieces, spill

    def rest(self):
        """The bytes after the last flag (a line the board printed, with no frame after it)."""
        return bytes(self._rx)

    def clear(self):
        self._rx = bytearray()

    def __len__(self):
        return len(self._rx)


def parse_info(data):
    """(status, stack depth, heap at boot, heap now, version, app, error, challenge) of an INFO
    body (host side)."""
    if len(data) < INFO_HEAD_SIZE:
        raise ValueError("INFO too short")  # (serial_frame.FrameError, a name MicroPython lacks)
    status, depth, heap_boot, heap_now = struct.unpack_from(_INFO_HEAD, data, 0)
    fields = bytes(data[INFO_HEAD_SIZE:]).decode("utf-8", "replace").split("\n", 2)
    while len(fields) < 3:
        fields.append("")
    challenge = bytes(data[INFO_HEAD_SIZE - CHALLENGE_SIZE:INFO_HEAD_SIZE])
    return (status, depth, heap_boot, heap_now, fields[0], fields[1], fields[2], challenge)


def hello_body(challenge, nonce, stack_depth, app):
    """challenge: the board's current one (from its last INFO); nonce: 4 random bytes that key
    the new session."""
    return challenge + nonce + bytes((stack_depth,)) + app.encode()


def unescape(segment, out):
    """The content of one frame's wire bytes (between two flags) written into `out`; its length,
    or -1 when it is not a frame (a bad escape, longer than any frame)."""
    n = 0
    esc = False
    limit = len(out)
    for w in segment:
        if esc:
            b = w ^ _ESC_FLIP
            if not (b == 0xFE or b == 0xFD or 0x80 < b < 0x86):
                return -1
            esc = False
        elif w == ESC:
            esc = True
            continue
        else:
            b = w ^ _FLIP
        if n >= limit:
            return -1
        out[n] = b
        n += 1
    return -1 if esc else n


def put_text(into, data):
    """Place a TEXT frame's body (offset, bytes) into the bytearray `into` (host side); a
    repeated frame lands where it did before."""
    offset = data[0] | data[1] << 8
    chunk = data[2:]
    if len(into) < offset:
        into.extend(bytes(offset - len(into)))
    into[offset:offset + len(chunk)] = chunk
