"""The board's main program (firmware/board_main.py) in the real MicroPython VM, fed a scripted
host: the session set-up, stop-and-wait (a repeated request is answered from the kept reply and
not handled twice), NAK for a corrupt frame, a HELLO that restarts a running app."""
from shared_buffers import protocol as P
from shared_buffers import serial_frame as F
from shared_buffers.buffers import new_buffer
from tests.micropython_vm import run_micropython

APP = """
import microapp
def setup():
    print("setup")
def loop():
    print("loop", microapp.millis())
"""


def tick(call_id: int, t_ms: int) -> bytearray:
    """b2m holding a tick (CONTINUE) of this call id and time."""
    b2m = new_buffer()
    b2m[0], b2m[1] = P.CONTINUE, P.NO_REQUEST
    b2m[P.OFF_CALL_ID] = call_id
    b2m[P.OFF_USED] = 2
    b2m[P.OFF_TIME:P.OFF_TIME + 4] = t_ms.to_bytes(4, "little")
    return b2m


def acked(m2b: bytearray) -> bytearray:
    m2b = bytearray(m2b)
    m2b[1] = P.SUCCESS
    return m2b


def serve(flash_dir, stream: bytes) -> list[bytes]:
    """Run the firmware on `stream` as its serial input; its output lines."""
    code, out, err = run_micropython(f"""
import io, sys
from firmware.board_main import main
main(io.BytesIO({stream!r}), sys.stdout.buffer)
print("served")
""", flash_dir=str(flash_dir))
    assert (code, err) == (0, "")
    return [line.encode("latin-1") + b"\n" for line in out.split("\n") if line]


def log_text(m2b: bytearray) -> str:
    """The text of a LOG request (microapp_sdk_log_header_t: type, flags, size, then the value)."""
    return bytes(m2b[P.OFF_LOG_VALUE:P.OFF_LOG_VALUE + m2b[P.OFF_LOG_SIZE]]).decode()


def test_the_firmware_serves_a_scripted_host_with_stop_and_wait(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    enc = F.Encoder()
    hello = enc.frame(1, F.HELLO, F.hello_body(b"\x00\x01\x02\x03", 2, ""))
    first = enc.buffers(2, F.RESUME, new_buffer(), tick(1, 0))
    # what the board will answer to `first`: setup's print, a LOG request; the host acks it
    setup_log = new_buffer()
    setup_log[0], setup_log[1] = P.LOG, P.REQUEST
    setup_log[2:10] = bytes((P.LOG_STR, P.LOG_FLAG_NEWLINE, 5)) + b"setup"
    setup_log[P.OFF_CALL_ID], setup_log[P.OFF_USED] = 1, 10
    second = enc.buffers(3, F.RESUME, acked(setup_log), tick(1, 0))
    corrupt = bytearray(second)
    corrupt[7] ^= 0x04
    final = new_buffer()  # setup's final status, acked
    final[0], final[1], final[P.OFF_YIELD_TYPE] = P.YIELD, P.SUCCESS, P.YIELD_SETUP
    final[P.OFF_CALL_ID], final[P.OFF_USED] = 1, P.YIELD_STRUCT
    third = enc.buffers(4, F.RESUME, final, tick(2, 100))
    hello_again = enc.frame(5, F.HELLO, F.hello_body(b"\x09\x09\x09\x09", 2, ""))
    after_restart = enc.buffers(6, F.RESUME, new_buffer(), tick(3, 200))
    stream = b"".join([hello, hello, first, first, b"garbage\r\n", bytes(corrupt), second, third,
                       hello_again, after_restart])

    lines = serve(tmp_path, stream)
    assert lines[-1] == b"served\n"
    frames = [F.decode(line) for line in lines[:-1]]
    kinds = [(raw[0], raw[1]) for raw in frames]
    assert kinds == [(0, F.INFO),                    # boot banner
                     (1, F.INFO), (1, F.INFO),       # HELLO, and its repeat answered again
                     (2, F.YIELD), (2, F.YIELD),     # setup's request, and its repeat
                     (2, F.NAK),                     # the corrupt frame (garbage before it: skipped)
                     (3, F.YIELD), (4, F.YIELD),     # setup's final status; loop's request
                     (5, F.INFO), (6, F.YIELD)]      # a new HELLO restarts the app: setup again
    banner = F.parse_info(F.body(frames[0]))
    assert banner[0] == F.INFO_READY and banner[1] == P.DEFAULT_STACK_DEPTH and banner[5] == "app.py"
    info = F.parse_info(F.body(frames[1]))
    assert (info[0], info[1], info[4]) == (F.INFO_READY, 2, "microapp-firmware 0.1")
    assert lines[1] == lines[2] and lines[3] == lines[4]  # repeats: the same bytes, kept

    def buffers(raw):
        m2b, b2m = new_buffer(), new_buffer()
        assert F.unpack_buffers(raw, m2b, b2m)
        return m2b, b2m

    m2b, b2m = buffers(frames[3])
    assert (m2b[0], m2b[1], m2b[P.OFF_CALL_ID], log_text(m2b)) == (P.LOG, P.REQUEST, 1, "setup")
    assert m2b[P.OFF_USED] == 10  # the LOG header and "setup": what travelled
    m2b, _ = buffers(frames[6])
    assert (m2b[0], m2b[1], m2b[P.OFF_YIELD_TYPE]) == (P.YIELD, P.NO_REQUEST, P.YIELD_SETUP)
    assert m2b[P.OFF_FLAGS] == 0  # a clean final status
    m2b, _ = buffers(frames[7])
    assert (m2b[0], m2b[P.OFF_CALL_ID], log_text(m2b)) == (P.LOG, 2, "loop 100")  # setup ran once, not twice
    m2b, _ = buffers(frames[9])
    assert (m2b[P.OFF_CALL_ID], log_text(m2b)) == (3, "setup")


def test_a_resume_outside_a_session_and_a_missing_app_get_an_info(tmp_path):
    enc = F.Encoder()
    stream = (enc.buffers(7, F.RESUME, new_buffer(), tick(1, 0))
              + enc.frame(8, F.HELLO, F.hello_body(b"abcd", 3, "nowhere.py")))
    frames = [F.decode(line) for line in serve(tmp_path, stream)[:-1]]
    boot, no_session, missing = (F.parse_info(F.body(raw)) for raw in frames)
    assert boot[0] == F.INFO_LOAD_ERROR and "no app enabled" in boot[6]  # nothing installed
    assert (frames[1][0], no_session[0]) == (7, F.INFO_NO_SESSION)
    assert (frames[2][0], missing[0], missing[5]) == (8, F.INFO_LOAD_ERROR, "nowhere.py")
    assert "ENOENT" in missing[6] or "No such file" in missing[6]
