"""The device a microapp controls: bluenet's 18 virtual pins, this node's mesh radio and BLE
scanner, and the log.

In the simulator it is the whole world; with a board it is the host's model of that board's
peripherals. Requests change it through host.sdk_types; events from host.events drive its inputs.
"""
from __future__ import annotations

from typing import Callable

from host.clock import Clock
from host.report import History
from shared_buffers import protocol as P


class Device:
    def __init__(self, clock: Clock, pins: int = P.PIN_COUNT, stone_id: int = 1,
                 on_log: Callable[[int, str], None] | None = None,
                 mac: bytes = bytes((0xC0, 0x5E, 0x00, 0x00, 0x00, 0x01)), history: History | None = None) -> None:
        """pins: how many of bluenet's virtual pins (0..17) this board has; a request for one it
        lacks answers ERR_NOT_FOUND, as bluenet's GPIO driver does. history: where the log, pin
        changes and mesh messages sent are kept (host.report); lists in memory by default."""
        self.clock = clock
        self.stone_id = stone_id
        self.mac = mac
        self.levels = [0] * P.PIN_COUNT
        self.outputs = [False] * P.PIN_COUNT
        self.polarity = [P.PIN_NO_POLARITY] * P.PIN_COUNT  # the edge a registered input senses
        self.board_pins = pins
        self.latched = [False] * P.PIN_COUNT  # an edge seen since the last tick (cs_Gpio.cpp)
        self.latched_any = False
        self.history = history if history is not None else History()
        self.pin_changes = self.history.pins  # (time ms, pin, level) of outputs
        self.mesh_sent = self.history.mesh_sent  # (time, to, data, doNotRelay)
        self.scanning = False
        self.scan_filter = (P.BLE_FILTER_NONE, b"")
        self.log = self.history.log  # (time ms, text)
        self._partial = ""
        self._on_log = on_log

    def has_pin(self, pin: int) -> bool:
        return pin < self.board_pins

    def write_log(self, text: str, newline: bool, max_line: int) -> None:
        """A print without the newline flag goes on the same line, as on bluenet's UART."""
        self._partial += text
        if newline or len(self._partial) >= max_line:
            line, self._partial = self._partial[:max_line], ""
            t = self.clock.now_ms
            self.log.append((t, line))
            if self._on_log is not None:
                self._on_log(t, line)

    def init_pin(self, pin: int, direction: int, polarity: int) -> None:
        self.outputs[pin] = direction == P.PIN_OUTPUT
        self.polarity[pin] = P.PIN_NO_POLARITY if self.outputs[pin] else polarity
        if direction == P.PIN_INPUT_PULLUP:
            self.levels[pin] = 1

    def set_input(self, pin: int, level: int) -> None:
        """An outside change of an input pin: an edge the pin senses is latched until the tick."""
        old, self.levels[pin] = self.levels[pin], level
        polarity = self.polarity[pin]
        if old != level and polarity != P.PIN_NO_POLARITY and not self.outputs[pin]:
            if polarity == P.PIN_CHANGE or (polarity == P.PIN_RISING) == (level > old):
                self.latched[pin] = self.latched_any = True

    def take_latched(self) -> list[int]:
        """The pins with a latched edge, cleared (bluenet's Gpio::tick)."""
        pins = [p for p, hit in enumerate(self.latched) if hit]
        for p in pins:
            self.latched[p] = False
        self.latched_any = False
        return pins

    def send_mesh(self, stone_id: int, data: bytes, do_not_relay: bool) -> None:
        self.mesh_sent.append((self.clock.now_ms, stone_id, data, do_not_relay))
