"""The --isolate link: the microapp runs in a child process of its own (host/sandbox.py confines
it: CPU and memory limits, an empty working directory, the loader's view of a board), so that
nothing it does, a C-level hang, os._exit, a segfault, a signal, a memory bomb, reaches the host.

Both buffers live in shared memory (a memfd both processes map); a switch is one byte on a pipe
each way: the host writes the buffers and b"R", the app's runtime reads them, runs until it
yields, writes them back and b"Y". The host's watchdog (host/watchdog.py, wait_or_kill) waits for
that byte at most `watchdog_ms` and then SIGKILLs the child. A child that is killed or dies is
reported as AppHung (AppDied): the controller stops the app with did-reboot, as bluenet's reboot
would. restart() starts a new child.
"""
from __future__ import annotations

import builtins
import fcntl
import json
import marshal
import mmap
import os
import signal
import subprocess
import sys
import weakref
from typing import Callable

from host.links import AppHung
from host.links.greenlet_link import _timed
from host.sandbox import BARRIERS, CPU_LIMIT_S, MEMORY_LIMIT
from host.sdk_constants import fold
from host.watchdog import wait_or_kill
from shared_buffers import protocol as P
from shared_buffers.buffers import new_buffer

STARTUP_S = 30  # the child's interpreter start, before any of the app's code runs
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); from host.sandbox import child_main; "
         "child_main(*map(int, sys.argv[2:8]), sys.argv[8], tuple(sys.argv[9:]))")
# For checking that the attack tests need the barriers: MICROAPP_ISOLATE_WITHOUT=landlock,seccomp
# leaves those out (the run warns as when the kernel refuses them).
WITHOUT_ENV = "MICROAPP_ISOLATE_WITHOUT"
TICKS_AT = 2 * P.BUFFER_SIZE  # in the shared memory: the child's count of loop() calls (mod 256)
SHARED_SIZE = TICKS_AT + 1
# Load errors the child reports, raised again here under their own name when they are builtins.
_BUILTIN_ERRORS = {name: cls for name, cls in vars(builtins).items()
                   if isinstance(cls, type) and issubclass(cls, Exception)}


class AppDied(AppHung):
    """The app's process ended on its own (os._exit, a signal, a crash, a limit)."""


class ProcessLink:
    grants = True  # the child's runtime runs granted idle ticks (Controller.tick), unless traced

    def __init__(self, code, stack_depth: int = P.DEFAULT_STACK_DEPTH,
                 trace: Callable[[str, bytearray, bytearray], None] | None = None,
                 watchdog_ms: int = 1000, call_duration_ms: int = 0, cpu_s: int = CPU_LIMIT_S,
                 memory: int = MEMORY_LIMIT, extra_modules: tuple[str, ...] = ()) -> None:
        """As GreenletLink; cpu_s and memory: the child's limits (its CPU seconds in all, its
        address space). extra_modules: see firmware/loader.py's load_app (tests only)."""
        self.m2b = new_buffer()
        self.b2m = new_buffer()
        if isinstance(code, str):
            code = compile(fold(code), "<microapp>", "exec")
        self._code = marshal.dumps(code)
        without = os.environ.get(WITHOUT_ENV, "").split(",")
        barriers = ",".join(b for b in BARRIERS if b not in without)
        self._options = [str(stack_depth), str(cpu_s), str(memory), barriers] + list(extra_modules)
        # The kernel's barriers in the child: {name: what it does}, and {name: why not}
        self.barriers: dict[str, str] = {}
        self.barriers_missing: dict[str, str] = {}
        self._limit_s = watchdog_ms / 1000
        self._trace = trace
        if trace is not None:
            self.grants = False  # a trace shows every tick's switches
        self._call_limit_s = call_duration_ms / 1000
        self._size = size = P.BUFFER_SIZE
        # Both buffers, and a byte the child's runtime counts its ticks in (TICKS_AT).
        self._mem_fd = os.memfd_create("microapp-buffers", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(self._mem_fd, SHARED_SIZE)
        # Sealed at its size: an app that shrank it would have the host's next read fault (SIGBUS).
        fcntl.fcntl(self._mem_fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)
        self._shm = mmap.mmap(self._mem_fd, SHARED_SIZE)
        self._child: subprocess.Popen | None = None
        self._to_app = self._from_app = -1
        self._finalizer = weakref.finalize(self, _end, [None, -1, -1])
        self.restart()

    def restart(self) -> None:
        """A fresh microapp: the old child is killed, a new one loads the app. Raises AppHung
        when its top-level code does not finish within the watchdog limit, or the app's own
        exception when it does not load."""
        self._end_child()
        app_r, to_app = os.pipe()
        from_app, app_w = os.pipe()
        args = [sys.executable, "-I", "-c", _BOOT, ROOT, str(self._mem_fd), str(app_r), str(app_w),
                *self._options]
        self._child = subprocess.Popen(args, pass_fds=(self._mem_fd, app_r, app_w), close_fds=True,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True, cwd="/")
        os.close(app_r)
        os.close(app_w)
        self._to_app, self._from_app = to_app, from_app
        self._finalizer.detach()
        self._finalizer = weakref.finalize(self, _end, [self._child, to_app, from_app])
        try:
            os.write(to_app, len(self._code).to_bytes(4, "little") + self._code)
        except BrokenPipeError:
            pass  # it died at once: the answer below says so
        got = wait_or_kill(from_app, self._child.pid, STARTUP_S)  # Python starts, not the app yet
        if got == b"S":
            self._read_barriers(from_app)
            got = wait_or_kill(from_app, self._child.pid, self._limit_s)
        if got == b"E":
            n = int.from_bytes(os.read(from_app, 2), "little")
            kind, _, message = os.read(from_app, n).decode("utf-8", "replace").partition(": ")
            self._end_child()
            raise _BUILTIN_ERRORS.get(kind, RuntimeError)(message if kind in _BUILTIN_ERRORS
                                                          else f"{kind}: {message}")
        if got != b"L":
            self._lost(got, "while its top-level code ran")
        self.resume = self._resume
        if self._trace is not None:
            self.resume = self._traced_resume
        if self._call_limit_s:
            self.resume = _timed(self.resume, self._call_limit_s)

    def _read_barriers(self, from_app: int) -> None:
        """The child's report, written with its b"S" before any of the app's code ran."""
        n = int.from_bytes(os.read(from_app, 2), "little")
        self.barriers, missing = json.loads(os.read(from_app, n))
        without = os.environ.get(WITHOUT_ENV, "").split(",")
        missing.update({b: f"left out ({WITHOUT_ENV})" for b in BARRIERS if b in without})
        self.barriers_missing = missing

    def _resume(self) -> None:
        """Hand the buffers to the app and wait, under the watchdog, until it yields."""
        shm, size = self._shm, self._size
        shm[0:size] = self.m2b
        shm[size:2 * size] = self.b2m
        try:
            os.write(self._to_app, b"R")
        except (BrokenPipeError, OSError):
            self._lost(b"", "")
        grant = self.b2m[P.OFF_GRANT]
        progress = self._ticks_run(grant) if grant > 1 else None
        got = wait_or_kill(self._from_app, self._child.pid, self._limit_s, progress)  # type: ignore[union-attr]
        if got != b"Y":
            self._lost(got, "")
        self.m2b[:] = shm[0:size]
        self.b2m[:] = shm[size:2 * size]

    resume = _resume

    def _ticks_run(self, grant: int) -> Callable[[], bool]:
        """For the watchdog of a resume with a grant of idle ticks: each tick the app ran since it
        last looked (the child counts them at TICKS_AT) starts its limit again, as the greenlet
        link's watchdog counts them, at most `grant` times (an app that wrote the count itself
        gains no more than the grant's ticks)."""
        shm = self._shm
        seen = [shm[TICKS_AT], grant]

        def advanced() -> bool:
            now = shm[TICKS_AT]
            if now == seen[0] or seen[1] <= 0:
                return False
            seen[0] = now
            seen[1] -= 1
            return True
        return advanced

    def _traced_resume(self) -> None:
        trace = self._trace
        assert trace is not None
        trace("host->app", self.m2b, self.b2m)
        self._resume()
        trace("app->host", self.m2b, self.b2m)

    def _lost(self, got: bytes | None, where: str) -> None:
        child = self._child
        assert child is not None
        try:
            code = child.wait(timeout=5)
        except subprocess.TimeoutExpired:  # it wrote something else: a protocol it does not keep
            os.kill(child.pid, signal.SIGKILL)
            code = child.wait()
        self._end_child()
        where = f" {where}" if where else ""
        if got is None:
            raise AppHung(f"no yield within {self._limit_s * 1000:.0f} ms{where}: "
                          "its process was killed by the watchdog")
        how = f"exit code {code}"
        if code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        raise AppDied(f"the app's process ended{where} ({how})")

    def _end_child(self) -> None:
        if self._child is not None:
            _end([self._child, self._to_app, self._from_app])
            self._child = None
            self._to_app = self._from_app = -1

    def close(self) -> None:
        """Kill the app's process (a link dropped without close() does it when collected)."""
        self._end_child()
        self._finalizer.detach()
        if self._mem_fd >= 0:
            self._shm.close()
            os.close(self._mem_fd)
            self._mem_fd = -1


def _end(state: list) -> None:
    """Kill a child and close its pipes (also from the finalizer: no reference to the link)."""
    child, to_app, from_app = state
    if child is not None and child.poll() is None:
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()
    for fd in (to_app, from_app):
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
    state[:] = [None, -1, -1]
