# The serial frame codec: how the two shared buffers, and the few messages that set up a
# session, travel over a serial line between the host and a board. docs/protocol.md ("The serial
# frame") gives every byte, the sequence rules and the resend timer.
#
# On the wire a frame is its content, each byte XORed with 0x80 and escaped HDLC-style, then the
# flag 0x7E:      [0x7E]  escaped(content ^ 0x80)  0x7E
# - the escape 0x7D is put before any wire byte in 0x01-0x05 (the REPL's Ctrl-A..Ctrl-E), 0x7D
#   or 0x7E, which then travels XORed with 0x20: no REPL control byte is ever on the wire, so
#   Ctrl-C always breaks into a running board, as mpremote expects. The XOR with 0x80 moves the
#   small numbers the buffers are full of (acks 1-4, levels, types) away from the escaped range;
# - a frame ends at its flag; a sender puts a flag before it too when the line may hold garbage
#   (every resend, every control frame), so the receiver resynchronises at the next flag;
# - content: a data frame (RESUME from the host, YIELD from the board) is
#       seq (1..255), delta of both buffers, CRC-16 big-endian;
#   a control frame is 0x00, kind, seq, body, CRC-16.
# - the CRC is CRC-16/GENIBUS (CCITT's poly 0x1021, init 0xFFFF, sent complemented, so that a
#   dropped or added zero byte after a CRC ending in 0x00 does not pass), by table on small ints:
#   nothing on the board's path makes a big int. A data frame's CRC starts from the session's key (the
#   HELLO's nonce, the sequence epoch and the direction) instead of 0xFFFF, so a frame of another
#   session, of an earlier turn of the sequence numbers, or our own frame echoed back never checks.
# - the delta: only the bytes of bluenet's part in use and of the trailer in use
#   (serial_host.spans) that differ from what the other side already has (its shadow copy, kept
#   equal on both sides) travel, as runs. After each data frame both ends set m2b's ack in their shadows to what the
#   next frame the other way most likely holds (Session, the predicted ack): a request's
#   REQUEST and the host's SUCCESS then travel only when they are not that.
# Runs under MicroPython and CPython.
import sys

try:
    from micropython import const
except ImportError:  # CPython: const(n) is n
    const = int  # type: ignore[assignment]

_MICROPYTHON = sys.implementation.name == "micropython"  # the board's build: const(1)
del sys  # (a global of the board's less: it is needed for that only)

from shared_buffers.protocol import (
    BLUENET_SIZE, BUFFER_SIZE, OFF_TEXT_LEN, OFF_USED, REQUEST, SUCCESS, TEXT_MAX, TRAILER_FIXED,
)

FLAG = const(0x7E)
ESC = const(0x7D)
_FLIP = const(0x80)      # every content byte travels XORed with this
_ESC_FLIP = const(0xA0)  # an escaped byte: content ^ 0x80 ^ 0x20

# Control kinds (content byte 1 after the 0x00). Host to board:
HELLO = const(0x01)  # body: challenge (4), nonce (4), stack depth u8, app path (UTF-8; empty:
#                      installed)
# Board to host:
INFO = const(0x12)  # the answer to a HELLO, and (seq 0) the boot banner
NAK = const(0x13)  # body: NAK_IN_SESSION or NAK_NO_SESSION; seq: the last request handled
TEXT = const(0x14)  # body: offset u16 LE, then that part of a UTF-8 text (the traceback of the
#                     app's exception), in as many frames as it takes, each with the seq of the
#                     YIELD that follows them and reports the exception; a repeat of that YIELD
#                     repeats them.
# Data frames have no kind byte: host to board is a RESUME, board to host a YIELD.
RESUME = const(0x02)
YIELD = const(0x11)
NAK_IN_SESSION = const(0)  # the board read a frame that does not check
NAK_NO_SESSION = const(1)  # the board has no session (it was reset, or the app did not load)

# INFO body: status u8, stack depth u8, heap at boot u32 LE, heap now u32 LE, challenge (4),
# then UTF-8 "version\napp path\nerror text".
INFO_READY = const(0)  # the app is loaded; setup() runs at the next RESUME
INFO_LOAD_ERROR = const(1)  # the app did not load (error text says why)
INFO_CHALLENGE = const(2)  # a HELLO whose challenge is not the board's current one: nothing done
INFO_HEAD_SIZE = const(14)
HELLO_HEAD_SIZE = const(9)
CHALLENGE_SIZE = const(4)
CRC_SIZE = const(2)
_CONTROL_HEAD = const(3)  # 0x00, kind, seq
# Longest content: a data frame where every byte that travels changed, 98 in each buffer
# (bluenet's 48, the trailer's 10 + 40 of text) in runs of at most 8 that stay inside a part
# (6 + 7 runs, a header byte each), with seq and CRC: 1 + 2 * (98 + 13) + 2. A byte that did not
# change leaves out a data byte and adds at most one header; a 2-byte header needs a skip of 31
# or more addresses that do not travel or did not change. The control frames are cut to fit
# (the longest, a TEXT frame, is 207). The board's reader holds this much.
MAX_CONTENT = const(225)
MAX_INFO_TEXT = const(160)
MAX_APP_PATH = const(120)  # bytes of UTF-8 a HELLO can name
TEXT_CHUNK = const(200)  # bytes of text in one TEXT frame (short frames get through a noisy line)
MAX_TEXT = const(4096)  # a longer text loses its start (a traceback's end names the exception)
_RUN = const(8)  # bytes a run carries at most
# Session.shadows: both shadows (2 * BUFFER_SIZE), then the data frames' key (_KEY: nonce (4),
# epoch u16 LE, direction), then the board's challenge (4, CHALLENGE_AT)
_KEY = const(196)
CHALLENGE_AT = const(203)


def crc16(data, start, end, crc):
    """CRC-16/CCITT-FALSE of data[start:end] (end None: to its end), continuing from `crc`
    (0xFFFF: a new one). (No default arguments: they would cost the board's heap.)"""
    # by table: the 256 u16 (CCITT's polynomial, by the top byte) big-endian, a bytes constant
    # that a board running from ROMFS leaves in flash (an array built at import would take 512
    # bytes of heap, a global's name more); tests/serial/test_serial_frame.py checks it
    t = (
        b"\x00\x00\x10\x21\x20\x42\x30\x63\x40\x84\x50\xa5\x60\xc6\x70\xe7"
        b"\x81\x08\x91\x29\xa1\x4a\xb1\x6b\xc1\x8c\xd1\xad\xe1\xce\xf1\xef"
        b"\x12\x31\x02\x10\x32\x73\x22\x52\x52\xb5\x42\x94\x72\xf7\x62\xd6"
        b"\x93\x39\x83\x18\xb3\x7b\xa3\x5a\xd3\xbd\xc3\x9c\xf3\xff\xe3\xde"
        b"\x24\x62\x34\x43\x04\x20\x14\x01\x64\xe6\x74\xc7\x44\xa4\x54\x85"
        b"\xa5\x6a\xb5\x4b\x85\x28\x95\x09\xe5\xee\xf5\xcf\xc5\xac\xd5\x8d"
        b"\x36\x53\x26\x72\x16\x11\x06\x30\x76\xd7\x66\xf6\x56\x95\x46\xb4"
        b"\xb7\x5b\xa7\x7a\x97\x19\x87\x38\xf7\xdf\xe7\xfe\xd7\x9d\xc7\xbc"
        b"\x48\xc4\x58\xe5\x68\x86\x78\xa7\x08\x40\x18\x61\x28\x02\x38\x23"
        b"\xc9\xcc\xd9\xed\xe9\x8e\xf9\xaf\x89\x48\x99\x69\xa9\x0a\xb9\x2b"
        b"\x5a\xf5\x4a\xd4\x7a\xb7\x6a\x96\x1a\x71\x0a\x50\x3a\x33\x2a\x12"
        b"\xdb\xfd\xcb\xdc\xfb\xbf\xeb\x9e\x9b\x79\x8b\x58\xbb\x3b\xab\x1a"
        b"\x6c\xa6\x7c\x87\x4c\xe4\x5c\xc5\x2c\x22\x3c\x03\x0c\x60\x1c\x41"
        b"\xed\xae\xfd\x8f\xcd\xec\xdd\xcd\xad\x2a\xbd\x0b\x8d\x68\x9d\x49"
        b"\x7e\x97\x6e\xb6\x5e\xd5\x4e\xf4\x3e\x13\x2e\x32\x1e\x51\x0e\x70"
        b"\xff\x9f\xef\xbe\xdf\xdd\xcf\xfc\xbf\x1b\xaf\x3a\x9f\x59\x8f\x78"
        b"\x91\x88\x81\xa9\xb1\xca\xa1\xeb\xd1\x0c\xc1\x2d\xf1\x4e\xe1\x6f"
        b"\x10\x80\x00\xa1\x30\xc2\x20\xe3\x50\x04\x40\x25\x70\x46\x60\x67"
        b"\x83\xb9\x93\x98\xa3\xfb\xb3\xda\xc3\x3d\xd3\x1c\xe3\x7f\xf3\x5e"
        b"\x02\xb1\x12\x90\x22\xf3\x32\xd2\x42\x35\x52\x14\x62\x77\x72\x56"
        b"\xb5\xea\xa5\xcb\x95\xa8\x85\x89\xf5\x6e\xe5\x4f\xd5\x2c\xc5\x0d"
        b"\x34\xe2\x24\xc3\x14\xa0\x04\x81\x74\x66\x64\x47\x54\x24\x44\x05"
        b"\xa7\xdb\xb7\xfa\x87\x99\x97\xb8\xe7\x5f\xf7\x7e\xc7\x1d\xd7\x3c"
        b"\x26\xd3\x36\xf2\x06\x91\x16\xb0\x66\x57\x76\x76\x46\x15\x56\x34"
        b"\xd9\x4c\xc9\x6d\xf9\x0e\xe9\x2f\x99\xc8\x89\xe9\xb9\x8a\xa9\xab"
        b"\x58\x44\x48\x65\x78\x06\x68\x27\x18\xc0\x08\xe1\x38\x82\x28\xa3"
        b"\xcb\x7d\xdb\x5c\xeb\x3f\xfb\x1e\x8b\xf9\x9b\xd8\xab\xbb\xbb\x9a"
        b"\x4a\x75\x5a\x54\x6a\x37\x7a\x16\x0a\xf1\x1a\xd0\x2a\xb3\x3a\x92"
        b"\xfd\x2e\xed\x0f\xdd\x6c\xcd\x4d\xbd\xaa\xad\x8b\x9d\xe8\x8d\xc9"
        b"\x7c\x26\x6c\x07\x5c\x64\x4c\x45\x3c\xa2\x2c\x83\x1c\xe0\x0c\xc1"
        b"\xef\x1f\xff\x3e\xcf\x5d\xdf\x7c\xaf\x9b\xbf\xba\x8f\xd9\x9f\xf8"
        b"\x6e\x17\x7e\x36\x4e\x55\x5e\x74\x2e\x93\x3e\xb2\x0e\xd1\x1e\xf0"
    )
    for i in range(start, len(data) if end is None else end):
        x = ((crc >> 8) ^ data[i]) << 1
        crc = (((crc & 0xFF) ^ t[x]) << 8) | t[x + 1]
    return crc


class Session:
    """One end's state of a session: the shadow copies of both buffers (what the other end holds,
    equal on both ends), the last seq used, the sequence epoch (turns of 255) and the CRC starts
    it keys. Both ends open it with the same HELLO and advance it once a request.

    The predicted ack: after a data frame to_board (a RESUME) or from it (a YIELD), sent or
    applied, m2b's ack in the shadow becomes what the next frame the other way most likely
    holds, the app's next request (REQUEST) after a RESUME, the host's SUCCESS after a YIELD.
    Both ends do it at the same frame, so their shadows stay equal; the sender sends the ack
    only when it is not the predicted one, and the receiver copies it from the shadow either
    way."""

    def __init__(self):
        # both shadows in one buffer, m2b's then b2m's (the delta's address space), then the
        # data frames' key and the board's challenge (firmware/board_main.py): 207 bytes take
        # the heap block the shadows alone (196) would, two buffers of their own would cost more
        self.shadows = bytearray(CHALLENGE_AT + CHALLENGE_SIZE)
        self.seq = 0
        self.epoch = 0
        self.open = False

    def start(self, nonce, seq):
        shadows = self.shadows
        shadows[0:_KEY] = bytes(_KEY)
        shadows[_KEY:_KEY + 4] = nonce
        self.seq = seq
        self.epoch = 0
        self.open = True

    def advance(self):
        """The next request's seq (the epoch turns when it wraps)."""
        self.seq = self.seq % 255 + 1  # 1..255, wrapping (0 marks control frames)
        if self.seq == 1:
            self.epoch += 1
        return self.seq

    def _crc_start(self, seq, to_board):
        """The CRC start of a data frame of this session with `seq`: the key with the current
        epoch, or the next one for the seq that wraps it, and the direction."""
        epoch = self.epoch + 1 if (seq == 1 and self.seq == 255) else self.epoch
        shadows = self.shadows  # (the key follows the shadows)
        shadows[_KEY + 4] = epoch & 0xFF
        shadows[_KEY + 5] = (epoch >> 8) & 0xFF
        shadows[_KEY + 6] = 1 if to_board else 2
        return crc16(shadows, _KEY, _KEY + 7, 0xFFFF)


def control(raw, kind, seq, body):
    """A control frame, built in `raw` (a bytearray of at least MAX_CONTENT bytes; the board
    passes the one it reads frames into, whose content it has copied or parsed before it
    answers: one buffer less of heap). Every frame comes as a bytearray of its own that begins
    with a flag: send frame[1:] the first time, the whole frame when resending.
    control(raw, None, n, crc) is delta()'s end: content raw[:n], its CRC started from `crc`, as
    a frame (one function less on the board)."""
    if kind is None:
        n = seq
        crc = body
    else:
        raw[0] = 0
        raw[1] = kind
        raw[2] = seq
        n = _CONTROL_HEAD + len(body)
        raw[_CONTROL_HEAD:n] = body
        crc = 0xFFFF
    crc = crc16(raw, 0, n, crc) ^ 0xFFFF
    raw[n] = crc >> 8
    raw[n + 1] = crc & 0xFF
    n += CRC_SIZE
    # the frame is sized first (a scratch buffer of MAX_WIRE would hold heap for good)
    size = n + 2
    for i in range(n):
        b = raw[i] ^ _FLIP
        if b == FLAG or b == ESC or 0 < b < 6:
            size += 1
    wire = bytearray(size)
    wire[0] = FLAG
    j = 1
    for i in range(n):
        b = raw[i] ^ _FLIP
        if b == FLAG or b == ESC or 0 < b < 6:
            wire[j] = ESC
            wire[j + 1] = b ^ 0x20
            j += 2
        else:
            wire[j] = b
            j += 1
    wire[j] = FLAG
    return wire


def delta(raw, session, seq, to_board, m2b, b2m):
    """A data frame with `seq` carrying what changed in m2b and b2m since the session's shadows,
    built in `raw` as control()'s; the shadows are brought up to date."""
    raw[0] = seq
    n = 1
    pos = 0  # the address after the last run
    base = 0  # the buffer's first address
    shadows = session.shadows
    for buf in (m2b, b2m):
        # what travels, as (start, end): bluenet's bytes in use (2..48, byte 49 says how many),
        # the trailer in use (10 + the text length of byte 57, at most 40); apply_delta's too
        used = buf[OFF_USED]
        text = buf[OFF_TEXT_LEN]
        for a, b in ((0, 2 if used < 2 else (used if used <= BLUENET_SIZE else BLUENET_SIZE)),
                     (BLUENET_SIZE, BLUENET_SIZE + TRAILER_FIXED + (text if text <= TEXT_MAX else TEXT_MAX))):
            i = a
            while i < b:
                if buf[i] == shadows[base + i]:
                    i += 1
                    continue
                j = i + 1
                while j < b and j - i < _RUN and buf[j] != shadows[base + j]:
                    j += 1
                skip = base + i - pos
                if skip < 31:
                    raw[n] = (skip << 3) | (j - i - 1)
                    n += 1
                else:
                    raw[n] = 0xF8 | (j - i - 1)
                    raw[n + 1] = skip
                    n += 2
                while i < j:
                    raw[n] = shadows[base + i] = buf[i]
                    n += 1
                    i += 1
                pos = base + j
        base += BUFFER_SIZE
    shadows[1] = REQUEST if to_board else SUCCESS  # m2b's ack: the predicted one (Session)
    return control(raw, None, n, session._crc_start(seq, to_board))


def check(raw, n, session, to_board):
    """The kind of checked content raw[:n] (HELLO, INFO, NAK; RESUME or YIELD for a data frame
    of `session`, which must be open), or raise ValueError (the host's FrameError)."""
    if n < 1 + CRC_SIZE:
        raise ValueError  # too short
    sent = ((raw[n - 2] << 8) | raw[n - 1]) ^ 0xFFFF
    if raw[0] == 0:
        if n < _CONTROL_HEAD + CRC_SIZE or crc16(raw, 0, n - CRC_SIZE, 0xFFFF) != sent:
            raise ValueError  # bad CRC
        return raw[1]
    if session is None or not session.open:
        raise ValueError  # no session
    if crc16(raw, 0, n - CRC_SIZE, session._crc_start(raw[0], to_board)) != sent:
        raise ValueError  # bad CRC
    return RESUME if to_board else YIELD


def apply_delta(raw, n, session, m2b, b2m, to_board):
    """Apply a checked data frame's delta (to_board: a RESUME, else a YIELD) to the shadows,
    then copy the parts of the shadows that travel (as delta()'s) into m2b and b2m, then predict
    the next frame's ack (Session). Raises ValueError (nothing applied) when a run is out of
    bounds."""
    end = n - CRC_SIZE
    shadows = session.shadows
    for write in range(2):  # checked (0), then applied (1): not a tuple (a board's heap holds those)
        i = 1
        pos = 0
        while i < end:
            h = raw[i]
            i += 1
            length = (h & 7) + 1
            if h >= 0xF8:
                if i >= end:
                    raise ValueError  # cut run
                pos += raw[i]
                i += 1
            else:
                pos += h >> 3
            a = pos if pos < BUFFER_SIZE else pos - BUFFER_SIZE  # in its buffer
            if i + length > end or a + length > BUFFER_SIZE:  # (past b2m too: a >= BUFFER_SIZE)
                raise ValueError  # bad run
            if write:
                shadows[pos:pos + length] = raw[i:i + length]
            i += length
            pos += length
    view = memoryview(shadows)
    for buf, base in ((m2b, 0), (b2m, BUFFER_SIZE)):
        b = shadows[base + OFF_USED]
        b = 2 if b < 2 else (b if b <= BLUENET_SIZE else BLUENET_SIZE)
        buf[0:b] = view[base:base + b]
        b = shadows[base + OFF_TEXT_LEN]
        b = BLUENET_SIZE + TRAILER_FIXED + (b if b <= TEXT_MAX else TEXT_MAX)
        buf[BLUENET_SIZE:b] = view[base + BLUENET_SIZE:base + b]
    shadows[1] = REQUEST if to_board else SUCCESS  # m2b's ack: the predicted one (Session)


def read_frame(readinto, one, raw):
    """The board's side: the length of the next frame's content, read into `raw` (a
    bytearray(MAX_CONTENT); unchecked) a byte at a time with `readinto` (of sys.stdin.buffer, a
    UART, io.BytesIO) into `one` (a bytearray(1)), unescaping as it goes, skipping whatever is
    not a frame; -1 for wire bytes that are not a frame (a bad escape, too long: the caller NAKs
    them). Empty and one-byte pieces between flags (a flag doubled, line noise) are skipped.
    Raises EOFError at the end."""
    n = 0
    esc = False
    bad = False
    while True:
        got = readinto(one)
        if got is None:  # a UART read that timed out
            continue
        if not got:
            raise EOFError()
        w = one[0]
        if w == FLAG:
            if bad:
                return -1
            if esc:
                return -1
            if n > 1:
                return n
            n = 0
            continue
        if bad:
            continue
        if esc:
            b = w ^ _ESC_FLIP
            esc = False
            if not (b == 0xFE or b == 0xFD or 0x80 < b < 0x86):
                bad = True
                continue
        elif w == ESC:
            esc = True
            continue
        else:
            b = w ^ _FLIP
        if n >= MAX_CONTENT:
            bad = True
            continue
        raw[n] = b
        n += 1


def info_body(status, depth, heap_boot, heap_now, challenge, version, app, error):
    """The texts are cut to MAX_INFO_TEXT bytes (a long error text loses its end)."""
    text = "\n".join((version, app, error)).encode()
    return (bytes((status, depth)) + heap_boot.to_bytes(4, "little")
            + heap_now.to_bytes(4, "little") + challenge + text[:MAX_INFO_TEXT])


def parse_hello(raw, n):
    """(challenge, nonce, stack depth, app path) of the checked HELLO content raw[:n], or None
    when its body is empty (the host asks for the board's challenge)."""
    if n == _CONTROL_HEAD + CRC_SIZE:
        return None
    if n < _CONTROL_HEAD + HELLO_HEAD_SIZE + CRC_SIZE:
        raise ValueError  # HELLO too short
    return (bytes(raw[3:7]), bytes(raw[7:11]), raw[11],
            bytes(raw[_CONTROL_HEAD + HELLO_HEAD_SIZE:n - CRC_SIZE]).decode())


def text_frames(raw, seq, text):
    """TEXT frames carrying `text` (bytes, its last MAX_TEXT), one after the other, built in
    `raw` as control()'s: the first with its leading flag, as every frame."""
    text = text[-MAX_TEXT:]
    out = bytearray()  # (b"".join would hold a constant b"" on a board's heap)
    for offset in range(0, len(text), TEXT_CHUNK):
        frame = control(raw, TEXT, seq, offset.to_bytes(2, "little") + text[offset:offset + TEXT_CHUNK])
        out += frame[1:] if out else frame
    return out


if not _MICROPYTHON:  # the host's names (code that runs under MicroPython uses ValueError)
    # What content that is not a valid frame raises (a bad escape, too short, a bad CRC, a bad
    # delta): ValueError itself, which a HELLO's path that is not UTF-8 (UnicodeError) raises
    # too; a class of its own would take a board's heap.
    FrameError = ValueError

    def control_body(raw, n):
        """The body of checked control content raw[:n] (a copy)."""
        return bytes(raw[_CONTROL_HEAD:n - CRC_SIZE])
