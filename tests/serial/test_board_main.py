"""The board's main program (firmware/board_main.py) in the real MicroPython VM, driven by a
scripted host in the same VM that answers what the board sends: the challenge before a session,
stop-and-wait (a repeated request is answered from the kept reply and not handled twice), only
the next sequence number taken (out-of-order and replayed frames dropped and counted), a NAK for
a corrupt frame, a replayed HELLO that restarts nothing, a frame outside a session."""
import pytest

from tests.micropython_vm import run_micropython

APP = """
def setup():
    print("setup")
def loop():
    print("loop")
"""

HOST = r"""
from firmware.board_main import Board
from shared_buffers import protocol as P
from shared_buffers import serial_frame as F
from shared_buffers import serial_host as H
from shared_buffers.buffers import new_buffer

enc = H.Encoder()
hs = F.Session()
hm, hb = new_buffer(), new_buffer()
raw = bytearray(F.MAX_CONTENT)
state = {"challenge": bytes(4), "sent": {}}


class Host:
    # The board's stream: each time the board wants input and none is left, the next step sees
    # the frames the board sent since the last one and gives the next input.
    def __init__(self, steps):
        self.steps, self.inp, self.pos = steps, b"", 0
        self.splitter = H.Splitter()
        self.frames = []

    def write(self, data):
        self.frames += self.splitter.feed(bytes(data))[0]

    def readinto(self, b):
        while self.pos >= len(self.inp):
            if not self.steps:
                return 0
            got, self.frames = self.frames, []
            self.inp, self.pos = self.steps.pop(0)(got), 0
        b[0] = self.inp[self.pos]
        self.pos += 1
        return 1


def show(got):
    # What the board sent: (kind, seq, detail) per frame.
    out = []
    for piece in got:
        n = H.unescape(piece, raw)
        kind = F.check(raw, n, hs, False)
        if kind == F.INFO:
            info = H.parse_info(raw[3:n - F.CRC_SIZE])  # its body (F.control_body: CPython's only)
            state["challenge"] = info[7]
            out.append(("INFO", raw[2], info[0]))
        elif kind == F.NAK:
            out.append(("NAK", raw[2], raw[3]))
        else:
            F.apply_delta(raw, n, hs, hm, hb, False)
            text = bytes(hm[P.OFF_LOG_VALUE:hm[P.OFF_USED]]).decode() if hm[0] == P.LOG else ""
            out.append(("YIELD", raw[0], hm[0], text))
    print(out)


def hello(seq, nonce, stale=False):
    def step(got):
        show(got)
        challenge = b"\x00\x01\x02\x03" if stale else state["challenge"]
        frame = enc.control(F.HELLO, seq, H.hello_body(challenge, nonce, 2, ""))
        state["sent"]["hello%d" % seq] = frame
        return frame
    return step


def opened(seq, nonce):
    def step(got):
        show(got)
        hs.start(nonce, seq)
        return b""
    return step


def resume(ack=None, tick=None):
    def step(got):
        show(got)
        if ack is not None:
            hm[P.OFF_ACK] = ack
        if tick is not None:
            hb[0], hb[P.OFF_ACK], hb[P.OFF_USED], hb[P.OFF_CALL_ID] = P.CONTINUE, P.NO_REQUEST, 2, 1
            hb[P.OFF_TIME] = tick
        frame = enc.delta(hs, hs.advance(), True, hm, hb)
        state["sent"]["resume%d" % hs.seq] = frame
        return frame[1:]
    return step


def again(name):
    def step(got):
        show(got)
        return state["sent"][name]
    return step


def out_of_order(got):
    show(got)
    key = bytes(hs.shadows[2 * P.BUFFER_SIZE:2 * P.BUFFER_SIZE + 4])  # the nonce, after the shadows
    ahead = F.Session()  # a frame of this session, two ahead: it checks, but is not the next
    ahead.start(key, hs.seq)
    ahead.advance()
    other = F.Session()  # another frame with the last seq: not the request handled
    other.start(key, hs.seq - 1)
    hm[5] ^= 0xFF
    frames = enc.delta(ahead, ahead.advance(), True, hm, hb) + enc.delta(other, other.advance(), True, hm, hb)
    hm[5] ^= 0xFF
    return frames


def corrupt(got):
    show(got)
    frame = bytearray(enc.control(F.HELLO, 99, b"x" * 12))
    frame[5] ^= 0x40
    return bytes(frame)


def end(got):
    show(got)
    return b""


nonce = b"\x81\x02\x7e\x04"
steps = [hello(10, nonce),           # the boot banner came; its challenge is used
         hello(11, b"zzzz", True),   # a HELLO with a challenge that is not the board's
         hello(12, nonce),           # with the current one: the app loads
         opened(12, nonce),
         again("hello12"),           # a repeat: the kept INFO again, nothing reloaded
         resume(tick=0),             # setup() runs: its print is a LOG request
         again("resume13"),          # a repeat: the kept YIELD again, not handled twice
         out_of_order,               # dropped, no answer
         again("resume13"),          # the kept YIELD still
         corrupt,                    # NAK with the last request's seq
         resume(ack=P.SUCCESS),      # the LOG acked: setup's final status
         again("hello12"),           # an old HELLO replayed: stale challenge, restarts nothing
         resume(ack=P.SUCCESS, tick=100),  # loop() runs in the same session: its LOG
         end]
class NoFlag:
    # no flag file: this test drives Board directly
    rebooted = ""

    def at_boot(self, installed):
        return ""

    def start(self, app):
        pass

    def enter(self):
        pass

    def leave(self, m2b=None):
        pass


host = Host(steps)
board = Board(host, host, NoFlag())
board.serve()
print(board.dropped)
"""


@pytest.mark.slow
def test_the_firmware_serves_a_scripted_host_by_the_sequence_rules(tmp_path):
    (tmp_path / "app.py").write_text(APP)
    code, out, err = run_micropython(HOST, flash_dir=str(tmp_path))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    banner = eval(lines[0])
    assert banner == [("INFO", 0, 0)]  # the boot banner: the app loaded
    assert eval(lines[1]) == [("INFO", 10, 0)]  # the banner's challenge was current: READY
    assert eval(lines[2]) == [("INFO", 11, 2)]  # stale challenge: INFO CHALLENGE, nothing done
    assert eval(lines[3]) == [("INFO", 12, 0)]
    assert eval(lines[4]) == []
    assert eval(lines[5]) == [("INFO", 12, 0)]  # the kept answer
    assert eval(lines[6]) == [("YIELD", 13, 1, "setup")]
    assert eval(lines[7]) == [("YIELD", 13, 1, "setup")]  # the kept answer; setup ran once
    assert eval(lines[8]) == []  # the out-of-order and the replayed frame: no answer
    assert eval(lines[9]) == [("YIELD", 13, 1, "setup")]
    assert eval(lines[10]) == [("NAK", 13, 0)]
    assert eval(lines[11])[0][:3] == ("YIELD", 14, 0x0B)  # setup's final status (YIELD type)
    assert eval(lines[12]) == [("INFO", 12, 2)]  # the replayed HELLO: stale, no restart
    assert eval(lines[13]) == [("YIELD", 15, 1, "loop")]  # the same session goes on
    assert lines[14] == "[1, 1, 2, 1]"  # dropped: replayed, out of order, stale HELLO, corrupt
