# The serial frame codec: how the two shared buffers, and the few messages that set up a
# session, travel over a serial line between the host and a board. docs/protocol.md ("The serial
# frame") gives every byte and the resend rules (stop-and-wait: one frame in flight, answered
# with its seq).
#
# A frame is one line:  '#'  LEN  base64(seq u8, kind u8, body, check: 4 bytes)  '\n'
# where LEN is one character, '@' + the number of 4-character base64 groups.
# - base64, '#', LEN and '\n' never put a REPL control byte (Ctrl-A..Ctrl-E, 0x01-0x05) on the
#   wire, so Ctrl-C always breaks into a running board, as mpremote expects;
# - a receiver resynchronises at the next '#' (the host: at every newline, from the last '#' of
#   a line), so garbage (REPL text, a lost byte) costs only the frames it touches;
# - LEN lets the board read a frame in two reads instead of a read per byte;
# - the check rejects corrupt frames; the sequence number lets a lost frame be resent without a
#   request being handled twice.
# The check is the first 4 bytes of SHA-256 rather than binascii.crc32: a CRC-32 is an int of up
# to 32 bits, which MicroPython keeps as a heap-allocated big int from 2**30 on. Making one takes
# two allocations, and in the WASI build (the virtual board) a garbage collection between them
# frees the first (wasm locals are not scanned) and corrupts the heap. A digest is bytes.
# Encoding, decoding and the check are C code (binascii, hashlib): no per-byte Python loop.
# Runs under MicroPython and CPython.
import binascii
import hashlib
import struct

from shared_buffers.buffers import trailer_size, used_size
from shared_buffers.protocol import BLUENET_SIZE, BUFFER_SIZE, OFF_TEXT_LEN, TEXT_MAX, TRAILER_FIXED

MARKER = b"#"
_MARKER = 0x23
_LEN_BASE = 0x40

# Frame kinds. Host to board:
HELLO = 0x01   # body: nonce (4 bytes), stack depth u8, app path (UTF-8; empty: the installed app)
RESUME = 0x02  # body: the used bytes of m2b, then the used bytes of b2m
# Board to host:
YIELD = 0x11   # body: the used bytes of m2b, then the used bytes of b2m
INFO = 0x12    # the answer to HELLO, to a RESUME outside a session, and (seq 0) the boot banner
NAK = 0x13     # body empty; seq: the last request handled. The board got a line it can't read.

# INFO body: status u8, stack depth u8, heap at boot u32 LE, heap now u32 LE, then UTF-8
# "version\napp path\nerror text".
INFO_READY = 0       # the app is loaded; setup() runs at the next RESUME
INFO_LOAD_ERROR = 1  # the app did not load (error text says why)
INFO_NO_SESSION = 2  # a RESUME the board cannot place: it was reset since the HELLO
_INFO_HEAD = "<BBII"
INFO_HEAD_SIZE = 10
HELLO_HEAD_SIZE = 5

CHECK_SIZE = 4
# seq, kind, two whole buffers, check: the longest frame's content, and its base64 groups.
MAX_RAW = 2 + 2 * (1 + BUFFER_SIZE) + CHECK_SIZE
MAX_GROUPS = (MAX_RAW + 2) // 3
_INFO_TEXT_SIZE = MAX_RAW - 2 - CHECK_SIZE - INFO_HEAD_SIZE
MAX_APP_PATH = MAX_RAW - 2 - CHECK_SIZE - HELLO_HEAD_SIZE  # bytes of UTF-8 a HELLO can name


class FrameError(ValueError):
    """A line with a frame marker that is not a valid frame (corrupt, truncated)."""


class Encoder:
    """Builds frames in one preallocated scratch buffer."""

    def __init__(self):
        self._raw = bytearray(MAX_RAW)
        self._view = memoryview(self._raw)

    def frame(self, seq, kind, body=b""):
        n = 2 + len(body)
        raw = self._raw
        raw[0] = seq
        raw[1] = kind
        raw[2:n] = body
        return self._finish(n)

    def buffers(self, seq, kind, m2b, b2m):
        """A RESUME or YIELD frame carrying the used bytes of both buffers."""
        raw = self._raw
        raw[0] = seq
        raw[1] = kind
        return self._finish(_put(raw, _put(raw, 2, m2b), b2m))

    def _finish(self, n):
        view = self._view
        n += CHECK_SIZE
        view[n - CHECK_SIZE:n] = memoryview(hashlib.sha256(view[:n - CHECK_SIZE]).digest())[:CHECK_SIZE]
        return bytes((_MARKER, _LEN_BASE + (n + 2) // 3)) + binascii.b2a_base64(view[:n])


def decode(line):
    """The frame's content (seq, kind, body..., check) from one received line, checked; None
    when the line holds no frame marker (text from the board's REPL). Raises FrameError when
    it is corrupt."""
    i = line.rfind(MARKER)
    if i < 0:
        return None
    if i + 1 >= len(line):
        raise FrameError("no length")
    end = i + 2 + 4 * (line[i + 1] - _LEN_BASE)
    if end <= i + 2 or end >= len(line) or line[end] != 10:
        raise FrameError("wrong length")
    return _checked(memoryview(line)[i + 2:end])


class FrameReader:
    """The board's side: reads frames from a stream with read(n) (sys.stdin.buffer, a UART),
    two reads a frame, skipping whatever comes before a frame's marker."""

    def __init__(self, stream):
        self._read = stream.read

    def next(self):
        """The next frame's checked content; None when what came was a corrupt frame (the
        caller NAKs it). Raises EOFError when the stream ends."""
        head = self._exact(2)
        while head[0] != _MARKER or head[1] == _MARKER:  # garbage: on to the last '#' of a run
            head = head[1:] + self._exact(1)
        groups = head[1] - _LEN_BASE
        if not 0 < groups <= MAX_GROUPS:
            return None
        data = self._exact(4 * groups + 1)
        if data[-1] != 10:
            return None
        try:
            return _checked(memoryview(data)[:-1])
        except FrameError:
            return None

    def _exact(self, n):
        data = self._read(n)
        if data is not None and len(data) == n:
            return data
        data = data or b""
        while len(data) < n:
            more = self._read(n - len(data))
            if more is None:  # a UART read that timed out
                continue
            if not more:
                raise EOFError()
            data += more
        return data


def _checked(b64):
    try:
        raw = binascii.a2b_base64(b64)
    except ValueError:
        raise FrameError("not base64")
    n = len(raw) - CHECK_SIZE
    if n < 2:
        raise FrameError("too short")
    view = memoryview(raw)
    if memoryview(hashlib.sha256(view[:n]).digest())[:CHECK_SIZE] != view[n:]:
        raise FrameError("bad check")
    return raw


def _put(raw, pos, buf):
    # A buffer travels as: used u8, its used bluenet bytes, its trailer (10 + text bytes).
    a = used_size(buf)
    t = trailer_size(buf)
    raw[pos] = a
    raw[pos + 1:pos + 1 + a] = memoryview(buf)[:a]
    raw[pos + 1 + a:pos + 1 + a + t] = memoryview(buf)[BLUENET_SIZE:BLUENET_SIZE + t]
    return pos + 1 + a + t


def _span(raw, pos, end):
    """(used, trailer size) of the buffer at pos, or None when it does not fit before end."""
    if pos >= end:
        return None
    a = raw[pos]
    if not 2 <= a <= BLUENET_SIZE or pos + 1 + a + TRAILER_FIXED > end:
        return None
    t = TRAILER_FIXED + min(raw[pos + 1 + a + OFF_TEXT_LEN - BLUENET_SIZE], TEXT_MAX)  # as _put sends
    if t > BUFFER_SIZE - BLUENET_SIZE or pos + 1 + a + t > end:
        return None
    return a, t


def unpack_buffers(raw, m2b, b2m):
    """Copy the two buffers of a checked RESUME/YIELD frame into m2b and b2m. False (and nothing
    copied) when the body's length does not match the lengths it declares."""
    end = len(raw) - CHECK_SIZE
    first = _span(raw, 2, end)
    if first is None:
        return False
    pos = 3 + first[0] + first[1]
    second = _span(raw, pos, end)
    if second is None or pos + 1 + second[0] + second[1] != end:
        return False
    view = memoryview(raw)
    for buf, start, (a, t) in ((m2b, 2, first), (b2m, pos, second)):
        buf[:a] = view[start + 1:start + 1 + a]
        buf[BLUENET_SIZE:BLUENET_SIZE + t] = view[start + 1 + a:start + 1 + a + t]
    return True


def body(raw):
    """The body of a checked frame (a copy)."""
    return bytes(raw[2:len(raw) - CHECK_SIZE])


def info_body(status, stack_depth, heap_boot, heap_now, version, app, error=""):
    """The texts are cut to what fits one frame (a long error text loses its end)."""
    text = ("%s\n%s\n%s" % (version, app, error)).encode()
    return struct.pack(_INFO_HEAD, status, stack_depth, heap_boot, heap_now) + text[:_INFO_TEXT_SIZE]


def parse_info(data):
    """(status, stack depth, heap at boot, heap now, version, app, error) of an INFO body
    (host side)."""
    if len(data) < INFO_HEAD_SIZE:
        raise FrameError("INFO too short")
    status, depth, heap_boot, heap_now = struct.unpack_from(_INFO_HEAD, data, 0)
    fields = bytes(data[INFO_HEAD_SIZE:]).decode("utf-8", "replace").split("\n", 2)
    while len(fields) < 3:
        fields.append("")
    return (status, depth, heap_boot, heap_now, fields[0], fields[1], fields[2])


def hello_body(nonce, stack_depth, app):
    """nonce: 4 bytes that tell this HELLO from a repeat of an earlier one."""
    return nonce + bytes((stack_depth,)) + app.encode()


def parse_hello(data):
    """(stack depth, app path) of a HELLO body; the board needs no int of the nonce."""
    if len(data) < HELLO_HEAD_SIZE:
        raise FrameError("HELLO too short")
    return data[4], bytes(data[HELLO_HEAD_SIZE:]).decode()
