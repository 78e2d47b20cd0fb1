"""The serial link: the microapp runs on a board (firmware/board_main.py) behind any pyserial URL
(/dev/ttyACM0, a pty path, rfc2217://, socket://, loop://); both buffers travel in frames
(shared_buffers/serial_frame.py, docs/protocol.md, "The serial frame").

resume() sends the host's buffers in a RESUME frame and waits for the board's YIELD with the
same sequence number: stop-and-wait. A lost or corrupt frame either way is resent (at once when a
corrupt line or a NAK says so, else after a timeout that doubles while the board is busy); the
board answers a repeated request from its kept reply, so nothing is handled twice. No answer
within the watchdog limit: the board is reset over its REPL (Ctrl-C, Ctrl-B, Ctrl-D: main.py
starts the firmware again) and AppHung is raised, so the controller flags the app and goes on.
"""
from __future__ import annotations

import os
import random
import select
import time
from collections import deque
from typing import Any, Callable

import serial

from host.links import AppHung
from shared_buffers import protocol as P
from shared_buffers import serial_frame as F
from shared_buffers.buffers import new_buffer

# How long one pyserial read may block when nothing arrives (ports without a file descriptor:
# socket://, rfc2217://, loop://): the granularity of the timers below for them.
_POLL_S = 0.005
_BOARD_KINDS = (F.YIELD, F.INFO, F.NAK)  # anything else on the line is the REPL echoing us


def _fileno(port: Any) -> int | None:
    """The file descriptor of a posix serial port or pty, None for other pyserial ports."""
    try:
        return port.fileno() if isinstance(port, serial.Serial) and os.name == "posix" else None
    except (AttributeError, OSError, serial.SerialException):
        return None


class BoardError(Exception):
    """The board does not answer as the firmware should, or the app did not load there."""


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
        after files were copied). watchdog_ms bounds every resume(), resend_ms is the first
        resend delay, hello_ms how long a HELLO waits before the board is reset, boot_ms how
        long a reset may take. on_console gets each line the board prints that is not a frame
        (REPL, tracebacks)."""
        if len(app.encode()) > F.MAX_APP_PATH:
            raise BoardError(f"the app's path on the board is over {F.MAX_APP_PATH} bytes: {app}")
        if isinstance(port, str):
            try:
                self.serial = serial.serial_for_url(port, baudrate=baud, timeout=_POLL_S)
            except (serial.SerialException, ValueError) as e:
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
        self.resend_s = resend_ms / 1000
        self.hello_s = hello_ms / 1000
        self.boot_s = boot_ms / 1000
        self._trace = trace
        self._on_console = on_console
        self.console: deque[str] = deque(maxlen=50)  # the board's last non-frame lines
        self.stats = {"frames": 0, "resent": 0, "corrupt": 0, "naks": 0, "stale": 0, "resets": 0}
        self.info: tuple | None = None  # the board's last INFO (status, depth, heaps, version, app, error)
        self._encoder = F.Encoder()
        self._rx = bytearray()
        self._fd = _fileno(self.serial)
        self._seq = random.randrange(255)
        try:
            if reset:
                self.reset_board()
            self.restart()
        except BaseException:
            if isinstance(port, str):
                self.serial.close()
            raise

    # -- the Link interface -----------------------------------------------------------------
    def resume(self) -> None:
        m2b, b2m = self.m2b, self.b2m
        if self._trace is not None:
            self._trace("host->app", m2b, b2m)
        seq = self._next_seq()
        raw = self._exchange(self._encoder.buffers(seq, F.RESUME, m2b, b2m), seq, self.watchdog_s)
        if raw is None:
            back = self.reset_board()
            raise AppHung(f"the board did not yield within {self.watchdog_s * 1000:.0f} ms; "
                          + ("it was reset" if back else "it did not come back from a reset"))
        if raw[1] != F.YIELD:  # INFO: the board has no session (it was reset meanwhile)
            self.info = F.parse_info(F.body(raw))
            raise AppHung(f"the board lost the app's session (it was reset): {self.info[6] or 'no session'}")
        if not F.unpack_buffers(raw, m2b, b2m):
            raise AppHung("the board's YIELD does not match its buffers' lengths")
        if self._trace is not None:
            self._trace("app->host", m2b, b2m)

    def restart(self) -> None:
        """A fresh microapp on the board: HELLO (re)loads the app; setup() runs at the next resume.
        A board that does not answer is reset once; BoardError when it still does not."""
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

    def close(self) -> None:
        self.serial.close()

    def __enter__(self) -> SerialLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the board --------------------------------------------------------------------------
    def reset_board(self) -> bool:
        """Soft-reset the board over its REPL so that main.py starts the firmware again; True
        when the firmware's boot INFO came within boot_ms."""
        self.stats["resets"] += 1
        write = self.serial.write
        write(b"\r\x03\x03")  # Ctrl-C: interrupt the app (or whatever runs)
        self._read_until((b">>> ", b">"), 1.0)  # the friendly or the raw REPL's prompt
        write(b"\x02")  # Ctrl-B: the friendly REPL (leaves the raw REPL if it was there)
        self._read_until((b">>> ",), 1.0)
        self._rx.clear()
        write(b"\x04")  # Ctrl-D at an empty prompt: soft reset; main.py runs
        deadline = time.monotonic() + self.boot_s
        while True:
            line = self._read_line(deadline)
            if line is None:
                return False
            raw = self._decode(line)
            if raw is not None and raw[1] == F.INFO and raw[0] == 0:
                self.info = F.parse_info(F.body(raw))
                return True

    def _hello(self) -> tuple | None:
        seq = self._next_seq()
        body = F.hello_body(os.urandom(4), self.stack_depth, self.app)
        raw = self._exchange(self._encoder.frame(seq, F.HELLO, body), seq, self.hello_s)
        if raw is None or raw[1] != F.INFO:
            return None
        return F.parse_info(F.body(raw))

    # -- frames -----------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = self._seq % 255 + 1  # 1..255: the board's boot INFO is seq 0
        return self._seq

    def _exchange(self, frame: bytes, seq: int, limit_s: float) -> bytes | None:
        """Send a request frame and return the board's checked answer to it (same seq), resending
        as needed; None when none came within limit_s."""
        write, stats = self.serial.write, self.stats
        write(frame)
        stats["frames"] += 1
        now = time.monotonic()
        deadline = now + limit_s
        interval = self.resend_s
        resend_at = now + interval
        while True:
            line = self._read_line(min(resend_at, deadline))
            if line is None:
                now = time.monotonic()
                if now >= deadline:
                    return None
                # No answer yet: lost, or the board is still busy; resend less and less often.
                write(frame)
                stats["resent"] += 1
                interval = min(interval * 2, 1.0)
                resend_at = now + interval
                continue
            try:
                raw = F.decode(line)
            except F.FrameError:
                stats["corrupt"] += 1
                write(frame)  # the answer may be what got corrupted: ask for it again
                stats["resent"] += 1
                continue
            if raw is None:
                self._console_line(line)
            elif raw[1] == F.NAK:
                stats["naks"] += 1
                if raw[0] != seq:  # the board has not handled this request: it got it corrupt
                    write(frame)
                    stats["resent"] += 1
            elif raw[0] == seq and raw[1] in _BOARD_KINDS:
                return raw
            else:  # a repeat of an earlier answer, our own echo from a REPL, a boot banner
                stats["stale"] += 1

    def _decode(self, line: bytes) -> bytes | None:
        try:
            raw = F.decode(line)
        except F.FrameError:
            self.stats["corrupt"] += 1
            return None
        if raw is None:
            self._console_line(line)
        return raw

    def _read_line(self, until: float) -> bytes | None:
        """The next line from the board, or None at `until` (time.monotonic())."""
        rx = self._rx
        while True:
            i = rx.find(b"\n")
            if i >= 0:
                line = bytes(rx[:i + 1])
                del rx[:i + 1]
                return line
            if not self._fill(until):
                return None

    def _read_until(self, endings: tuple[bytes, ...], limit_s: float) -> None:
        """Read (into the console) until the board prints one of `endings` or limit_s passes."""
        deadline = time.monotonic() + limit_s
        rx = self._rx
        while not rx.endswith(endings) and self._fill(deadline):
            while (i := rx.find(b"\n")) >= 0:
                self._console_line(bytes(rx[:i + 1]))
                del rx[:i + 1]

    def _fill(self, until: float) -> bool:
        """Append what the board sent to the receive buffer, waiting at most until `until`;
        False when nothing came."""
        left = until - time.monotonic()
        if left <= 0:
            return False
        if self._fd is not None:  # a posix port or pty: one select and one read, no polling
            if not select.select((self._fd,), (), (), left)[0]:
                return False
            data = os.read(self._fd, 4096)
            if not data:
                raise BoardError(f"{self.port} was closed")
        else:
            ser = self.serial
            data = ser.read(ser.in_waiting or 1)
        self._rx += data
        return bool(data)

    def _console_line(self, line: bytes) -> None:
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        self.console.append(text)
        if self._on_console is not None:
            self._on_console(text)

    def _console_tail(self) -> str:
        lines = [line for line in self.console if line.strip()][-5:]
        return "; it printed:\n  " + "\n  ".join(lines) if lines else " (it printed nothing)"
