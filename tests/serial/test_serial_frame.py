"""The serial frame codec (shared_buffers/serial_frame.py): no REPL control bytes on the wire, only
what changed travels (and only the used bytes and the trailer), the CRC catches corruption and
keys frames to their session, epoch and direction, the host's splitter is bounded; and the same
codec in the real MicroPython VM writes the very bytes CPython writes and reads CPython's frames."""
import binascii
import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared_buffers import protocol as P
from shared_buffers import serial_frame as F
from shared_buffers import serial_host as H
from shared_buffers.buffers import new_buffer
from tests.micropython_vm import run_micropython

REPL_CONTROL = set(range(0x01, 0x06))


def pair(nonce=b"abcd", seq=9):
    host, board = F.Session(), F.Session()
    host.start(nonce, seq)
    board.start(nonce, seq)
    return host, board


def receive(frame: bytes, session: F.Session, to_board: bool, m2b, b2m) -> int:
    """The receiver's side of one frame: unescape, check, apply; the kind."""
    raw = bytearray(F.MAX_CONTENT)
    n = H.unescape(frame.strip(b"\x7e"), raw)
    kind = F.check(raw, n, session, to_board)
    if kind in (F.RESUME, F.YIELD):
        F.apply_delta(raw, n, session, m2b, b2m, to_board)
    return kind


def reader(data: bytes):
    """The board's reader over `data`: (its content buffer, a function reading the next frame)."""
    stream, one, raw = io.BytesIO(data), bytearray(1), bytearray(F.MAX_CONTENT)
    return raw, lambda: F.read_frame(stream.readinto, one, raw)


def pin_write(m2b, value):
    m2b[0:8] = bytes((P.PIN, P.REQUEST, 3, P.PIN_ACTION, 0, 0, P.PIN_WRITE, value))
    m2b[P.OFF_USED] = 8


def travelling(buf) -> bytes:
    return b"".join(bytes(buf[a:b]) for a, b in H.spans(buf))


@pytest.mark.parametrize("used, text_len, expected", [
    (0, 0, ((0, 2), (48, 58))), (5, 3, ((0, 5), (48, 61))), (48, 40, ((0, 48), (48, 98))),
    (200, 255, ((0, 48), (48, 98)))])
def test_what_travels_is_bluenets_bytes_in_use_and_the_trailer_in_use(used, text_len, expected):
    buf = new_buffer()
    buf[P.OFF_USED], buf[P.OFF_TEXT_LEN] = used, text_len
    assert H.spans(buf) == expected  # out-of-range sizes clamped: the header, 48, 40 bytes of text


def test_a_pin_write_round_trip_carries_only_what_changed():
    host, board = pair()
    enc = H.Encoder()
    hm, hb, bm, bb = new_buffer(), new_buffer(), new_buffer(), new_buffer()
    pin_write(bm, 1)
    bb[0], bb[P.OFF_USED], bb[P.OFF_CALL_ID] = P.CONTINUE, 2, 1
    first = enc.delta(board, 9, False, bm, bb)
    receive(first, host, False, hm, hb)
    assert travelling(hm) == travelling(bm) and travelling(hb) == travelling(bb)
    sizes = []
    for value in (0, 1, 0):
        hm[P.OFF_ACK] = P.SUCCESS  # the host's ack; b2m's tick unchanged: not sent
        seq = host.advance()
        resume = enc.delta(host, seq, True, hm, hb)
        assert receive(resume, board, True, bm, bb) == F.RESUME and bm[P.OFF_ACK] == P.SUCCESS
        board.advance()
        pin_write(bm, value)  # the next write: ack REQUEST and the value changed, nothing else
        answer = enc.delta(board, seq, False, bm, bb)
        assert receive(answer, host, False, hm, hb) == F.YIELD and hm[P.OFF_PIN_VALUE] == value
        sizes.append((len(resume) - 1, len(answer) - 1))  # as first sent: without the lead flag
    # RESUME: seq, CRC, flag (the ack is the predicted SUCCESS); YIELD: seq, run(value), CRC,
    # flag (the ack is the predicted REQUEST)
    assert sizes == [(4, 6)] * 3
    assert travelling(hm) == travelling(bm) and travelling(hb) == travelling(bb)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, P.BUFFER_SIZE - 1), st.integers(0, 255)),
                max_size=60), st.integers(1, 255))
def test_both_ends_hold_the_same_travelling_bytes_after_any_changes(changes, seq):
    host, board = pair(seq=seq)
    enc = H.Encoder()
    hm, hb, bm, bb = new_buffer(), new_buffer(), new_buffer(), new_buffer()
    for i in range(0, len(changes), 5):
        for in_b2m, at, value in changes[i:i + 5]:
            (hb if in_b2m else hm)[at] = value
        s = host.advance()
        frame = enc.delta(host, s, True, hm, hb)
        assert not REPL_CONTROL & set(frame)
        assert len(frame) <= H.MAX_WIRE
        receive(frame, board, True, bm, bb)
        board.advance()
        assert travelling(bm) == travelling(hm) and travelling(bb) == travelling(hb)
        # bytes outside what travels stay home
        outside = [j for j in range(P.BUFFER_SIZE) if not any(a <= j < b for a, b in H.spans(hm))]
        assert all(bm[j] == 0 or bm[j] == hm[j] for j in outside)


def test_the_longest_frame_is_max_content_and_the_board_reads_it():
    # every byte that can travel changed, in both buffers: the longest delta there is
    host, board = pair()
    m2b, b2m = new_buffer(), new_buffer()
    for buf in (m2b, b2m):
        buf[:] = bytes(range(1, P.BUFFER_SIZE + 1))
        buf[P.OFF_USED], buf[P.OFF_TEXT_LEN] = P.BLUENET_SIZE, P.TEXT_MAX
    frame = H.Encoder().delta(host, host.advance(), True, m2b, b2m)
    raw, read = reader(frame)
    assert read() == F.MAX_CONTENT
    got = new_buffer(), new_buffer()
    assert F.check(raw, F.MAX_CONTENT, board, True) == F.RESUME
    F.apply_delta(raw, F.MAX_CONTENT, board, *got, True)
    assert (travelling(got[0]), travelling(got[1])) == (travelling(m2b), travelling(b2m))
    # the longest control frames fit too: a TEXT frame, an INFO, a HELLO naming the longest path
    enc = H.Encoder()
    for frame in (F.text_frames(bytearray(F.MAX_CONTENT), 1, b"x" * F.TEXT_CHUNK),
                  enc.control(F.INFO, 1, F.info_body(0, 0, 0, 0, b"wxyz", "v" * 300, "", "")),
                  enc.control(F.HELLO, 1, H.hello_body(b"wxyz", b"abcd", 2, "a" * F.MAX_APP_PATH))):
        assert 0 < reader(frame)[1]() <= F.MAX_CONTENT


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.lists(st.booleans(), min_size=2 * P.BUFFER_SIZE,
                                                        max_size=2 * P.BUFFER_SIZE))
def test_no_delta_is_longer_than_max_content(used, text_len, changed):
    # any sizes in use, any pattern of changed bytes (dense ones above all)
    host, _ = pair()
    bufs = new_buffer(), new_buffer()
    for at, flip in enumerate(changed):
        bufs[at // P.BUFFER_SIZE][at % P.BUFFER_SIZE] = 0x55 if flip else 0
    for buf in bufs:
        buf[P.OFF_USED], buf[P.OFF_TEXT_LEN] = used, text_len
    frame = H.Encoder().delta(host, host.advance(), True, *bufs)
    assert len(frame) <= H.MAX_WIRE
    assert 0 < reader(frame)[1]() <= F.MAX_CONTENT


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.booleans(), st.sampled_from((1, 1, 1, 0, 7, P.OFF_USED)),
                                   st.integers(0, 255)), max_size=4), max_size=30))
def test_the_predicted_ack_keeps_both_ends_equal_whichever_way_frames_go(turns):
    # RESUME and YIELD in turn, each end changing m2b's ack (and a few bytes beside it) or not:
    # whether the ack is the predicted one or not, the receiver ends with the sender's bytes.
    host, board = pair()
    enc = H.Encoder()
    hm, hb, bm, bb = new_buffer(), new_buffer(), new_buffer(), new_buffer()
    for t, changes in enumerate(turns):
        to_board = t % 2 == 0
        m2b, b2m = (hm, hb) if to_board else (bm, bb)
        for in_b2m, at, value in changes:
            (b2m if in_b2m else m2b)[at] = value
        sender, receiver = (host, board) if to_board else (board, host)
        seq = host.advance() if to_board else host.seq
        if to_board:
            board.advance()
        frame = enc.delta(sender, seq, to_board, m2b, b2m)
        receive(frame, receiver, to_board, *((bm, bb) if to_board else (hm, hb)))
        assert travelling(bm) == travelling(hm) and travelling(bb) == travelling(hb)
        assert host.shadows[:F._KEY] == board.shadows[:F._KEY]


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 255), st.binary(max_size=F.MAX_INFO_TEXT))
def test_no_control_frame_holds_a_repl_control_byte_and_every_one_decodes_back(seq, body):
    frame = H.Encoder().control(F.INFO, seq, body)
    assert not REPL_CONTROL & set(frame)
    raw = bytearray(F.MAX_CONTENT)
    n = H.unescape(frame[1:-1], raw)
    assert F.check(raw, n, None, False) == F.INFO and raw[2] == seq
    assert F.control_body(raw, n) == body


def test_the_key_and_the_challenge_follow_the_shadows_where_no_delta_reaches():
    # Session.shadows: both shadows, the key (nonce, epoch u16, direction), the board's challenge
    assert F._KEY == 2 * P.BUFFER_SIZE and F.CHALLENGE_AT == F._KEY + 7
    session = F.Session()
    assert len(session.shadows) == F.CHALLENGE_AT + F.CHALLENGE_SIZE
    session.start(b"abcd", 0)
    raw = bytearray(F.MAX_CONTENT)
    # seq, a byte at b2m's last address (a skip of 195), then one more: the key's first byte
    raw[0:6] = bytes((1, 0xF8, 2 * P.BUFFER_SIZE - 1, 0x55, 0x00, 0x66))
    with pytest.raises(F.FrameError):
        F.apply_delta(raw, 8, session, bytearray(P.BUFFER_SIZE), bytearray(P.BUFFER_SIZE), True)
    F.apply_delta(raw, 6, session, bytearray(P.BUFFER_SIZE), bytearray(P.BUFFER_SIZE), True)
    assert session.shadows[F._KEY - 1] == 0x55  # (the first run alone, n = 6: it applies)
    assert session.shadows[F._KEY:F._KEY + 4] == b"abcd"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 0xFFFF))
def test_the_crc_is_crc16_ccitt_from_any_start(data, start):
    # the table is a bytes constant: binascii computes the same CRC without one
    assert F.crc16(data, 0, None, start) == binascii.crc_hqx(data, start)
    assert F.crc16(b"123456789", 0, None, 0xFFFF) == 0x29B1  # CRC-16/CCITT-FALSE's check value


def _caught(frame):
    """Whether the receiver rejects a damaged line (every piece between flags that unescapes)."""
    raw = bytearray(F.MAX_CONTENT)
    for piece in bytes(frame).split(b"\x7e"):  # a flip may make a flag: two pieces then
        n = H.unescape(piece, raw)
        if n >= 0:
            try:
                F.check(raw, n, None, True)
            except F.FrameError:
                continue
            return False
    return True


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=1, max_size=40), st.data())
def test_any_flipped_byte_of_a_frame_is_detected(body, data):
    # A CRC-16 catches every burst of at most 16 bits: a byte flipped is always caught.
    frame = bytearray(H.Encoder().control(F.HELLO, 5, body))[1:-1]
    i = data.draw(st.integers(0, len(frame) - 1))
    frame[i] ^= data.draw(st.integers(1, 255))
    assert _caught(frame)


def test_dropped_and_doubled_bytes_are_detected_but_for_the_crcs_odds():
    # A byte lost or doubled shifts what follows: no CRC catches every such change, a CRC-16
    # misses about 1 in 65536. Over 20 000 damaged frames (fixed seed) at most a few may pass.
    rng = random.Random(7)
    missed = 0
    for _ in range(10_000):
        frame = bytearray(H.Encoder().control(F.HELLO, 5, rng.randbytes(rng.randrange(1, 41))))[1:-1]
        for what in ("drop", "double"):
            damaged = bytearray(frame)
            i = rng.randrange(len(damaged))
            if what == "drop":
                del damaged[i]
            else:
                damaged.insert(i, damaged[i])
            missed += not _caught(damaged)
    assert missed <= 3


def test_a_frame_checks_only_in_its_own_session_epoch_and_direction():
    host, board = pair(b"abcd", 254)
    other, _ = pair(b"abce", 254)
    enc = H.Encoder()
    m2b, b2m = new_buffer(), new_buffer()
    m2b[0] = 7
    seq = host.advance()  # 255
    frame = enc.delta(host, seq, True, m2b, b2m)
    raw = bytearray(F.MAX_CONTENT)
    n = H.unescape(frame[1:-1], raw)
    assert F.check(raw, n, board, True) == F.RESUME
    with pytest.raises(F.FrameError):
        F.check(raw, n, board, False)  # the same frame echoed back: not the board's
    with pytest.raises(F.FrameError):
        F.check(raw, n, other, True)   # another session (another HELLO's nonce)
    board.advance()
    for _ in range(255):               # one turn of the sequence numbers later
        host.advance()
        board.advance()
    assert board.seq == 255 and board.epoch == 1
    with pytest.raises(F.FrameError):
        F.check(raw, n, board, True)


def test_the_host_splitter_keeps_no_more_than_a_frame_of_a_line_without_flags():
    splitter = H.Splitter()
    spilled = 0
    for _ in range(1000):
        pieces, spill = splitter.feed(b"x" * 4096)
        assert pieces == [] and len(splitter) <= H.MAX_WIRE
        spilled += len(spill)
    assert spilled + len(splitter) == 4096 * 1000 and splitter.dropped == spilled
    pieces, _ = splitter.feed(b"tail\x7e\x7e" + H.Encoder().control(F.NAK, 3, b"\x00"))
    assert len(pieces) == 2  # the text before the flag, and the NAK; empty pieces left out


def test_the_board_reader_skips_garbage_and_reports_corrupt_frames():
    enc = H.Encoder()
    good = enc.control(F.HELLO, 1, b"\x00" * 9 + b"app.py")
    corrupt = bytearray(enc.control(F.HELLO, 2, b"abc"))
    corrupt[4] ^= 0x20
    raw, read = reader(b"\r\nnoise" + good + bytes(corrupt) + b"\x7e\x7d\x7e" + good[1:] + b"x")
    with pytest.raises(F.FrameError):  # the noise before the first flag: no frame (NAKed)
        F.check(raw, read(), None, True)
    n = read()
    assert F.check(raw, n, None, True) == F.HELLO
    assert F.parse_hello(raw, n)[3] == "app.py"
    n = read()
    with pytest.raises(F.FrameError):  # the corrupt one: the board NAKs it
        F.check(raw, n, None, True)
    assert read() == -1  # an escape before a flag
    n = read()
    assert n > 0 and raw[2] == 1  # the good one again, after the garbage
    with pytest.raises(EOFError):
        read()


def test_info_and_hello_bodies_round_trip():
    info = H.parse_info(F.info_body(F.INFO_LOAD_ERROR, 3, 1000, 2000, b"wxyz", "fw 1", "app.py", "NameError: x"))
    assert info == (F.INFO_LOAD_ERROR, 3, 1000, 2000, "fw 1", "app.py", "NameError: x", b"wxyz")
    raw = bytearray(F.MAX_CONTENT)
    for body, fields in ((H.hello_body(b"wxyz", b"abcd", 2, "apps/x.py"), (b"wxyz", b"abcd", 2, "apps/x.py")),
                         (b"", None)):  # an empty one: the host asks for the challenge
        n = H.unescape(F.control(raw, F.HELLO, 1, body)[1:-1], raw)
        assert F.check(raw, n, None, True) == F.HELLO and F.parse_hello(raw, n) == fields
    n = H.unescape(F.control(raw, F.HELLO, 1, b"wxyz")[1:-1], raw)
    with pytest.raises(F.FrameError):  # too short (the board NAKs it)
        F.parse_hello(raw, n)
    long = F.info_body(F.INFO_LOAD_ERROR, 3, 0, 0, b"wxyz", "fw 1", "app.py", "NameError: " + "x" * 500)
    assert len(long) == F.INFO_HEAD_SIZE + F.MAX_INFO_TEXT  # cut to fit, never an error of its own


def test_micropython_writes_the_bytes_cpython_writes_and_reads_cpythons_frames():
    rng = random.Random(5)
    script = []
    for _ in range(40):
        changes = [(rng.randrange(2), rng.randrange(P.BUFFER_SIZE), rng.randrange(256))
                   for _ in range(rng.randrange(6))]
        script.append(changes)
    host, board = pair(b"\x81\x82\x7e\x03", 250)
    enc = H.Encoder()
    bufs = (new_buffer(), new_buffer())
    expected = []
    for changes in script:
        for k, at, value in changes:
            bufs[k][at] = value
        expected.append(enc.delta(host, host.advance(), True, *bufs).hex())
    hello = enc.control(F.HELLO, 7, H.hello_body(b"\x00\x01\x02\x03", b"abcd", 2, "a.py"))
    bad = bytearray(hello)
    bad[6] ^= 0x01
    stream = b"junk" + hello + bytes(bad) + bytes.fromhex(expected[0])
    code, out, err = run_micropython(f"""
import io
from shared_buffers import serial_frame as F
from shared_buffers.buffers import new_buffer
s = F.Session()
s.start(b"\\x81\\x82\\x7e\\x03", 250)
raw = bytearray(F.MAX_CONTENT)
bufs = (new_buffer(), new_buffer())
for changes in {script!r}:
    for k, at, value in changes:
        bufs[k][at] = value
    print(F.delta(raw, s, s.advance(), True, bufs[0], bufs[1]).hex())
stream, one = io.BytesIO({stream!r}), bytearray(1)
F.read_frame(stream.readinto, one, raw)  # the junk before the first flag
n = F.read_frame(stream.readinto, one, raw)
print(F.check(raw, n, None, True), F.parse_hello(raw, n))
n = F.read_frame(stream.readinto, one, raw)
try:
    F.check(raw, n, None, True)
except ValueError:  # (FrameError: the host's name)
    print("corrupt")
r = F.Session()
r.start(b"\\x81\\x82\\x7e\\x03", 250)
n = F.read_frame(stream.readinto, one, raw)
m2b, b2m = new_buffer(), new_buffer()
print(F.check(raw, n, r, True))
F.apply_delta(raw, n, r, m2b, b2m, True)
print(bytes(m2b).hex(), bytes(b2m).hex())
""")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:40] == expected
    assert lines[40] == f"{F.HELLO} (b'\\x00\\x01\\x02\\x03', b'abcd', 2, 'a.py')"
    assert lines[41] == "corrupt"
    assert lines[42] == str(F.RESUME)
    sender, receiver = pair(b"\x81\x82\x7e\x03", 250)
    m2b, b2m, first = new_buffer(), new_buffer(), [new_buffer(), new_buffer()]
    for k, at, value in script[0]:
        first[k][at] = value
    receive(enc.delta(sender, sender.advance(), True, *first), receiver, True, m2b, b2m)
    assert lines[43] == f"{bytes(m2b).hex()} {bytes(b2m).hex()}"
