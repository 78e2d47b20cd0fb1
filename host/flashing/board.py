"""A connection to a MicroPython board's raw REPL through mpremote's SerialTransport.

connect() opens the port, tells "no such port", "not a MicroPython board" and "raw REPL refused"
apart (one short probe instead of mpremote's silent 10-second wait), and soft-resets the board
into its raw REPL for a clean heap, as mpremote does. exec() and eval() run code there; mpremote
uses raw-paste when the board offers it and the plain raw REPL otherwise.
restart_firmware() leaves the raw REPL with a soft reset, so main.py starts the firmware, and
returns the firmware's boot INFO frame (shared_buffers/serial_frame.py): the firmware answering.
Right after each soft reset into the raw REPL the board's heap is measured (fresh_heap), before
any tool's code runs there.
"""
from __future__ import annotations

import ast
import os
import re
import time
from typing import Any

import serial
from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from host import port_lock
from host.flashing import FlashError
from shared_buffers import serial_frame as F
from shared_buffers import serial_host as H

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
_IO_TIMEOUT_S = 5.0   # one serial read inside mpremote: a board that stops answering is an error
_PROBE_S = 1.0        # how long a board may take to show a prompt after Ctrl-C
_RAW_S = 2.0          # ... and its raw REPL banner after Ctrl-A
_PROMPT_S = 2.0       # the friendly prompt after Ctrl-B
BOOT_S = 10.0         # main.py's firmware announcing itself after a soft reset
# What a MicroPython REPL prints on Ctrl-C, whatever state it was in.
_REPL_SIGNS = (b">>>", b"MicroPython", b"KeyboardInterrupt", b"Traceback", b"raw REPL")


# (free, in use) after a collection, and whether the board is 64-bit: only builtin names, so
# that the measurement interns nothing on the board's heap.
_FRESH_HEAP = ("(__import__('gc').collect(), __import__('gc').mem_free(), "
               "__import__('gc').mem_alloc(), __import__('sys').maxsize > 1 << 32)[1:]")


# The last line of a MicroPython traceback: "MemoryError: memory allocation failed, ...".
_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)(: |$)")


class BoardRaised(FlashError):
    """Code run on the board raised (its last traceback line says what)."""


class NoSpace(FlashError):
    """The board's filesystem is full."""


class Board:
    """The raw REPL of one board (from connect()); close() releases the port."""

    def __init__(self, transport: SerialTransport, port: str, lock: str | None = None) -> None:
        self.transport = transport
        self.port = port
        self._lock = lock  # host.port_lock's key, released by close()
        self.console: list[str] = []  # what the board printed around the last restart
        # (free, in use, 64-bit) at the raw REPL right after the last soft reset: connect() and
        # reenter_raw_repl() measure it before anything else runs there
        self.fresh_heap: tuple[int, int, bool] = (0, 0, False)

    # -- running code ---------------------------------------------------------------------
    def exec(self, code: str) -> bytes:
        """Run code in the raw REPL; its stdout. A board-side exception is a FlashError."""
        try:
            return self.transport.exec(code)
        except TransportExecError as e:
            text = e.error_output.strip()
            last = text.splitlines()[-1] if text else "an error"
            if "ENOSPC" in text:
                raise NoSpace(f"not enough space on the board's filesystem ({last})") from None
            raise BoardRaised(f"the board raised {last}") from None
        except (TransportError, serial.SerialException, OSError) as e:
            raise FlashError(f"lost the raw REPL of {self.port}: {e}") from None

    def eval(self, expression: str) -> Any:
        """The value of a Python literal expression evaluated on the board."""
        return self.literal(self.exec("print(repr(%s))" % expression))

    @staticmethod
    def literal(out: bytes) -> Any:
        """The Python literal the board printed."""
        try:
            return ast.literal_eval(out.decode("utf-8", "replace").strip())
        except (ValueError, SyntaxError):
            raise FlashError(f"the board answered {out[:60]!r} where a value was expected") from None

    # -- leaving ---------------------------------------------------------------------------
    def restart_firmware(self, limit_s: float = BOOT_S) -> tuple | None:
        """Soft-reset from the friendly REPL (main.py runs) and wait for the firmware's boot
        INFO: (status, stack depth, heap at boot, heap now, version, app, error), or None when
        none came within limit_s (what the board printed is in self.console)."""
        ser = self.transport.serial
        self.console = []
        try:
            self.transport.exit_raw_repl()
            _read_for(ser, _PROMPT_S, (b">>> ",))
            ser.write(b"\x04")  # Ctrl-D at an empty prompt: soft reset, main.py starts
            deadline = time.monotonic() + limit_s
            splitter, raw = H.Splitter(), bytearray(F.MAX_CONTENT)
            while time.monotonic() < deadline:
                pieces, _ = splitter.feed(_read_some(ser))
                for piece in pieces:
                    n = H.unescape(piece, raw)
                    try:
                        kind = F.check(raw, n, None, False) if n >= 0 else None
                    except F.FrameError:
                        kind = None
                    if kind == F.INFO and raw[2] == 0:
                        return H.parse_info(F.control_body(raw, n))
                    self.console += piece.decode("utf-8", "replace").splitlines()
            self.console += splitter.rest().decode("utf-8", "replace").splitlines()
        except (serial.SerialException, OSError) as e:
            raise FlashError(f"lost {self.port} while the board restarted: {e}") from None
        return None

    def reenter_raw_repl(self) -> None:
        """Back into a freshly soft-reset raw REPL (e.g. after the firmware ran): what the
        firmware sent last (frames nobody reads any more) is dropped first."""
        try:
            _read_for(self.transport.serial, 0.1, ())  # let what is on its way arrive
            self.transport.serial.reset_input_buffer()
        except (serial.SerialException, OSError) as e:
            raise FlashError(f"lost {self.port}: {e}") from None
        _enter_raw_repl(self.transport, self.port)
        self._measure_fresh_heap()

    def _measure_fresh_heap(self) -> None:
        """The heap at the raw REPL of a soft reset, first thing (host/flashing/app_ram.py)."""
        self.fresh_heap = tuple(self.eval(_FRESH_HEAP))

    def console_tail(self) -> str:
        """What the board printed, for an error message: the exception that stopped main.py
        (with where it was raised) when it printed one, else its last lines."""
        lines = [line.rstrip() for line in self.console if line.strip()]
        raised = [i for i, line in enumerate(lines) if _EXCEPTION.match(line)]
        if raised:
            at = raised[-1]
            where = lines[at - 1].strip() if at and lines[at - 1].lstrip().startswith("File ") else ""
            hint = (" (the firmware does not fit this board's heap from /flash: tools/flash.py "
                    "firmware --romfs runs it from flash, docs/flashing.md)"
                    if lines[at].startswith("MemoryError") else "")
            return f"; it raised {lines[at]}" + (f" ({where})" if where else "") + hint
        return "; it printed: " + " | ".join(lines[-3:]) if lines else "; it printed nothing"

    def close(self) -> None:
        try:
            self.transport.close()
        except (OSError, serial.SerialException):
            pass
        port_lock.release(self._lock)
        self._lock = None

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(port: str, baud: int = 115200) -> Board:
    """Open `port`, put the board in a freshly soft-reset raw REPL and measure its heap there."""
    if "://" not in port and not os.path.exists(port):
        raise FlashError(f"no such port: {port} (is the board plugged in? "
                         f"`python -m serial.tools.list_ports` lists the ports)")
    try:
        lock = port_lock.acquire(port)
    except port_lock.PortBusy as e:
        raise FlashError(str(e)) from None
    try:
        transport = SerialTransport(port, baudrate=baud, timeout=_IO_TIMEOUT_S)
    except (TransportError, serial.SerialException, OSError, ValueError) as e:
        port_lock.release(lock)
        reason = str(e)
        if "lock" in reason:
            raise FlashError(f"{port} is busy: another program has it open") from None
        raise FlashError(f"cannot open {port}: {reason}") from None
    board = Board(transport, port, lock)
    try:
        _enter_raw_repl(transport, port)
        board._measure_fresh_heap()
    except BaseException:
        board.close()
        raise
    return board


def _enter_raw_repl(transport: SerialTransport, port: str) -> None:
    ser = transport.serial
    try:
        ser.write(b"\r\x03\x03")  # Ctrl-C: stop whatever runs (the firmware, an app)
        seen = _read_for(ser, _PROBE_S, (b">>> ", b"\r\n>"))
        ser.write(b"\r\x01")  # Ctrl-A: the raw REPL
        seen += _read_for(ser, _RAW_S, (RAW_BANNER + b">",))
        if not seen.endswith(RAW_BANNER + b">"):
            if any(sign in seen for sign in _REPL_SIGNS):
                raise FlashError(f"{port}: the board's REPL refused the raw REPL (Ctrl-A); "
                                 f"is a program that ignores Ctrl-C running? Reset the board")
            raise FlashError(f"{port} is not a MicroPython board: no REPL answered Ctrl-C"
                             + (f" (it sent {seen[-40:]!r})" if seen else " (it sent nothing)"))
        ser.write(b"\x04")  # Ctrl-D in the raw REPL: soft reset, back into the raw REPL
        seen = _read_for(ser, BOOT_S, (b"soft reboot\r\n",))
        seen += _read_for(ser, BOOT_S, (RAW_BANNER,))
        if not seen.endswith(RAW_BANNER):
            raise FlashError(f"{port}: the board did not come back to its raw REPL after a soft "
                             f"reset (boot.py hangs?)")
    except (serial.SerialException, OSError) as e:
        raise FlashError(f"lost {port}: {e}") from None
    transport.in_raw_repl = True  # mpremote's own state: exec() reads the '>' prompt next


def _read_some(ser: serial.Serial) -> bytes:
    timeout = ser.timeout
    ser.timeout = 0.02
    try:
        return ser.read(ser.in_waiting or 1)
    finally:
        ser.timeout = timeout


def _read_for(ser: serial.Serial, limit_s: float, endings: tuple[bytes, ...]) -> bytes:
    """What the board sends within limit_s, stopping right after one of `endings` (byte by byte,
    so that nothing after it is consumed)."""
    deadline = time.monotonic() + limit_s
    data = bytearray()
    timeout = ser.timeout
    ser.timeout = 0.02
    try:
        while time.monotonic() < deadline:
            data += ser.read(1)
            if any(data.endswith(e) for e in endings):
                break
    finally:
        ser.timeout = timeout
    return bytes(data)
