"""What the host adds around an untrusted microapp, beyond the loader's view of a board
(firmware/loader.py): the user's Ctrl-C told apart from an app's `raise KeyboardInterrupt`, and
the limits of an isolated app's child process (--isolate, host/links/process_link.py).
docs/faults.md, "Levels of containment", says what each level stops and what it does not."""
from __future__ import annotations

import os
import resource
import signal
import sys
import tempfile
import threading

# --isolate's defaults: CPU seconds for the whole child, and its address space.
CPU_LIMIT_S = 600
MEMORY_LIMIT = 512 << 20
NOBODY = 65534
# The kernel's barriers --isolate puts up in the child, when the kernel has them.
BARRIERS = ("landlock", "seccomp")


def missing_barriers(missing: dict[str, str]) -> str:
    """The warning for an isolated app run without some of the barriers ({name: why})."""
    return (f"--isolate runs without {' and '.join(missing)} ("
            + "; ".join(f"{name}: {why}" for name, why in missing.items()) + ")")


class HostInterrupt(KeyboardInterrupt):
    """The user's Ctrl-C (SIGINT). The runtime lets it through; any other KeyboardInterrupt
    out of the app (it raised one) is a fault of the app."""


def _on_sigint(signum: int, frame: object) -> None:
    raise HostInterrupt()


def install_host_interrupt() -> None:
    """SIGINT raises HostInterrupt instead of KeyboardInterrupt, when Python's own handler is
    installed (a handler someone else set is left alone) and this is the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


def confine_child(cpu_s: int = CPU_LIMIT_S, memory: int = MEMORY_LIMIT,
                  barriers: tuple[str, ...] = BARRIERS) -> tuple[dict[str, str], dict[str, str]]:
    """In the isolated app's child process, before the app is loaded: CPU and memory limits
    (setrlimit: the kernel ends it past them), no core files, an empty temporary working
    directory (removed: nothing is there, nothing can be put there), the user's Ctrl-C left to the
    host; run as root, it becomes `nobody` (it can then neither signal the host nor open root's
    files) and may start no process. Then the kernel's barriers named in `barriers`, each if the
    kernel has it: Landlock (host/sandbox_landlock.py) and seccomp (host/sandbox_seccomp.py).
    Returns the barriers set up {name: what it does} and those missing {name: why}."""
    from host import sandbox_landlock, sandbox_seccomp  # imported while the files can be read

    readable = _readable_dirs()
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the host stops the run, and then the child
    empty = tempfile.mkdtemp(prefix="microapp-isolated-")
    os.chdir(empty)
    os.rmdir(empty)  # nothing to read or write there, not even for the app
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    active: dict[str, str] = {}
    missing: dict[str, str] = {}
    if not barriers:
        return active, missing
    try:
        sandbox_seccomp.set_no_new_privs()
    except OSError as e:
        return active, {name: str(e) for name in barriers}
    steps = {"landlock": lambda: sandbox_landlock.restrict_self(readable), "seccomp": sandbox_seccomp.install}
    for name in barriers:
        try:
            active[name] = steps[name]()
        except OSError as e:
            missing[name] = e.strerror or str(e)
    return active, missing


def _readable_dirs() -> list[str]:
    """What the child may read once Landlock is up: the Python installation and the venv (the
    standard library, site-packages), the project's packages the child runs; not the user's
    home or files, not even the rest of the project's directory."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    dirs |= {os.path.join(root, package) for package in ("host", "firmware", "shared_buffers")}
    return sorted(os.path.realpath(d) for d in dirs)


def _read_exactly(fd: int, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.read(fd, n - len(data))
        if not chunk:
            os._exit(0)  # the host is gone
        data += chunk
    return data


def child_main(mem_fd: int, from_host: int, to_host: int, stack_depth: int, cpu_s: int,
               memory: int, barriers: str, extra_modules: tuple[str, ...]) -> None:
    """The isolated app's process: confined (behind the barriers named in `barriers`, a comma
    list), it gets the app (the code object comes marshalled on `from_host`), says b"S" and the
    barriers it has (2 bytes of length, JSON: [active, missing]), loads the app, says b"L" (or b"E" and the error), then runs it. Each switch: the host's
    b"R" after it wrote both buffers into the shared memory at mem_fd; the app's b"Y" after it
    wrote them back. Never returns."""
    import json
    import marshal
    import mmap

    from firmware import microapp
    from firmware.loader import APP_MODULES, load_app
    from firmware.runtime import Runtime
    from shared_buffers.protocol import BUFFER_SIZE

    for name in APP_MODULES.split() + list(extra_modules):  # while their files can still be read
        try:
            __import__(name)
        except ImportError:
            pass
    active, missing = confine_child(cpu_s, memory, tuple(b for b in barriers.split(",") if b))
    size = BUFFER_SIZE
    ticks_at = 2 * size  # host/links/process_link.py's TICKS_AT
    shm = mmap.mmap(mem_fd, ticks_at + 1)
    code = marshal.loads(_read_exactly(from_host, int.from_bytes(_read_exactly(from_host, 4), "little")))
    m2b, b2m = bytearray(size), bytearray(size)
    read, write = os.read, os.write

    def yield_to_host() -> None:
        shm[0:size] = m2b
        shm[size:2 * size] = b2m
        write(to_host, b"Y")
        if read(from_host, 1) != b"R":
            os._exit(0)  # the host closed the link
        m2b[:] = shm[0:size]
        b2m[:] = shm[size:2 * size]

    runtime = Runtime(m2b, b2m, yield_to_host, stack_depth, ())
    report = json.dumps([active, missing]).encode()
    write(to_host, b"S" + len(report).to_bytes(2, "little") + report)  # started: the app's own code runs from here on, under the watchdog
    try:
        setup, loop = load_app(code, extra_modules=extra_modules)
    except BaseException as e:  # the app's load failed: tell the host what it raised
        text = f"{type(e).__name__}: {e}".encode()[:1000]
        write(to_host, b"E" + len(text).to_bytes(2, "little") + text)
        os._exit(0)
    microapp.bind(runtime)
    write(to_host, b"L")
    if read(from_host, 1) != b"R":
        os._exit(0)
    m2b[:] = shm[0:size]
    b2m[:] = shm[size:2 * size]
    def counted_loop() -> None:  # the host's watchdog counts the idle ticks of a grant by it
        shm[ticks_at] = (shm[ticks_at] + 1) & 0xFF
        loop()

    runtime.run(setup, counted_loop)  # never returns: loop() runs at every tick
