"""The device a microapp controls: pins, this node's mesh radio and BLE scanner, and the log.

In the simulator it is the whole world; with a board it is the host's model of that board's
peripherals. Requests change it through host.requests; events from host.events drive its inputs.
"""
from __future__ import annotations

from typing import Callable

from host.clock import Clock


class Device:
    def __init__(self, clock: Clock, pins: int = 32, stone_id: int = 1,
                 on_log: Callable[[int, str], None] | None = None) -> None:
        self.clock = clock
        self.stone_id = stone_id
        self.levels = [0] * pins
        self.modes = [0] * pins
        self.pin_changes: list[tuple[int, int, int]] = []  # (time ms, pin, level) of outputs
        self.mesh_sent: list[tuple[int, int, bytes]] = []  # (time ms, to stone id, data)
        self.scanning = False
        self.log: list[tuple[int, str]] = []
        self._partial = ""
        self._on_log = on_log

    @property
    def pins(self) -> int:
        return len(self.levels)

    def write_log(self, text: str, newline: bool, max_line: int) -> None:
        self._partial += text
        if newline or len(self._partial) >= max_line:
            line, self._partial = self._partial[:max_line], ""
            t = self.clock.now_ms
            self.log.append((t, line))
            if self._on_log is not None:
                self._on_log(t, line)

    def set_output(self, pin: int, level: int) -> None:
        if self.levels[pin] != level:
            self.levels[pin] = level
            self.pin_changes.append((self.clock.now_ms, pin, level))

    def set_input(self, pin: int, level: int) -> bool:
        """An outside change of an input pin; True when the level changed."""
        changed = self.levels[pin] != level
        self.levels[pin] = level
        return changed

    def send_mesh(self, stone_id: int, data: bytes) -> None:
        self.mesh_sent.append((self.clock.now_ms, stone_id, data))
