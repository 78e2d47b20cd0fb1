"""The virtual board: a real MicroPython VM behind a pseudo-terminal, behaving like a board.

Layout::

    host (pyserial, mpremote)            supervisor (this module)              VM (unix_vm.py)
    /dev/pts/N  <== pty A ==>  master A -- supervisor thread --> master B == pty B ==> stdin
                                        <-- relay thread ------- master B <== pty B == stdout/stderr

* pty A is the board's serial port; its slave path is :attr:`VirtualBoard.port`.
* Every VM run gets a fresh pty B and a fresh VM process (so a fresh heap). The
  MicroPython program it runs (repl_rom.py) is the board's REPL: friendly REPL, raw REPL,
  raw-paste, boot.py/main.py.
* The supervisor thread forwards input unchanged. The only byte it looks at is 0x03 (Ctrl-C):
  while user code runs (the VM said so over its ``__vboard__`` host channel) a 0x03 stops the
  VM (SIGKILL) and a new VM is started that prints ``KeyboardInterrupt``
  and continues with the REPL the board was in. At the REPL, 0x03 goes to the VM like any
  other byte.
* Soft reset (Ctrl-D at an empty REPL line, ``sys.exit()``, ``machine.soft_reset()``): the VM
  exits with a code saying which REPL to come back to; a new VM prints "MPY: soft reboot",
  runs boot.py (and main.py when in the friendly REPL) and gives that REPL.
"""

from __future__ import annotations

import collections
import logging
import os
import pty
import select
import shutil
import signal
import tempfile
import threading
import time
import tty
from typing import Any, Callable

from . import repl_rom
from .profiles import DEFAULT_PROFILE, PROFILES, profile as board_profile
from .unix_vm import VmEngine, VmInstance

ROMFS_FILE = repl_rom.ROMFS_FILE  # the ROMFS partition, in the flash directory
ROM_BLOCK = repl_rom.ROM_BLOCK

_logger = logging.getLogger(__name__)

DEFAULT_RAW_PASTE_WINDOW = 128  # MicroPython's default: half of a 256-byte stdin buffer
MACHINE = "virtual board (MicroPython unix port)"
KBD_INTERRUPT = "KeyboardInterrupt: \r\n"
MIN_HEAP_SIZE = 8 * 1024
# The VM's heap is the board's plus room for the board's own REPL program (compiled at every
# start, about 40 KB live on this 64-bit build, more while it compiles); ballast takes what user
# code must not have. A ROMFS image's copy comes on top (_romfs_image_size).
ROM_ROOM = 128 * 1024
# What a bare MicroPython of this build holds after start-up (sys.path, module table...):
# user code at the prompt has heap_size minus this, as on a board after boot.
BARE_ALLOC = 1536
# This VM is a 64-bit build; the nRF52 is 32-bit. Objects made of pointers (dicts, lists,
# functions, the GC's 32-byte blocks against 16-byte ones) take more room here: the firmware
# in ROMFS takes 29 984 bytes on this build and 19 232 on the 32-bit WASI build (1.56x;
# `python benchmarks/flash_bench.py heap`). A profile's
# heap is multiplied by this so that what fits on the board fits here (a large bytes object,
# which is the same size on both, gets up to this much more room than on the board).
WORD_SCALE = 1.5
MAX_PENDING_INPUT = 256 * 1024  # bytes kept for a VM that does not read its stdin
# With a baud rate, the supervisor stops reading the port past this much line backlog, so the
# host's writes block as on a UART bridge instead of piling up.
PACED_BACKLOG = 4096
# The last part of a wait on a paced line that is spun rather than slept (LinePacer): what a
# sleep overshoots by on a loaded host, about a byte and a half at 115 200 baud.
SPIN_S = 0.00015

# How long the supervisor waits for a VM to stop before leaving its thread behind.
_KILL_WAIT_S = 0.25
_KILL_WAIT_BLOCKED_S = 0.5
_RELAY_JOIN_S = 0.5
_STOP_JOIN_S = 3.0

LogSink = Callable[[str], Any] | logging.Logger | None


class LinePacer:
    """Time on a UART line at ``baud``: 10 bits a byte (start bit, 8 data bits, stop bit).

    One direction of the line. ``ready(n)`` says how many of ``n`` queued bytes have finished
    their line time by now; ``sent(k)`` takes k of them off the line. The line is idle (no
    credit is saved up) whenever nothing is queued.

    Waits are timed as ``wait_until_ready`` does: a sleep wakes 50-150 us late (the kernel's
    timer slack and the thread's wake-up), more than a byte's line time at 115 200 baud is
    worth; so the sleep ends SPIN_S early and the rest is spun. Bytes are never let through
    before their time: the accounting below counts what is sent, when, and how late.
    """

    def __init__(self, baud: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Any] = time.sleep) -> None:
        if baud <= 0:
            raise ValueError("baud must be positive")
        self.byte_s = 10.0 / baud
        self._start = 0.0  # when the first queued byte began to travel
        self._clock, self._sleep = clock, sleep
        # The accounting: bytes let through, in how many writes, the line time they took
        # (byte_s each), how many were let through before their time (never: a test checks it),
        # and how late in all.
        self.bytes = 0
        self.writes = 0
        self.line_s = 0.0
        self.early = 0
        self.late_s = 0.0

    def queued(self, now: float, was_empty: bool) -> None:
        if was_empty:
            self._start = max(self._start, now)

    def ready(self, now: float, n: int) -> int:
        return max(0, min(n, int((now - self._start) / self.byte_s)))

    def sent(self, k: int, now: float | None = None) -> None:
        """k bytes taken off the line; now: when they were let through (for the accounting)."""
        if now is not None and k:
            due = self._start + k * self.byte_s
            if self.ready(now, k) < k:
                self.early += k
            self.late_s += max(0.0, now - due)
        self._start += k * self.byte_s
        self.bytes += k
        self.writes += 1
        self.line_s += k * self.byte_s

    def wait_s(self, now: float, n: int) -> float:
        """Seconds until the next ``n`` bytes (at least one) have finished their line time."""
        return max(0.0, self._start + max(1, n) * self.byte_s - now)

    def coarse_wait_s(self, now: float, n: int) -> float:
        """How long to sleep (or block in select) before the next ``n`` bytes are ready, leaving
        SPIN_S to spin_until_ready(); 0: spin now."""
        return max(0.0, self.wait_s(now, n) - SPIN_S)

    def spin_until_ready(self, n: int) -> float:
        """Return once the next ``n`` bytes (at least one) have finished their line time (spin:
        called within SPIN_S of it); the time then."""
        clock, n = self._clock, max(1, n)
        now = clock()
        while self.ready(now, n) < n:
            now = clock()
        return now

    def wait_until_ready(self, n: int) -> float:
        """Sleep, then spin, until the next ``n`` bytes have finished their line time; the time
        then (a few microseconds after it, not the 50-150 us a bare sleep overshoots by)."""
        coarse = self.coarse_wait_s(self._clock(), n)
        if coarse > 0:
            self._sleep(coarse)
        return self.spin_until_ready(n)

    def chunk(self) -> int:
        """Bytes sent per step: about 2 ms of line time (a UART's FIFO-sized burst)."""
        return max(1, int(0.002 / self.byte_s))


class _Session:
    """Supervisor-side state of one VM run."""

    def __init__(self, number: int, mode: str, boot: str) -> None:
        self.number = number
        self.boot = boot
        self.vm: VmInstance  # set right after construction
        self.running = False  # user code runs: a 0x03 stops the VM
        self.ctx = "boot-" + mode  # what runs: boot-friendly, boot-raw, friendly, raw
        self.ctrlc_forwarded = 0  # 0x03 bytes forwarded to the VM's REPL
        self.reached_repl = False
        self.discard = False  # drop the VM's output (it is being abandoned)
        self.exit_handled = False
        self.relay_wake_r, self.relay_wake_w = os.pipe()
        self.relay: threading.Thread | None = None
        self.released = False
        self.release_lock = threading.Lock()


class VirtualBoard:
    """A MicroPython board on a pty, with its filesystem in a host directory.

    >>> with VirtualBoard() as board:          # doctest: +SKIP
    ...     serial.Serial(board.port)          # talk to it like to hardware
    """

    def __init__(
        self,
        flash_dir: str | None = None,
        *,
        raw_paste_window: int = DEFAULT_RAW_PASTE_WINDOW,
        heap_size: int | None = None,
        baud: int | None = None,
        romfs_size: int | None = None,
        log: LogSink = None,
    ) -> None:
        """flash_dir: host directory that is the board's /flash (created if missing); a
        temporary directory, removed by stop(), when None.
        raw_paste_window: flow-control window announced in raw-paste mode (MicroPython's
        default is 128; a PCA10040 with its 64-byte REPL buffer would say 32).
        heap_size: the board's MicroPython heap in bytes (at least 8 KiB): user code has
        heap_size - BARE_ALLOC free at the prompt and gets MemoryError past it; the collector
        is on. The unix port's default heap (several MiB) when None.
        baud: UART baud rate the port is paced at, both ways (10 bits a byte: 115200 baud is
        11 520 bytes/s); None: as fast as the pty goes.
        romfs_size: the size of the board's ROMFS partition (the file ROMFS_FILE in the flash
        directory, hidden from the board's listings; mounted at /rom, outside the user's heap,
        when it holds an image); None: no partition.
        log: a logging.Logger or a callable taking one str; the module logger when None.
        """
        if not 1 <= raw_paste_window <= 0xFFFF:
            raise ValueError("raw_paste_window must be 1..65535")
        if heap_size is not None and heap_size < MIN_HEAP_SIZE:
            raise ValueError(f"heap_size must be at least {MIN_HEAP_SIZE}")
        self.raw_paste_window = raw_paste_window
        self.heap_size = heap_size
        if baud is not None and baud <= 0:
            raise ValueError("baud must be positive")
        self.baud = baud
        if romfs_size is not None and (romfs_size <= 0 or romfs_size % ROM_BLOCK):
            raise ValueError(f"romfs_size must be a positive multiple of {ROM_BLOCK}")
        self.romfs_size = romfs_size
        # The line's two directions (their accounting: LinePacer.bytes, early, late_s); the
        # output's is shared by the VM runs, one after the other.
        self.in_pacer = LinePacer(baud) if baud else None
        self.out_pacer = LinePacer(baud) if baud else None
        self._own_flash = flash_dir is None
        self.flash_dir: str = os.path.abspath(flash_dir) if flash_dir is not None else ""
        self.port: str = ""
        self._log_sink = log
        self._started = False
        self._closing = False
        self._stopped = False
        self._engine: VmEngine | None = None
        self._session: _Session | None = None
        self._zombies: list[_Session] = []
        self._sessions = 0
        self._state_lock = threading.Lock()
        self._requests: collections.deque[tuple[str, threading.Event | None]] = collections.deque()
        self._pending = bytearray()
        self._dropped_input = 0
        self._thread: threading.Thread | None = None
        self._master_a = self._slave_a = -1
        self._wake_r = self._wake_w = -1
        self._wake_lock = threading.Lock()
        # The nrf's retained registers (POWER.GPREGRET, GPREGRET2: machine.mem_backup(0), (1)):
        # kept over every reset of the board (its VMs' restarts), 0 at power-on (this object).
        self.retained = bytearray(2)

    @classmethod
    def for_profile(
        cls, name: str = DEFAULT_PROFILE, flash_dir: str | None = None, *, paced: bool = True,
        log: LogSink = None,
    ) -> VirtualBoard:
        """A board with a real board's limits (host/board/profiles.py): its heap (times
        WORD_SCALE, for this 64-bit build), its raw-paste window and, when `paced`, its baud
        rate. ValueError for an unknown profile."""
        p = board_profile(name)
        return cls(
            flash_dir, heap_size=profile_heap(p.name), raw_paste_window=p.raw_paste_window,
            baud=p.baud if paced else None, romfs_size=p.romfs, log=log,
        )

    # -- public API -------------------------------------------------------------------------
    def start(self) -> str:
        """Start the board (as after power-on: boot.py, main.py, REPL); returns the port."""
        if self._started:
            raise RuntimeError("the virtual board was already started")
        self._started = True
        if self._own_flash:
            self.flash_dir = tempfile.mkdtemp(prefix="microapp-flash-")
        else:
            os.makedirs(self.flash_dir, exist_ok=True)
        try:
            self._engine = VmEngine()
            self._master_a, self._slave_a = pty.openpty()
            tty.setraw(self._slave_a)
            os.set_blocking(self._master_a, False)
            self.port = os.ttyname(self._slave_a)
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_r, False)
            os.set_blocking(self._wake_w, False)
            self._session = self._spawn(mode="friendly", boot="hard")
        except BaseException:
            self._close_fds()
            self._remove_own_flash()
            raise
        self._thread = threading.Thread(
            target=self._supervise, name="virtual-board-supervisor", daemon=True
        )
        self._thread.start()
        self._log(f"virtual board on {self.port} (flash: {self.flash_dir})")
        return self.port

    def hard_reset(self) -> None:
        """As pressing the reset button: a new VM runs boot.py and main.py, friendly REPL."""
        if not self._started or self._stopped:
            raise RuntimeError("the virtual board is not running")
        done = threading.Event()
        self._request("hard_reset", done)
        done.wait(_STOP_JOIN_S)

    def stop(self) -> None:
        """Stop the VM and the supervisor and close the port. Always returns promptly."""
        if not self._started or self._stopped:
            return
        self._stopped = True
        self._request("stop", None)
        if self._thread is not None:
            self._thread.join(_STOP_JOIN_S)
            if self._thread.is_alive():
                self._log("supervisor did not stop in time; leaving it behind", warning=True)
        self._closing = True
        self._close_fds()
        self._remove_own_flash()

    close = stop

    def __enter__(self) -> VirtualBoard:
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"VirtualBoard(port={self.port!r}, flash_dir={self.flash_dir!r})"

    # -- supervisor thread --------------------------------------------------------------
    def _supervise(self) -> None:
        try:
            while True:
                session = self._session
                assert session is not None
                timeout = 0.5 if self._zombies else None
                wlist = [session.vm.master_fd] if self._pending else []
                rlist = [self._wake_r, self._master_a]
                pacer = self.in_pacer
                if pacer is not None and self._pending:
                    now = time.monotonic()
                    want = min(len(self._pending), pacer.chunk())
                    if pacer.ready(now, want) < want:
                        wait = pacer.coarse_wait_s(now, want)
                        if wait > 0:  # block until SPIN_S before the bytes are due, then spin
                            wlist = []
                            timeout = wait if timeout is None else min(timeout, wait)
                        else:
                            pacer.spin_until_ready(want)
                    if len(self._pending) >= PACED_BACKLOG:
                        rlist = [self._wake_r]
                try:
                    readable, writable, _ = select.select(rlist, wlist, [], timeout)
                except InterruptedError:
                    continue
                if self._wake_r in readable:
                    try:
                        os.read(self._wake_r, 4096)
                    except BlockingIOError:
                        pass
                if self._handle_requests():
                    break
                self._check_vm_exit()
                if writable and self._pending:
                    self._flush_pending()
                if self._master_a in readable:
                    try:
                        data = os.read(self._master_a, 65536)
                    except BlockingIOError:
                        data = b""
                    except OSError as exc:  # not expected: the supervisor holds the slave open
                        self._log(f"reading the port failed: {exc}", warning=True)
                        time.sleep(0.05)
                        data = b""
                    if data:
                        self._on_input(data)
                if self._zombies:
                    self._reap_zombies()
        except Exception:
            _logger.exception("virtual board supervisor failed")
            self._log("virtual board supervisor failed (see log)", warning=True)
        finally:
            self._closing = True
            session = self._session
            if session is not None:
                self._retire(session)

    def _handle_requests(self) -> bool:
        while self._requests:
            what, done = self._requests.popleft()
            if what == "stop":
                return True
            if what == "hard_reset":
                self._log("hard reset")
                self._replace(mode="friendly", boot="hard")
            if done is not None:
                done.set()
        return False

    def _request(self, what: str, done: threading.Event | None) -> None:
        self._requests.append((what, done))
        self._wake()

    def _wake(self) -> None:
        with self._wake_lock:
            if self._wake_w < 0:
                return
            try:
                os.write(self._wake_w, b"!")
            except OSError:
                pass

    # -- input: host -> VM ----------------------------------------------------------------
    def _on_input(self, data: bytes) -> None:
        while data:
            session = self._session
            assert session is not None
            i = data.find(b"\x03")
            if i < 0:
                self._send(session, data)
                return
            with self._state_lock:
                running = session.running
                if not running:
                    session.ctrlc_forwarded += 1
            if running:
                # Bytes before the Ctrl-C would go to the program being stopped: dropped.
                self._interrupt(session)
            else:
                self._send(session, data[: i + 1])
            data = data[i + 1 :]

    def _send(self, session: _Session, data: bytes) -> None:
        if self.in_pacer is not None:
            self.in_pacer.queued(time.monotonic(), not self._pending)
            self._queue(data)
            return
        if self._pending:
            self._queue(data)
            return
        n = session.vm.write_some(data)
        if n < len(data):
            self._queue(data[n:])

    def _queue(self, data: bytes) -> None:
        room = MAX_PENDING_INPUT - len(self._pending)
        if len(data) > room:
            if self._dropped_input == 0:
                self._log("the board does not read its serial input: dropping input", warning=True)
            self._dropped_input += len(data) - room
            data = data[:room]
        self._pending += data

    def _flush_pending(self) -> None:
        session = self._session
        assert session is not None
        pacer = self.in_pacer
        if pacer is None:
            n = session.vm.write_some(bytes(self._pending))
        else:
            now = time.monotonic()
            k = pacer.ready(now, len(self._pending))
            if k == 0:
                return
            n = session.vm.write_some(bytes(self._pending[:k]))
            pacer.sent(n, now)
        del self._pending[:n]

    # -- output: VM -> host ---------------------------------------------------------------
    def _relay(self, session: _Session) -> None:
        fd = session.vm.master_fd
        wake = session.relay_wake_r
        pacer = self.out_pacer
        try:
            while True:
                readable, _, _ = select.select([fd, wake], [], [])
                if fd in readable:
                    try:
                        data = os.read(fd, 65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    if session.discard:
                        continue
                    if pacer is None:
                        self._emit(data, session)
                    else:
                        self._emit_paced(data, session, pacer)
                    continue
                break  # the VM ended and its output is drained
        except (OSError, ValueError):
            pass
        if self._closing:
            # The supervisor is gone (or going): nobody else releases this VM's fds.
            session.vm.ended.wait(1.0)
            if session.vm.ended.is_set():
                self._release(session)

    def _emit_paced(self, data: bytes, session: _Session, pacer: LinePacer) -> None:
        """Output at the line's rate: each chunk reaches the port once its bytes have travelled."""
        pacer.queued(time.monotonic(), True)
        step = pacer.chunk()
        for i in range(0, len(data), step):
            chunk = data[i : i + step]
            now = pacer.wait_until_ready(len(chunk))
            self._emit(chunk, session)
            pacer.sent(len(chunk), now)

    def _emit(self, data: bytes, session: _Session | None = None, wait: bool = True) -> None:
        view = memoryview(data)
        while view:
            if self._closing or (session is not None and session.discard):
                return
            try:
                n = os.write(self._master_a, view)
            except BlockingIOError:
                if not wait:
                    return
                select.select([], [self._master_a], [], 0.2)
                continue
            except OSError:
                return
            view = view[n:]

    # -- VM life cycle --------------------------------------------------------------------
    def _spawn(self, *, mode: str, boot: str, intro: bool = True, note: str = "") -> _Session:
        assert self._engine is not None
        self._sessions += 1
        session = _Session(self._sessions, mode, boot)
        argv = ["micropython"]
        free = None
        if self.heap_size is not None:
            argv += ["-X", f"heapsize={self.heap_size + ROM_ROOM + self._romfs_image_size()}"]
            free = self.heap_size - BARE_ALLOC
        program = repl_rom.build_program(
            mode=mode,
            boot=boot,
            intro=intro,
            note=note,
            window=self.raw_paste_window,
            machine=MACHINE,
            free=free,
            romfs=self.romfs_size,
            retained=bytes(self.retained),
        )
        argv += ["-c", program]
        try:
            session.vm = VmInstance(
                self._engine,
                argv,
                self.flash_dir,
                on_host_message=lambda _vm, msg: self._on_host_message(session, msg),
                before_end=lambda _vm: self._wake_relay(session),
                on_exit=lambda _vm: self._on_vm_exit(session),
                name=f"vboard-vm{session.number}",
            )
        except BaseException:
            os.close(session.relay_wake_r)
            os.close(session.relay_wake_w)
            raise
        session.relay = threading.Thread(
            target=self._relay, args=(session,), name=f"vboard-relay{session.number}", daemon=True
        )
        session.relay.start()
        session.vm.start()
        self._log(f"VM {session.number} started (mode={mode}, boot={boot})")
        return session

    def _replace(self, **spec: Any) -> None:
        old = self._session
        if old is not None:
            self._retire(old)
        self._pending.clear()
        if self._closing:
            return
        try:
            self._session = self._spawn(**spec)
        except Exception as exc:
            # e.g. the flash directory was removed: the board stays dead until hard_reset().
            self._log(f"cannot start the MicroPython VM: {exc}", warning=True)
            self._emit(f"\r\nvirtual board: cannot start the MicroPython VM ({exc})\r\n".encode(), wait=False)

    def _retire(self, session: _Session) -> None:
        """Stop a VM (if it still runs), let its relay finish, release its fds."""
        session.exit_handled = True
        vm = session.vm
        if not vm.ended.is_set():
            vm.kill()
            if not vm.ended.wait(_KILL_WAIT_S):
                # Blocked writing output nobody reads, or in a host call: drop its output.
                session.discard = True
                vm.write_some(b"\x00")
                if not vm.ended.wait(_KILL_WAIT_BLOCKED_S):
                    self._log(
                        f"VM {session.number} is blocked in a host call (sleep?); "
                        "it ends when that call returns",
                        warning=True,
                    )
        if session.relay is not None:
            session.relay.join(_RELAY_JOIN_S if vm.ended.is_set() else 0)
        if vm.ended.is_set() and (session.relay is None or not session.relay.is_alive()):
            self._release(session)
        else:
            session.discard = True
            self._zombies.append(session)

    def _release(self, session: _Session) -> None:
        with session.release_lock:
            if session.released:
                return
            session.released = True
            session.vm.close_master()
            for fd in (session.relay_wake_r, session.relay_wake_w):
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _reap_zombies(self) -> None:
        for session in list(self._zombies):
            if session.vm.ended.is_set() and (session.relay is None or not session.relay.is_alive()):
                self._zombies.remove(session)
                self._release(session)

    def _interrupt(self, session: _Session) -> None:
        self._log(f"Ctrl-C: stopping VM {session.number} ({session.ctx})")
        self._resume_after(session.ctx, KBD_INTERRUPT)

    def _resume_after(self, ctx: str, error: str) -> None:
        """A new VM that reports `error` as the end of what was running in `ctx`.

        As pyexec.c reports an exception: in the raw REPL as the command's stderr
        (``\x04`` error ``\x04>``, so mpremote gets TransportExecError), in the friendly REPL
        followed by the prompt, after boot.py/main.py followed by the REPL's banner or header.
        """
        if ctx == "raw":
            self._replace(mode="raw", boot="none", intro=False, note="\x04" + error + "\x04")
        elif ctx == "friendly":
            self._replace(mode="friendly", boot="none", intro=False, note=error)
        elif ctx == "boot-raw":
            self._replace(mode="raw", boot="none", intro=True, note=error)
        else:
            self._replace(mode="friendly", boot="none", intro=True, note=error)

    def _check_vm_exit(self) -> None:
        session = self._session
        if session is None or session.exit_handled or not session.vm.ended.is_set():
            return
        session.exit_handled = True
        vm = session.vm
        code = vm.exit_code
        if code == repl_rom.EXIT_SOFT_RESET_FRIENDLY:
            self._log("soft reset (friendly REPL)")
            self._replace(mode="friendly", boot="soft")
        elif code == repl_rom.EXIT_SOFT_RESET_RAW:
            self._log("soft reset (raw REPL)")
            self._replace(mode="raw", boot="soft")
        else:
            reason = vm.error or f"exit code {code}"
            self._log(f"VM {session.number} stopped unexpectedly: {reason}", warning=True)
            if session.boot == "none" and not session.reached_repl:
                # Even the bare REPL does not start: do not loop (hard_reset() tries again).
                self._retire(session)
                self._emit(
                    f"\r\nvirtual board: the MicroPython VM cannot start ({reason})\r\n".encode(),
                    wait=False,
                )
                return
            # e.g. a segfault of the VM process
            error = f"VMFault: the MicroPython VM stopped ({reason}); restarted with a fresh heap\r\n"
            if session.running:
                self._resume_after(session.ctx, error)
            else:
                self._resume_after("boot-friendly", "\r\n" + error)

    # -- callbacks from VM threads ----------------------------------------------------------
    def _on_host_message(self, session: _Session, message: str) -> bytes:
        parts = message.split()
        if not parts:
            return b"0"
        if parts[0] == "run" and len(parts) == 3:
            try:
                consumed = int(parts[2])
            except ValueError:
                consumed = 0
            with self._state_lock:
                if session.ctrlc_forwarded > consumed:
                    return b"1"
                session.running = True
                session.ctx = parts[1]
            return b"0"
        if parts[0] == "retain" and len(parts) == 3:
            try:
                region, value = int(parts[1]), int(parts[2])
            except ValueError:
                return b"0"
            if 0 <= region < len(self.retained):
                self.retained[region] = value & 0xFF
            return b"0"
        if parts[0] == "repl":
            with self._state_lock:
                session.running = False
                session.reached_repl = True
            return b"0"
        return b"0"

    def _wake_relay(self, session: _Session) -> None:
        # VM thread, store closed, before vm.ended is set (so the pipe is still open).
        try:
            os.write(session.relay_wake_w, b"!")
        except OSError:
            pass

    def _on_vm_exit(self, session: _Session) -> None:
        # VM thread, after vm.ended is set.
        self._wake()

    # -- helpers ----------------------------------------------------------------------------
    def _log(self, message: str, warning: bool = False) -> None:
        sink = self._log_sink
        if sink is None:
            (_logger.warning if warning else _logger.info)(message)
        elif isinstance(sink, logging.Logger):
            (sink.warning if warning else sink.info)(message)
        else:
            sink(message)

    def _close_fds(self) -> None:
        # Zombie relays (VMs stuck in a host call) release their own fds when they end.
        for session in list(self._zombies):
            if session.relay is None or not session.relay.is_alive():
                self._release(session)
        for fd in (self._master_a, self._slave_a):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master_a = self._slave_a = -1
        with self._wake_lock:
            for fd in (self._wake_r, self._wake_w):
                if fd >= 0:
                    os.close(fd)
            self._wake_r = self._wake_w = -1

    def _romfs_image_size(self) -> int:
        """Heap for the copy of the ROMFS image the VM mounts (a chip maps it from flash)."""
        if self.romfs_size is None:
            return 0
        try:
            return min(os.path.getsize(os.path.join(self.flash_dir, ROMFS_FILE)), self.romfs_size) + 1024
        except OSError:
            return 0

    def _remove_own_flash(self) -> None:
        if self._own_flash and self.flash_dir:
            shutil.rmtree(self.flash_dir, ignore_errors=True)


def profile_heap(name: str) -> int:
    """The heap a virtual board of profile `name` gets on this build (see WORD_SCALE)."""
    return int(board_profile(name).heap * WORD_SCALE) // 16 * 16


# The heap of a virtual board that runs the firmware: the default profile's (PCA10040).
FIRMWARE_HEAP = profile_heap(DEFAULT_PROFILE)


def run_board_command(flash_dir: str | None, profile: str = DEFAULT_PROFILE) -> int:
    """``microapp board [--flash DIR] [--profile NAME]``: run a virtual board until Ctrl-C or
    SIGTERM, with the profile's heap, raw-paste window, baud rate and ROMFS partition."""
    stop = threading.Event()
    board = VirtualBoard.for_profile(profile, flash_dir)
    port = board.start()
    p = PROFILES[profile]
    print(
        f"virtual board on {port} (flash: {board.flash_dir}); {p.name}: {p.heap} bytes of heap, "
        f"{p.baud} baud, {p.romfs // 1024} KiB ROMFS partition; Ctrl-C to stop",
        flush=True,
    )
    previous = signal.getsignal(signal.SIGTERM)
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        board.stop()
    return 0
