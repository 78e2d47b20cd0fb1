"""The serial frame codec (shared_buffers/serial_frame.py): byte layout, no REPL control bytes on
the wire, resynchronisation after garbage, corruption detected; and the same codec in the real
MicroPython VM reading CPython's frames and writing frames CPython reads."""
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared_buffers import protocol as P
from shared_buffers import serial_frame as F
from shared_buffers.buffers import new_buffer, set_irq_id
from tests.micropython_vm import run_micropython

REPL_CONTROL = set(range(0x01, 0x06))
TRAILER = P.OFF_CALL_ID  # our trailer starts after bluenet's 48 bytes


def buffers(m2b_struct: bytes, b2m_struct: bytes, m2b_used=None) -> tuple[bytearray, bytearray]:
    """A request in m2b (bluenet's struct from byte 2, call id 7) and an interrupt in b2m (call
    id 8, interrupt id 0x1234)."""
    m2b, b2m = new_buffer(), new_buffer()
    m2b[0], m2b[1] = P.LOG, P.REQUEST
    m2b[2:2 + len(m2b_struct)] = m2b_struct
    m2b[P.OFF_CALL_ID] = 7
    m2b[P.OFF_USED] = 2 + len(m2b_struct) if m2b_used is None else m2b_used
    b2m[0], b2m[1] = P.MESH, P.REQUEST
    b2m[2:2 + len(b2m_struct)] = b2m_struct
    b2m[P.OFF_CALL_ID] = 8
    b2m[P.OFF_USED] = 2 + len(b2m_struct)
    set_irq_id(b2m, 0x1234)
    b2m[P.OFF_TIME:P.OFF_TIME + 4] = (123456).to_bytes(4, "little")
    return m2b, b2m


# Serial.println("hi") (LOG STR, newline, size 2) and a mesh READ interrupt from stone 2.
LOG_HI = bytes((P.LOG_STR, P.LOG_FLAG_NEWLINE, 2)) + b"hi"
MESH_ABC = bytes((P.MESH_READ, 2, 0, 3)) + b"abc"


def test_a_frame_is_marker_length_base64_newline_and_carries_only_the_used_bytes():
    m2b, b2m = buffers(LOG_HI, MESH_ABC)
    m2b[7:P.BLUENET_SIZE] = b"\xee" * (P.BLUENET_SIZE - 7)  # stale bytes past the used ones
    m2b[P.OFF_FLAGS] = P.FLAG_RAISED  # and an error text in the trailer
    m2b[P.OFF_TEXT_LEN] = 3
    m2b[P.OFF_TEXT:P.OFF_TEXT + 3] = b"Err"
    line = F.Encoder().buffers(42, F.YIELD, m2b, b2m)
    assert line[:1] == b"#" and line[-1:] == b"\n"
    assert (line[1] - 0x40) * 4 == len(line) - 3  # LEN counts 4-character base64 groups
    raw = F.decode(line)
    assert (raw[0], raw[1]) == (42, F.YIELD)
    # seq, kind, each buffer as used u8 + its used bytes + its trailer (10 + text bytes), the
    # 4-byte check: nothing else travels
    assert len(raw) == 2 + (1 + 7 + 10 + 3) + (1 + 9 + 10) + 4
    m2b_copy, b2m_copy = new_buffer(), new_buffer()
    assert F.unpack_buffers(raw, m2b_copy, b2m_copy)
    assert m2b_copy[:7] == m2b[:7] and b2m_copy[:9] == b2m[:9]
    assert m2b_copy[TRAILER:TRAILER + 13] == m2b[TRAILER:TRAILER + 13]
    assert b2m_copy[TRAILER:] == b2m[TRAILER:]
    assert m2b_copy[7:P.BLUENET_SIZE] == bytes(P.BLUENET_SIZE - 7)  # the unused rest stayed home


def test_a_used_length_past_bluenets_48_sends_the_whole_buffer():
    # a malformed request (used 200, an error text length past 40): the 48 bytes and the longest
    # trailer travel, and the lengths as they were
    m2b, b2m = buffers(b"x" * (P.BLUENET_SIZE - 2), b"", m2b_used=200)
    m2b[P.OFF_TEXT_LEN] = 200
    m2b[P.OFF_TEXT:] = b"t" * P.TEXT_MAX
    raw = F.decode(F.Encoder().buffers(1, F.RESUME, m2b, b2m))
    copy_m2b, copy_b2m = new_buffer(), new_buffer()
    assert F.unpack_buffers(raw, copy_m2b, copy_b2m)
    assert copy_m2b == m2b and copy_m2b[P.OFF_USED] == 200 and copy_b2m == b2m


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 255), st.sampled_from([F.HELLO, F.RESUME, F.YIELD, F.INFO, F.NAK]),
       st.binary(max_size=F.MAX_RAW - 6))
def test_no_frame_holds_a_repl_control_byte_and_every_frame_decodes_back(seq, kind, body):
    line = F.Encoder().frame(seq, kind, body)
    assert not REPL_CONTROL & set(line)
    raw = F.decode(line)
    assert (raw[0], raw[1], F.body(raw)) == (seq, kind, body)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=60), st.data())
def test_any_corruption_of_a_frame_is_detected(body, data):
    line = bytearray(F.Encoder().frame(3, F.RESUME, body))
    original = F.decode(bytes(line))
    i = data.draw(st.integers(0, len(line) - 2))  # any byte but the newline
    line[i] ^= data.draw(st.integers(1, 255))
    try:
        raw = F.decode(bytes(line))
    except F.FrameError:
        return
    if raw is None:  # the marker itself was hit: no frame at all
        assert b"#" not in line
    else:  # base64's padding bits: another spelling of the very same bytes
        assert raw == original


def test_the_host_side_resynchronises_on_the_last_marker_of_a_line():
    frame = F.Encoder().frame(9, F.INFO, b"board")
    assert F.decode(b"MPY: soft reboot\r\n") is None  # REPL text: no frame
    assert F.body(F.decode(b">>> garbage#half" + frame)) == b"board"
    with pytest.raises(F.FrameError):
        F.decode(frame[:-5] + b"\n")  # cut short


def test_the_board_side_reader_skips_garbage_and_reports_corrupt_frames():
    enc = F.Encoder()
    good = enc.frame(1, F.HELLO, b"\x00\x00\x00\x00\x03app.py")
    corrupt = bytearray(enc.frame(2, F.RESUME, b"abc"))
    corrupt[5] ^= 0x20
    stream = io.BytesIO(b"\r\nnoise##" + good + bytes(corrupt) + b"x" + good)
    reader = F.FrameReader(stream)
    assert F.body(reader.next()) == b"\x00\x00\x00\x00\x03app.py"
    assert reader.next() is None  # the corrupt one: the board NAKs it
    assert reader.next()[0] == 1
    with pytest.raises(EOFError):
        reader.next()


def test_info_and_hello_bodies_round_trip():
    info = F.parse_info(F.info_body(F.INFO_LOAD_ERROR, 3, 1000, 2000, "fw 1", "app.py", "NameError: x"))
    assert info == (F.INFO_LOAD_ERROR, 3, 1000, 2000, "fw 1", "app.py", "NameError: x")
    assert F.parse_hello(F.hello_body(b"abcd", 2, "apps/x.py")) == (2, "apps/x.py")
    # a long error text is cut to what one frame holds, never an error of its own
    long = F.info_body(F.INFO_LOAD_ERROR, 3, 0, 0, "fw 1", "app.py", "NameError: " + "x" * 500)
    error = F.parse_info(F.body(F.decode(F.Encoder().frame(1, F.INFO, long))))[6]
    assert error.startswith("NameError: xxx") and len(long) == F.MAX_RAW - 6


def test_micropython_reads_cpythons_frames_and_cpython_reads_micropythons():
    enc = F.Encoder()
    m2b, b2m = buffers(bytes((P.LOG_STR, P.LOG_FLAG_NEWLINE, 5)) + b"hello", bytes((P.MESH_READ, 9, 0, 4)) + b"data")
    frames = [enc.buffers(5, F.RESUME, m2b, b2m), enc.frame(6, F.HELLO, b"\x01\x02\x03\x04\x02a.py")]
    bad = bytearray(frames[0])
    bad[10] ^= 0x01
    stream = b"junk" + frames[0] + bytes(bad) + frames[1]
    code, out, err = run_micropython(f"""
import io, binascii
from shared_buffers import serial_frame as F
from shared_buffers.buffers import new_buffer
reader = F.FrameReader(io.BytesIO({stream!r}))
m2b, b2m = new_buffer(), new_buffer()
first = reader.next()
print(first[0], first[1], F.unpack_buffers(first, m2b, b2m))
print(reader.next())
third = reader.next()
print(third[0], third[1], F.parse_hello(F.body(third)))
m2b[1] = 0  # the host's SUCCESS, written back
print(F.Encoder().buffers(5, F.YIELD, m2b, b2m).decode())
""")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [f"5 {F.RESUME} True", "None", f"6 {F.HELLO} (2, 'a.py')"]
    raw = F.decode(lines[3].encode() + b"\n")
    back_m2b, back_b2m = new_buffer(), new_buffer()
    assert (raw[0], raw[1]) == (5, F.YIELD) and F.unpack_buffers(raw, back_m2b, back_b2m)
    assert back_m2b[:10] == bytes([P.LOG, P.SUCCESS]) + m2b[2:10]
    assert back_m2b[TRAILER:] == m2b[TRAILER:]
    assert back_b2m == b2m
    assert back_b2m[P.OFF_IRQ_ID:P.OFF_IRQ_ID + 2] == b"\x34\x12"  # the interrupt id, little-endian
