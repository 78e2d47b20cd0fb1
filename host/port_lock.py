"""One owner per board: a lock file per serial port, taken before the port is opened.

Every program here that opens a board (`microapp run --port`, tools/flash.py, the pytest plugin,
the serial link under them) takes the port's lock first; a second program is told at once
"PORT is in use by PID N (its command)" and never writes to the line, so the run holding the
board goes on undisturbed. The lock is an flock on a file named after the port's resolved path
(a /dev/serial/by-id link and its /dev/ttyACM0 are one port; a URL is its own name), holding the
owner's PID and command line: the kernel drops the flock when the owner exits, however it exits,
so a lock file left behind by a dead owner is stale and simply taken over. Within one process
the lock is re-entrant (the CLI holds it around the raw-REPL upload and the link it then opens).
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import sys
import tempfile
import threading

LOCK_DIR = os.path.join(tempfile.gettempdir(), "microapp-ports")
_UNLOCKED = ("loop://", "spy://")  # private to the process that opens them


class PortBusy(Exception):
    """Another process holds the port."""


_held: dict[str, list] = {}  # key -> [fd, count]
_guard = threading.Lock()


def port_key(port: str) -> str:
    """The name the port's lock goes by: the resolved device path, or the URL."""
    if "://" in port:
        return port.strip().lower()
    return os.path.realpath(port)


def _lock_path(key: str) -> str:
    readable = re.sub(r"[^\w.-]+", "_", key).strip("_")[-60:]
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return os.path.join(LOCK_DIR, f"{readable}-{digest}.lock")


def acquire(port: str) -> str | None:
    """Take the port's lock (re-entrant within the process); its key, or None for a port that
    needs none. PortBusy names the holder when another process has it."""
    if port.startswith(_UNLOCKED):
        return None
    key = port_key(port)
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return key
        path = _lock_path(key)
        try:
            fd = _open_lock_file(path)
        except OSError:  # no lock directory to be had (read-only /tmp, another user's): go unlocked
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise PortBusy(f"{port} is in use by {holder(path)}; wait for it to finish or stop it") from None
        os.ftruncate(fd, 0)  # a stale owner's line (it died) is replaced by ours
        os.write(fd, f"{os.getpid()} {' '.join(sys.argv)[:200]}\n".encode())
        _held[key] = [fd, 1]
        return key


def _open_lock_file(path: str) -> int:
    if not os.path.isdir(LOCK_DIR):
        os.makedirs(LOCK_DIR, exist_ok=True)
        try:
            os.chmod(LOCK_DIR, 0o1777)  # shared by every user, as /tmp itself
        except OSError:
            pass
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        os.fchmod(fd, 0o666)  # whoever comes next may take it over (umask notwithstanding)
    except OSError:
        pass
    return fd


def release(key: str | None) -> None:
    """Give back one acquire(); the last one unlocks the port."""
    if key is None:
        return
    with _guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            os.close(entry[0])  # closing drops the flock; the file stays for the next owner


def holder(path: str) -> str:
    """'PID N (command)' from a lock file."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            pid, _, command = f.readline().strip().partition(" ")
    except OSError:
        return "another process"
    return f"PID {pid} ({command})" if command else f"PID {pid}" if pid else "another process"


class PortLock:
    """`with PortLock(port):` holds the port's lock for the block."""

    def __init__(self, port: str) -> None:
        self.port = port
        self.key: str | None = None

    def __enter__(self) -> PortLock:
        self.key = acquire(self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        release(self.key)
        self.key = None
