"""PIN: microapp_sdk_pin_t (handleRequestPin, RequestHandler.cpp:187-345) and the pin interrupt
(onGpioUpdate, InterruptHandler.cpp:154-170: only the type and the pin are written)."""
from __future__ import annotations

from host.device import Device
from host.interrupts import Registry
from shared_buffers import protocol as P

_INPUTS = (P.PIN_INPUT, P.PIN_INPUT_PULLUP)
_POLARITIES = (P.PIN_NO_POLARITY, P.PIN_CHANGE, P.PIN_RISING, P.PIN_FALLING)


class Pin:
    def __init__(self, device: Device, registry: Registry) -> None:
        self.device = device
        self.registry = registry
        # The device's lists, held: a pin write touches them and nothing else.
        self._levels, self._outputs, self._changes = device.levels, device.outputs, device.pin_changes
        self._clock = device.clock
        self._board_pins = device.board_pins

    def handle(self, m2b: bytearray) -> int:
        # Literal offsets and numbers on this hot path (names in shared_buffers.protocol).
        pin = m2b[2]  # OFF_PIN_PIN
        # bluenet checks `pin > 10 + 4 + 4`, so index 18 passes here and fails in the driver.
        if pin > 18:  # PIN_COUNT
            return P.ERR_OUT_OF_RANGE
        kind = m2b[3]  # OFF_PIN_TYPE
        if kind != 2:  # PIN_ACTION
            return self._init(m2b, pin) if kind == P.PIN_INIT else P.ERR_UNDEFINED
        action = m2b[6]  # OFF_PIN_ACTION
        if action == 2:  # PIN_WRITE
            value = m2b[7]  # OFF_PIN_VALUE
            if value > 1:  # PIN_ON
                return P.ERR_UNDEFINED
            if pin >= self._board_pins:
                return P.ERR_NOT_FOUND
            # bluenet does not check the direction; on an input the written latch drives nothing.
            levels = self._levels
            if self._outputs[pin] and levels[pin] != value:
                levels[pin] = value
                self._changes.append((self._clock.now_ms, pin, value))
            return 0  # SUCCESS
        if action == P.PIN_READ:
            if pin >= self._board_pins:
                return P.ERR_NOT_FOUND
            m2b[7] = self._levels[pin]
            return P.SUCCESS
        return P.ERR_UNDEFINED

    def _init(self, m2b: bytearray, pin: int) -> int:
        direction, polarity = m2b[P.OFF_PIN_DIRECTION], m2b[P.OFF_PIN_POLARITY]
        if direction in _INPUTS:
            if polarity not in _POLARITIES:
                return P.ERR_UNDEFINED
        elif direction != P.PIN_OUTPUT:
            return P.ERR_UNDEFINED
        if not self.device.has_pin(pin):
            return P.ERR_NOT_FOUND  # the GPIO driver's EVT_GPIO_INIT result
        self.device.init_pin(pin, direction, polarity)
        if direction != P.PIN_OUTPUT and polarity != P.PIN_NO_POLARITY:
            # The pin is set up first; a duplicate or a full table then answers ERROR.
            if self.registry.register((P.PIN << 8) | pin) != P.SUCCESS:
                return P.ERROR
        return P.SUCCESS


def interrupt(pin: int) -> tuple[int, bytes]:
    """(interrupt id byte, bytes 2.. of b2m) for an edge on `pin`."""
    return pin, bytes((pin,))
