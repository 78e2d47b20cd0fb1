"""The simulator's link: the microapp is a greenlet; both buffers are bytearrays both sides hold."""
from __future__ import annotations

import time
import traceback
from functools import partial
from typing import Callable

import greenlet

from firmware import microapp
from firmware.loader import load_app
from firmware.runtime import SDK_CELL, Runtime
from host.links import PAUSED, CallTooLong
from host.sandbox import HostInterrupt, install_host_interrupt
from host.sdk_constants import fold
from host.watchdog import Watchdog
from shared_buffers import protocol as P
from shared_buffers.buffers import new_buffer

# Greenlets of replaced microapps that would not end when unwound (an app that catches
# GreenletExit and goes on). Kept, never resumed: freeing one would run it again, unwatched.
_UNFINISHED: list[greenlet.greenlet] = []
_UNWIND_TRIES = 10
# Not the app's: the link's unwinding of a replaced app, and the user's Ctrl-C.
_NOT_THE_APPS = (greenlet.GreenletExit, HostInterrupt)


class GreenletLink:
    grants = True  # the runtime may run granted idle ticks (Controller.tick), unless traced
    def __init__(self, code, stack_depth: int = P.DEFAULT_STACK_DEPTH,
                 trace: Callable[[str, bytearray, bytearray], None] | None = None,
                 watchdog_ms: int = 1000, call_duration_ms: int = 0) -> None:
        """code: the app's source text (its SDK constants folded in here, host/sdk_constants.py)
        or a code object compiled from folded source. trace(direction, m2b, b2m) is called at
        every switch ("host->app" before resuming, "app->host" when it yields back).
        watchdog_ms: a call into the app that does not yield within it (wall time) is preempted
        and resume() raises AppHung (0: no watchdog). call_duration_ms: a call that took longer
        makes resume() raise CallTooLong (0: not measured; bluenet's limit is 20)."""
        self.m2b = new_buffer()
        self.b2m = new_buffer()
        self._code = fold(code) if isinstance(code, str) else code  # (a code object: built folded)
        self._stack_depth = stack_depth
        self._trace = trace
        if trace is not None:
            self.grants = False  # a trace shows every tick's switches
        self._call_limit_s = call_duration_ms / 1000
        self.watchdog = Watchdog(watchdog_ms / 1000) if watchdog_ms else None
        self.runtime: Runtime
        self._glet: greenlet.greenlet | None = None
        install_host_interrupt()
        self.restart()

    def restart(self) -> None:
        """A fresh microapp: new runtime, new module namespace, setup() at the next resume.
        The replaced one is unwound first. Raises AppHung when the top-level code spins."""
        if self._glet:  # started and not finished
            self._unwind(self._glet)
        glet = greenlet.greenlet(self._main)
        self._glet = glet
        switch_to_host = glet.parent.switch
        resume: Callable[[], None] = glet.switch
        if self._trace is not None:
            trace, m2b, b2m, switch_to_app = self._trace, self.m2b, self.b2m, glet.switch

            def yield_to_host() -> None:
                trace("app->host", m2b, b2m)
                switch_to_host()

            def traced_resume() -> None:
                trace("host->app", m2b, b2m)
                switch_to_app()
            resume = traced_resume
        else:
            yield_to_host = switch_to_host
        if self._call_limit_s:
            resume = _timed(resume, self._call_limit_s)
        self.runtime = Runtime(self.m2b, self.b2m, yield_to_host, self._stack_depth,
                               unwind=_NOT_THE_APPS)
        self._pause = partial(switch_to_host, PAUSED)
        self.resume = resume
        self._entry_points = self._load()
        self.bind()

    def close(self) -> None:
        """End the app (GreenletExit where it is suspended, as a restart does) and let go of it.
        A suspended greenlet is never freed by the collector, nor is anything its frames hold
        (the runtime, the controller, the whole simulation): a finished simulation is freed only
        once its app has ended. The link is not resumed after this."""
        if self._glet:  # started and not finished
            self._unwind(self._glet)
        self._glet = None
        if self.watchdog is not None:
            self.watchdog.app = None

    def take_traceback(self) -> dict | None:
        """The app's last exception: its whole traceback and the innermost line of the app's
        own file ("file:line"); then forgotten."""
        exc, self.runtime.last_error = self.runtime.last_error, None
        if exc is None:
            return None
        return exception_detail(exc, getattr(self._code, "co_filename", None))

    def take_hang_site(self) -> dict | None:
        """Where the watchdog stopped a hung app: the app's innermost line ("at") and the stack
        there ("traceback")."""
        glet = self._glet
        frame = glet.gr_frame if glet is not None and not glet.dead else None
        if frame is None:
            return None
        app_file = getattr(self._code, "co_filename", None)
        stack = [f for f in traceback.extract_stack(frame) if not f.filename.endswith("watchdog.py")]
        own = [f for f in stack if f.filename == app_file] or stack
        if not own:
            return None
        return {"at": f"{own[-1].filename}:{own[-1].lineno}",
                "traceback": "Stopped by the watchdog here (most recent call last):\n"
                             + "".join(traceback.format_list(stack))}

    def pause_in_grants(self, on: bool) -> None:
        """Ours, for the mesh (host/mesh/network.py): with `on`, the runtime comes back between
        two idle ticks of a grant (resume() returns PAUSED) and the next resume() runs the next
        one, so that other stones' ticks run in between, in time order. A restart turns it off."""
        self.runtime.pause = self._pause if on else None

    def bind(self) -> None:
        """Point the SDK at this link's runtime (one simulation runs at a time in a process)."""
        microapp.bind(self.runtime)

    def binder(self) -> Callable[[], None]:
        """bind() of the runtime there is now, as one C call (the mesh binds before each tick
        of a stepped grant, which a restart ends): what microapp.bind does with a runtime
        (firmware/runtime.py, SDK_CELL)."""
        return partial(SDK_CELL.__setitem__, 0, self.runtime)

    def _main(self) -> None:
        # Named arguments, not *args: a call with *args runs in a C frame of its own, and every
        # switch copies the app's C stack (greenlet), so a shallow one makes every request cheaper.
        setup, loop = self._entry_points
        self.runtime.run(setup, loop)

    def _load(self):
        watchdog = self.watchdog
        if watchdog is None:
            return load_app(self._code, passthrough=_NOT_THE_APPS)
        # The top-level code runs in a greenlet of its own, so that the watchdog throws AppHung
        # into the host, where the app cannot catch it; one that hung is kept, never resumed.
        loading = greenlet.greenlet(lambda: load_app(self._code, passthrough=_NOT_THE_APPS))
        watchdog.app = loading
        watchdog.guard += 1
        try:
            return loading.switch()
        finally:
            watchdog.guard += 1
            watchdog.app = self._glet
            if not loading.dead:
                _UNFINISHED.append(loading)

    def _unwind(self, glet: greenlet.greenlet) -> None:
        """End a replaced microapp: GreenletExit where it is suspended, so its frames unwind,
        under the watchdog; one that will not end is kept and never resumed."""
        watchdog = self.watchdog
        if watchdog is not None:
            watchdog.app = glet
            watchdog.guard += 1
        try:
            for _ in range(_UNWIND_TRIES):  # a request made while unwinding gets GreenletExit too
                glet.throw(greenlet.GreenletExit)
                if glet.dead:
                    break
        except Exception:  # AppHung (it spins instead of ending), or its own cleanup raised
            pass
        finally:
            if watchdog is not None:
                watchdog.guard += 1
        if not glet.dead:
            _UNFINISHED.append(glet)


def exception_detail(exc: BaseException, app_file: str | None) -> dict:
    """{"at": "file:line" of the app's innermost frame (else the innermost), "traceback"}."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if f.filename == app_file]
    cause = exc.__cause__ or exc.__context__
    while not own and cause is not None:  # re-raised by the loader (AppLoadFault): the app's frames
        own = [f for f in traceback.extract_tb(cause.__traceback__) if f.filename == app_file]
        cause = cause.__cause__ or cause.__context__
    own = own or frames
    detail = {"traceback": "".join(traceback.format_exception(exc))}
    if own:
        detail["at"] = f"{own[-1].filename}:{own[-1].lineno}"
    return detail


def _timed(resume: Callable[[], None], limit_s: float) -> Callable[[], None]:
    """resume() measured as bluenet measures a call: after it returns (--strict-timing only)."""
    clock = time.perf_counter

    def timed_resume() -> None:
        start = clock()
        resume()
        took = clock() - start
        if took > limit_s:
            raise CallTooLong(f"a call took {took * 1000:.1f} ms, over the {limit_s * 1000:.0f} ms limit")
    return timed_resume
