"""The simulator's link: the microapp is a greenlet; both buffers are bytearrays both sides hold."""
from __future__ import annotations

from typing import Callable

import greenlet

from firmware import microapp
from firmware.loader import load_app
from firmware.runtime import Runtime
from shared_buffers import protocol as P
from shared_buffers.buffers import new_buffer


class GreenletLink:
    def __init__(self, code, stack_depth: int = P.DEFAULT_STACK_DEPTH,
                 trace: Callable[[str, bytearray, bytearray], None] | None = None) -> None:
        """code: the app's source text or code object. trace(direction, m2b, b2m) is called at
        every switch ("host->app" before resuming, "app->host" when it yields back)."""
        self.m2b = new_buffer()
        self.b2m = new_buffer()
        self._code = code
        self._stack_depth = stack_depth
        self._trace = trace
        self.runtime: Runtime
        self.restart()

    def restart(self) -> None:
        """A fresh microapp: new runtime, new module namespace, setup() at the next resume."""
        glet = greenlet.greenlet(self._main)
        self._glet = glet
        switch_to_host = glet.parent.switch
        if self._trace is not None:
            trace, m2b, b2m = self._trace, self.m2b, self.b2m

            def yield_to_host() -> None:
                trace("app->host", m2b, b2m)
                switch_to_host()

            def resume() -> None:
                trace("host->app", m2b, b2m)
                glet.switch()
        else:
            yield_to_host = switch_to_host
            resume = glet.switch
        self.runtime = Runtime(self.m2b, self.b2m, yield_to_host, self._stack_depth)
        self.resume = resume
        self._entry_points = load_app(self._code)
        self.bind()

    def bind(self) -> None:
        """Point the SDK at this link's runtime (one simulation runs at a time in a process)."""
        microapp.bind(self.runtime)

    def _main(self) -> None:
        self.runtime.run(*self._entry_points)
