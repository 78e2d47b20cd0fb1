"""The serial link: the microapp runs on a board (firmware/board_main.py) behind any pyserial URL
(/dev/ttyACM0, a pty path, rfc2217://, socket://, loop://); what changed in both buffers travels
in frames (shared_buffers/serial_frame.py, docs/protocol.md, "The serial frame").

resume() sends a RESUME frame with the next sequence number and waits for the board's YIELD with
the same one: stop-and-wait. A lost or corrupt frame either way is resent (at once when a corrupt
frame or a NAK says so, else when the resend timer, which follows the measured round trip, runs
out); the board answers a repeat from its kept reply, so nothing is handled twice, and the host
takes only the answer to its request. No answer within the watchdog limit:
- the board said nothing at all: the app is hung. The board is reset over its REPL (Ctrl-C,
  Ctrl-B, Ctrl-D: main.py starts the firmware again) and AppHung is raised, so the controller
  flags the app and goes on;
- the board spoke, but nothing of it checked or our request never got through (NAKs): the line is
  bad. BadLine is raised (link.bad_line is set); the app is not taken for hung.
"""
from __future__ import annotations

import os
import re
import select
import time
from collections import deque
from typing import Any, Callable

import serial

from host import port_lock
from host.links import AppHung
from shared_buffers import protocol as P
from shared_buffers import serial_frame as F
from shared_buffers import serial_host as H
from shared_buffers.buffers import new_buffer

# How long one pyserial read may block when nothing arrives (ports without a file descriptor:
# socket://, rfc2217://, loop://): the granularity of the timers below for them.
_POLL_S = 0.005
RTO_MIN_S = 0.02    # the resend timer's floor: above a loaded host's scheduling jitter
RTO_MAX_S = 1.0     # and its cap (also of its doubling while the board stays silent)
RESET_TRIES = 3     # the REPL's reset sequence, tried again when no firmware answers
_CONSOLE_LINE = 200  # characters kept of one line the board prints


def _fileno(port: Any) -> int | None:
    """The file descriptor of a posix serial port or pty, None for other pyserial ports."""
    try:
        return port.fileno() if isinstance(port, serial.Serial) and os.name == "posix" else None
    except (AttributeError, OSError, serial.SerialException):
        return None


class BoardError(Exception):
    """The board does not answer as the firmware should, or the app did not load there."""


class BadLine(BoardError):
    """The board answers, but what comes over the line does not check (or what we send does not
    reach it): the serial line is bad. Not a fault of the app: it is not flagged did-reboot."""


class RoundTrip:
    """The resend timer: RFC 6298's estimator (SRTT, RTTVAR; RTO = SRTT + 4 RTTVAR) over the
    round trips of requests answered without a resend (Karn's rule), between a floor and a cap."""

    def __init__(self, initial_s: float, floor_s: float = RTO_MIN_S, cap_s: float = RTO_MAX_S) -> None:
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.floor_s, self.cap_s = floor_s, cap_s
        self.rto = min(max(initial_s, floor_s), cap_s)

    def sample(self, rtt: float) -> None:
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rto = min(max(self.srtt + 4 * self.rttvar, self.floor_s), self.cap_s)


class SerialLink:
    def __init__(self, port: str | Any, app: str = "", *, baud: int = 115200,
                 stack_depth: int = P.DEFAULT_STACK_DEPTH,
                 trace: Callable[[str, bytearray, bytearray], None] | None = None,
                 watchdog_ms: int = 2000, resend_ms: int = 50, hello_ms: int = 2000,
                 boot_ms: int = 10000, reset: bool = False,
                 on_console: Callable[[str], None] | None = None) -> None:
        """port: a pyserial URL or an open serial-like object (read, write, in_waiting, timeout).
        app: the app's path on the board ("" = the installed app). The link opens a session
        (HELLO) at once, after a soft reset of the board when `reset` (it sits at its REPL, e.g.
        after files were copied). watchdog_ms bounds every resume(), resend_ms is the resend
        timer before the first round trip is measured, hello_ms how long a HELLO waits before
        the board is reset, boot_ms how long a reset may take. on_console gets each line the
        board prints that is not a frame (REPL, tracebacks)."""
        if len(app.encode()) > F.MAX_APP_PATH:
            raise BoardError(f"the app's path on the board is over {F.MAX_APP_PATH} bytes: {app}")
        self._lock = None
        if isinstance(port, str):
            try:
                self._lock = port_lock.acquire(port)
            except port_lock.PortBusy as e:  # another process has the board: leave it alone
                raise BoardError(str(e)) from None
            try:
                self.serial = serial.serial_for_url(port, baudrate=baud, timeout=_POLL_S)
            except (serial.SerialException, ValueError) as e:
                port_lock.release(self._lock)
                raise BoardError(f"cannot open {port}: {e}") from None
        else:
            self.serial = port
            self.serial.timeout = _POLL_S
        self.port = port if isinstance(port, str) else getattr(port, "name", None) or repr(port)
        self.m2b = new_buffer()
        self.b2m = new_buffer()
        self.app = app
        self.stack_depth = stack_depth
        self.watchdog_s = watchdog_ms / 1000
        self.hello_s = hello_ms / 1000
        self.boot_s = boot_ms / 1000
        self.rtt = RoundTrip(resend_ms / 1000)
        self._trace = trace
        self._on_console = on_console
        self.console: deque[str] = deque(maxlen=50)  # the board's last non-frame lines
        self._partial = bytearray()  # the console line being printed
        self.stats = {"frames": 0, "resent": 0, "corrupt": 0, "naks": 0, "stale": 0, "resets": 0,
                      "reset_tries": 0, "bytes_out": 0, "bytes_in": 0}
        self.bad_line = False
        self.info: tuple | None = None  # the board's last INFO (status, depth, heaps, version, app, error, challenge)
        self._challenge: bytes | None = None  # the board's, from its last INFO
        self._encoder = H.Encoder()
        self._session = F.Session()
        self._raw = bytearray(F.MAX_CONTENT)
        self._splitter = H.Splitter()
        self._pieces: deque[bytes] = deque()
        self._fd = _fileno(self.serial)
        self._text: bytearray | None = None  # the traceback the board sent with its last YIELD
        self._session.seq = 1 + int.from_bytes(os.urandom(1), "little") % 255
        try:
            if reset:
                self.reset_board()
            self.restart()
        except BaseException:
            if isinstance(port, str):
                self.serial.close()
                port_lock.release(self._lock)
            raise

    # -- the Link interface -----------------------------------------------------------------
    def resume(self) -> None:
        m2b, b2m, session = self.m2b, self.b2m, self._session
        if self._trace is not None:
            self._trace("host->app", m2b, b2m)
        seq = session.advance()
        self._text = None
        frame = self._encoder.delta(session, seq, True, m2b, b2m)
        kind = self._exchange(frame, seq, self.watchdog_s)[1]  # a YIELD is in m2b and b2m
        if kind is None:
            back = self.reset_board()
            raise AppHung(f"the board did not yield within {self.watchdog_s * 1000:.0f} ms; "
                          + ("it was reset" if back else "it did not come back from a reset"))
        elif kind != F.YIELD:  # the boot banner, or a NAK saying it has no session
            raise AppHung("the board lost the app's session (it was reset)")
        if self._trace is not None:
            self._trace("app->host", m2b, b2m)

    def restart(self) -> None:
        """A fresh microapp on the board: HELLO (re)loads the app; setup() runs at the next resume.
        A board that does not answer is reset (RESET_TRIES times); BoardError when it still does not."""
        info = self._hello()
        if info is None:
            self.reset_board()
            info = self._hello()
            if info is None:
                raise BoardError(f"no microapp firmware answers on {self.port}"
                                 f"{self._console_tail()}")
        self.info = info
        status, depth = info[0], info[1]
        if status != F.INFO_READY:
            raise BoardError(f"{info[5]} does not load on the board: {info[6]}")
        self.stack_depth = depth

    def take_traceback(self) -> dict | None:
        """The traceback the board sent with the app's last exception ("traceback", and "at":
        the app's innermost file:line); then forgotten. The app runs from source text there,
        so its frames say "<string>": they are given the app's path on the board."""
        text, self._text = self._text, None
        if not text:
            return None
        app = self.app or "app.py"
        traceback = bytes(text).decode("utf-8", "replace").replace('File "<string>"', f'File "{app}"')
        lines = re.findall(r'File "([^"]*)", line (\d+)', traceback)
        own = [f"{f}:{n}" for f, n in lines if f == app] or [f"{f}:{n}" for f, n in lines]
        return {"traceback": traceback, **({"at": own[-1]} if own else {})}

    def close(self) -> None:
        self.serial.close()
        port_lock.release(self._lock)
        self._lock = None

    def __enter__(self) -> SerialLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the board --------------------------------------------------------------------------
    def reset_board(self) -> bool:
        """Soft-reset the board over its REPL so that main.py starts the firmware again; True
        when the firmware came back (its boot INFO, or an answer to a HELLO) within boot_ms. On a
        noisy line a keystroke or the prompt may be lost: the sequence is tried RESET_TRIES times."""
        self.stats["resets"] += 1
        deadline = time.monotonic() + self.boot_s
        for _ in range(RESET_TRIES):
            self.stats["reset_tries"] += 1
            write = self.serial.write
            write(b"\r\x03\x03")  # Ctrl-C: interrupt the app (or whatever runs)
            self._read_until((b">>> ", b">"), 1.0)  # the friendly or the raw REPL's prompt
            write(b"\x02")  # Ctrl-B: the friendly REPL (leaves the raw REPL if it was there)
            self._read_until((b">>> ",), 1.0)
            write(b"\x04")  # Ctrl-D at an empty prompt: soft reset; main.py runs
            try_until = min(deadline, time.monotonic() + max(1.0, self.boot_s / RESET_TRIES))
            if self._await_boot(try_until):
                return True
            if time.monotonic() >= deadline:
                break
        return False

    def _await_boot(self, until: float) -> bool:
        """Wait for the firmware's boot INFO; when frames come that do not check (a noisy line),
        ask with a HELLO whether the firmware serves."""
        garbled = False
        while True:
            got = self._next_frame(until)
            if got is None:
                return garbled and self._probe(until)
            n, kind = got
            if kind == F.INFO and self._raw[2] == 0:
                self._take_info(n)
                return True
            garbled = garbled or kind is None

    def _probe(self, until: float) -> bool:
        info = self._ask_challenge(max(0.0, until - time.monotonic()), bad_line=False)
        return info is not None

    def _ask_challenge(self, limit_s: float, bad_line: bool = True) -> tuple | None:
        """A HELLO with no body: the board answers INFO CHALLENGE with its current challenge and
        does nothing else. Short both ways, so it gets through a noisy line soonest."""
        seq = self._session.advance()
        n, kind = self._exchange(self._encoder.control(F.HELLO, seq), seq, limit_s,
                                 expect=(F.INFO,), bad_line=bad_line)
        return self._take_info(n) if kind == F.INFO else None

    def _hello(self) -> tuple | None:
        """Open a session: a HELLO with the board's current challenge (asked for first when the
        link has seen none; a stale one is answered with the current one, and the HELLO sent
        again) and a fresh nonce."""
        for _ in range(3):
            if self._challenge is None and self._ask_challenge(self.hello_s) is None:
                return None
            seq = self._session.advance()
            nonce = os.urandom(4)
            body = H.hello_body(self._challenge, nonce, self.stack_depth, self.app)
            n, kind = self._exchange(self._encoder.control(F.HELLO, seq, body), seq, self.hello_s,
                                     expect=(F.INFO,))
            if kind != F.INFO:
                return None
            info = self._take_info(n)
            if info[0] != F.INFO_CHALLENGE:
                self._session.start(nonce, seq)
                return info
        return None

    def _take_info(self, n: int) -> tuple:
        info = H.parse_info(F.control_body(self._raw, n))
        self._challenge = info[7]
        self.info = info
        return info

    # -- frames -----------------------------------------------------------------------------
    def _exchange(self, frame: bytes, seq: int, limit_s: float, expect: tuple = (F.YIELD,),
                  bad_line: bool = True) -> tuple[int, int | None]:
        """Send a request frame (frame[1:] first, the whole frame with its leading flag when
        resending) and wait for the board's checked answer to it (same seq): (content length,
        kind) with the content in self._raw; (0, None) when none came within limit_s; the boot
        banner (kind INFO) or a NAK from a board without a session end the wait too. Raises
        BadLine at the limit when frames came but none answered (bad_line)."""
        stats, rtt = self.stats, self.rtt
        self._send(frame[1:])
        stats["frames"] += 1
        start = now = time.monotonic()
        deadline = now + limit_s
        rto = rtt.rto
        resend_at = now + rto
        resent = False
        corrupt_before = stats["corrupt"]
        naks_before = stats["naks"]
        while True:
            got = self._next_frame(min(resend_at, deadline))
            now = time.monotonic()
            if got is None:
                if now >= deadline:
                    if bad_line and (stats["corrupt"] > corrupt_before or stats["naks"] > naks_before):
                        self.bad_line = True
                        raise BadLine(
                            f"the serial line to {self.port} is bad: in {limit_s * 1000:.0f} ms "
                            f"{stats['corrupt'] - corrupt_before} frames from the board did not "
                            f"check and it NAKed {stats['naks'] - naks_before} of ours; "
                            f"{stats['resent']} resends so far")
                    return 0, None
                # No answer yet: lost, or the board is still busy; resend less and less often.
                self._send(frame)
                stats["resent"] += 1
                resent = True
                rto = min(rto * 2, rtt.cap_s)
                resend_at = now + rto
                continue
            n, kind = got
            raw = self._raw
            rto = rtt.rto  # the board is talking: back to the measured timer
            resend_at = now + rto
            if kind is None:  # the answer may be what got corrupted: ask for it again
                self._send(frame)
                stats["resent"] += 1
                resent = True
            elif kind == F.NAK:
                stats["naks"] += 1
                if n > 4 and raw[3] == F.NAK_NO_SESSION and F.YIELD in expect:
                    return n, kind
                if raw[2] != seq:  # the board has not handled this request: it got it corrupt
                    self._send(frame)
                    stats["resent"] += 1
                    resent = True
            elif kind in expect and (raw[0] == seq if kind == F.YIELD else raw[2] == seq):
                if kind == F.YIELD:
                    try:
                        F.apply_delta(raw, n, self._session, self.m2b, self.b2m, False)
                    except F.FrameError:  # checked, yet not well formed: taken as corrupt
                        stats["corrupt"] += 1
                        self._send(frame)
                        stats["resent"] += 1
                        resent = True
                        continue
                if not resent:
                    rtt.sample(now - start)
                return n, kind
            elif kind == F.TEXT and raw[2] == seq:  # the app's traceback, before its YIELD
                if self._text is None:
                    self._text = bytearray()
                H.put_text(self._text, F.control_body(raw, n))
            elif kind == F.INFO and raw[2] == 0 and F.YIELD in expect:
                # A boot banner: the board was reset meanwhile, or an old one replayed by the
                # line. The request again tells: a reset board NAKs it (no session, above).
                stats["stale"] += 1
                self._send(frame)
                stats["resent"] += 1
                resent = True
            else:  # a repeat of an earlier answer, a banner while opening
                stats["stale"] += 1

    def _next_frame(self, until: float) -> tuple[int, int | None] | None:
        """The next frame from the board: (content length, kind) with its content in self._raw,
        kind None when it did not check; None at `until` (time.monotonic())."""
        pieces = self._pieces
        while True:
            while pieces:
                piece = pieces.popleft()
                n = H.unescape(piece, self._raw)
                if n >= 0:
                    try:
                        return n, F.check(self._raw, n, self._session, False)
                    except F.FrameError:
                        pass
                if _is_text(piece):
                    self._console_feed(piece)
                    continue
                got = self._text_then_frame(piece)
                if got is not None:
                    return got
                if len(piece) > 1:
                    self.stats["corrupt"] += 1
                    return 0, None
            if not self._fill(until):
                return None

    def _text_then_frame(self, piece: bytes) -> tuple[int, int] | None:
        """A piece that is console text and then a frame: what the app wrote to the board's
        stdout right before a frame sent without its leading flag. The text goes to the
        console; the frame's (content length, kind), or None when the piece is not that."""
        k = 0
        while k < len(piece) and piece[k] in _TEXT:
            k += 1
        i = piece.rfind(b"\n", 0, k)
        if i < 0:
            return None
        n = H.unescape(piece[i + 1:], self._raw)
        if n < 0:
            return None
        try:
            kind = F.check(self._raw, n, self._session, False)
        except F.FrameError:
            return None
        self._console_feed(piece[:i + 1])
        return n, kind

    def _send(self, data: bytes) -> None:
        self.serial.write(data)
        self.stats["bytes_out"] += len(data)

    def _read_until(self, endings: tuple[bytes, ...], limit_s: float) -> None:
        """Read (into the console) until the board prints one of `endings` or limit_s passes;
        what came before is not a frame (the REPL's output)."""
        deadline = time.monotonic() + limit_s
        self._pieces.clear()
        self._splitter.clear()
        while (data := self._read_some(deadline)):
            self._console_feed(data)
            if bytes(self._partial).endswith(endings):
                self._partial.clear()
                return

    def _fill(self, until: float) -> bool:
        """Take what the board sent (cut at flags into self._pieces), waiting at most until
        `until`; False when nothing came."""
        data = self._read_some(until)
        if data:
            pieces, spill = self._splitter.feed(data)
            self._pieces.extend(pieces)
            if spill:  # no flag in a frame's worth of bytes: console text, or garbage
                self._console_feed(spill)
        return bool(data)

    def _read_some(self, until: float) -> bytes:
        left = until - time.monotonic()
        if left <= 0:
            return b""
        if self._fd is not None:  # a posix port or pty: one select and one read, no polling
            if not select.select((self._fd,), (), (), left)[0]:
                return b""
            data = os.read(self._fd, 4096)
            if not data:
                raise BoardError(f"{self.port} was closed")
        else:  # reads that time out every _POLL_S
            ser = self.serial
            data = ser.read(ser.in_waiting or 1)
            while not data and time.monotonic() < until:
                data = ser.read(ser.in_waiting or 1)
        self.stats["bytes_in"] += len(data)
        return data

    def _console_feed(self, data: bytes) -> None:
        """Bytes the board printed that are not a frame: whole lines go to the console (each cut
        to _CONSOLE_LINE characters), the rest waits for its newline."""
        partial = self._partial
        partial += data
        while (i := partial.find(b"\n")) >= 0:
            self._console_line(bytes(partial[:i]))
            del partial[:i + 1]
        if len(partial) > _CONSOLE_LINE:
            self._console_line(bytes(partial))
            partial.clear()

    def _console_line(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip("\r\n")[:_CONSOLE_LINE]
        self.console.append(text)
        if self._on_console is not None:
            self._on_console(text)

    def _console_tail(self) -> str:
        lines = [line for line in self.console if line.strip()]
        if self._partial.strip():
            lines.append(self._partial.decode("utf-8", "replace"))
        lines = lines[-5:]
        return "; it printed:\n  " + "\n  ".join(lines) if lines else " (it printed nothing)"


_TEXT = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}


def _is_text(piece: bytes) -> bool:
    """What the board's REPL prints (ASCII) rather than a frame (whose bytes are mostly >= 0x80)."""
    return all(b in _TEXT for b in piece)
