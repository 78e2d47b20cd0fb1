"""Switch traces: the state of both buffers at every hand-over between host and microapp."""
from __future__ import annotations

from typing import NamedTuple, TextIO

from host.clock import Clock
from shared_buffers.buffers import irq_id
from shared_buffers.protocol import OFF_CALL_ID, ack_name, type_name


class Step(NamedTuple):
    direction: str  # "host->app" or "app->host"
    b2m: tuple[str, str]  # (type, ack) of the host-to-microapp buffer
    m2b: tuple[str, str]  # (type, ack) of the microapp-to-host buffer


class SwitchTrace:
    """A link's trace callback: records each switch; optionally writes it as a text line."""

    def __init__(self, out: TextIO | None = None, clock: Clock | None = None) -> None:
        self.steps: list[Step] = []
        self._out = out
        self.clock = clock

    def __call__(self, direction: str, m2b: bytearray, b2m: bytearray) -> None:
        step = Step(direction, (type_name(b2m[0]), ack_name(b2m[1])), (type_name(m2b[0]), ack_name(m2b[1])))
        self.steps.append(step)
        if self._out is not None:
            t = self.clock.now_ms / 1000 if self.clock else 0.0
            self._out.write(f"t={t:.3f}s {direction} b2m={step.b2m[0]}/{step.b2m[1]} call={b2m[OFF_CALL_ID]} "
                            f"irq={irq_id(b2m)} m2b={step.m2b[0]}/{step.m2b[1]} call={m2b[OFF_CALL_ID]}\n")
