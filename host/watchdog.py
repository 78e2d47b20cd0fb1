"""The simulator's watchdog: stops a microapp that does not yield within a wall-time limit.

bluenet has a hardware watchdog that resets the chip. In the simulator the microapp is a greenlet
in the host's own thread, so while it spins nothing else runs there. One daemon thread watches
every live Watchdog; when a watched microapp has made no progress for `limit_s` it sends SIGUSR1
to the main thread. Python runs the signal handler inside whatever runs there, which is the
spinning greenlet: the handler throws AppHung into the host's greenlet, at the switch() that
resumed the microapp. The microapp's greenlet stays suspended inside the handler; the link
discards it (greenlet_link.py).

Progress is read from counters the controller keeps anyway (entries and requests): nothing is
added per request, and the thread looks only a few times per limit.

Limits: the watchdog needs the main thread (Python runs signal handlers only there); a microapp
stuck inside one long C call (a huge `sum(range(...))`) is stopped only when that call returns.
With --isolate the app is a child process instead, and wait_or_kill() below is its watchdog: a
SIGKILL, which stops any call.
"""
from __future__ import annotations

import os
import select
import signal
import threading
import time
import weakref
from typing import Callable

import greenlet

from host.links import AppHung

SIGNUM = signal.SIGUSR1

_lock = threading.Lock()
_watchdogs: weakref.WeakSet[Watchdog] = weakref.WeakSet()
_thread: threading.Thread | None = None
# What the thread last fired at: (watchdog, the state it saw). The handler acts only when that
# state still holds (the microapp may have yielded meanwhile).
_target: tuple[Watchdog, tuple] | None = None


def _no_entries() -> tuple[int, int]:
    return (0, 0)


class Watchdog:
    def __init__(self, limit_s: float) -> None:
        """Raises RuntimeError outside the main thread (no signal handler can be installed)."""
        self.limit_s = limit_s
        self.app: greenlet.greenlet | None = None  # the greenlet to preempt: set by the link
        self.guard = 0  # odd while the link runs app code outside an entry (load, unwind)
        self._progress: Callable[[], tuple[int, int]] = _no_entries
        _register(self)

    def follow(self, progress: Callable[[], tuple[int, int]]) -> None:
        """progress() -> (entry counter, odd while an entry runs; a count that moves with every
        request): the controller's. No change for `limit_s` while odd: the app is stopped."""
        self._progress = progress

    def state(self) -> tuple[int, int, int]:
        return (self.guard,) + self._progress()


def _register(watchdog: Watchdog) -> None:
    global _thread
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("the microapp watchdog works only in the main thread (Python runs signal "
                           "handlers only there); run with watchdog_ms=0 to go without it")
    with _lock:
        if _thread is None:
            signal.signal(SIGNUM, _on_signal)
            _thread = threading.Thread(target=_watch, name="microapp-watchdog", daemon=True)
            _thread.start()
        _watchdogs.add(watchdog)


def _watch() -> None:
    main = threading.main_thread().ident
    assert main is not None
    seen: weakref.WeakKeyDictionary[Watchdog, tuple[tuple, float]] = weakref.WeakKeyDictionary()
    while True:
        time.sleep(_look(seen, main))


def _look(seen: weakref.WeakKeyDictionary, main: int) -> float:
    """One look at every live watchdog (fire at the ones expired); returns how long to sleep.
    A function of its own: no reference to a watchdog outlives it, so a dropped link is freed."""
    global _target
    with _lock:
        watchdogs = list(_watchdogs)
    now = time.monotonic()
    for watchdog in watchdogs:
        if _expired(watchdog, seen, now):
            _target = (watchdog, seen[watchdog][0])
            signal.pthread_kill(main, SIGNUM)
    # Look 20 times per limit (within 5..50 ms): a hang is caught within limit + 2 looks.
    period = min([w.limit_s for w in watchdogs], default=1.0) / 20
    return min(max(period, 0.005), 0.05)


def _expired(watchdog: Watchdog, seen: weakref.WeakKeyDictionary, now: float) -> bool:
    state = watchdog.state()
    if not (state[0] & 1 or state[1] & 1):  # nothing of the app is running
        seen.pop(watchdog, None)
        return False
    last = seen.get(watchdog)
    if last is None or last[0] != state:
        seen[watchdog] = (state, now)
        return False
    if now - last[1] < watchdog.limit_s:
        return False
    seen[watchdog] = (state, now)  # still stuck after another limit: fire again
    return True


def _on_signal(signum: int, frame: object) -> None:
    global _target
    target = _target
    if target is None:
        return
    watchdog, state = target
    if watchdog.state() != state:
        return  # it yielded after the thread looked
    message = f"no yield within {watchdog.limit_s * 1000:.0f} ms: stopped by the watchdog"
    current = greenlet.getcurrent()
    host = getattr(current, "parent", None)  # where the app was resumed from
    if current is watchdog.app and host is not None:
        _target = None
        host.throw(AppHung(message))
    # else the host itself is busy in this entry: the thread fires again after another limit


def wait_or_kill(fd: int, pid: int, limit_s: float, progress: Callable[[], bool] | None = None) -> bytes | None:
    """The isolated app's watchdog (--isolate, host/links/process_link.py): wait for the child
    process's next byte on `fd`; when none comes within `limit_s` (0: no limit), SIGKILL the
    child, which nothing it does can catch or block, and return None; b"" when it died.
    progress(): asked when the limit is up; True (the app ran a tick of a grant meanwhile)
    starts the limit again."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    deadline = time.monotonic() + limit_s if limit_s else None
    while True:
        timeout = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000) + 1)
        if poller.poll(timeout):
            try:
                return os.read(fd, 1)
            except InterruptedError:
                continue
        if deadline is not None and time.monotonic() >= deadline:
            if progress is not None and progress():
                deadline = time.monotonic() + limit_s
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return None
