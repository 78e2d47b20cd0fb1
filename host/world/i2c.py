"""The stone's I2C (TWI) bus and the devices on it.

The bus answers as bluenet's TWI driver does (crownstone/bluenet b4161ec3d
source/src/drivers/cs_Twi.cpp): before the bus is initialised a read gives 0 bytes and a write
does nothing; a write of 0 bytes does nothing; an address with no device NACKs, which the driver
only logs: a write is lost, and a read leaves the buffer as it was and reports the length that
was asked for. The driver reads with nrfx_twi_xfer(flags 0), so every read ends with a STOP
whatever the request's stop flag says; a write honours it (no STOP: a repeated start follows).

Devices: RegisterDevice (an EEPROM-like byte map with an address pointer that a write sets and
every byte read or written moves on) and Tmp102 (TI's TMP102 temperature sensor's register map:
pointer register, 12/13-bit temperature, configuration, T_LOW, T_HIGH), whose reading follows
the timeline and, when `heater` is set, warms while the switch lets power through.
"""
from __future__ import annotations

from host.world.history import History


class Device:
    def write(self, data: bytes, stop: bool) -> None:
        raise NotImplementedError

    def read(self, length: int) -> bytes:
        raise NotImplementedError


class RegisterDevice(Device):
    """An EEPROM-like map of `size` bytes (24C02 style): the first 1 (or 2) bytes written set
    the address pointer, the rest are stored from there; a read returns bytes from the pointer.
    The pointer wraps at the end of the map."""

    def __init__(self, size: int = 256, address_bytes: int = 1, data: bytes = b"") -> None:
        self.memory = bytearray(size)
        self.memory[:len(data)] = data
        self.address_bytes = address_bytes
        self.pointer = 0

    def write(self, data: bytes, stop: bool) -> None:
        n = self.address_bytes
        if len(data) < n:
            return
        self.pointer = int.from_bytes(data[:n], "big") % len(self.memory)
        for byte in data[n:]:
            self.memory[self.pointer] = byte
            self.pointer = (self.pointer + 1) % len(self.memory)

    def read(self, length: int) -> bytes:
        out = bytearray()
        for _ in range(length):
            out.append(self.memory[self.pointer])
            self.pointer = (self.pointer + 1) % len(self.memory)
        return bytes(out)


class Tmp102(Device):
    """TMP102 (TI SBOS397): pointer 0 temperature (read-only), 1 configuration (reset 0x60A0),
    2 T_LOW (75 °C), 3 T_HIGH (80 °C); registers are 16 bits, MSB first; a read longer than two
    bytes repeats the register. Temperature: 12 bits left-justified, 0.0625 °C per LSB, two's
    complement; with the EM bit (configuration bit 4) 13 bits. Not modelled: shutdown and
    one-shot modes, the alert output, conversion time."""

    TEMPERATURE, CONFIG, T_LOW, T_HIGH = range(4)
    EM = 0x0010
    READ_ONLY = 0x6020  # R1 R0 (resolution) and AL

    def __init__(self, clock, celsius: float = 20.0, heater=None, heating_c_per_min: float = 0.0,
                 cooling_per_min: float = 0.0) -> None:
        self.clock = clock
        self.ambient = celsius
        self.celsius = celsius
        self.registers = [0, 0x60A0, 0x4B00, 0x5000]
        self.pointer = 0
        # Optional room model: `heater` is a callable giving 0..1 (how much heating power flows);
        # the room warms by heating_c_per_min at full power and relaxes towards the ambient
        # temperature by cooling_per_min of the difference per minute.
        self.heater = heater
        self.heating = heating_c_per_min
        self.cooling = cooling_per_min
        self._t = clock.now_ms

    def set_ambient(self, celsius: float) -> None:
        self.advance()
        self.ambient = celsius
        if self.heater is None:
            self.celsius = celsius

    def advance(self) -> None:
        """Integrate the room model up to now (called before the heater's power changes)."""
        now = self.clock.now_ms
        dt_min, self._t = (now - self._t) / 60_000, now
        if self.heater is None or dt_min <= 0:
            return
        steps = max(1, int(dt_min * 60))  # one-second steps: plenty for a room
        h = dt_min / steps
        power = self.heater()
        for _ in range(steps):
            self.celsius += h * (self.heating * power - self.cooling * (self.celsius - self.ambient))

    def temperature_register(self) -> int:
        self.advance()
        extended = bool(self.registers[self.CONFIG] & self.EM)
        counts = round(self.celsius / 0.0625)
        bits = 13 if extended else 12
        counts = max(-(1 << (bits - 1)), min((1 << (bits - 1)) - 1, counts))
        value = (counts & ((1 << bits) - 1)) << (16 - bits)
        return value | (1 if extended else 0)

    def write(self, data: bytes, stop: bool) -> None:
        if not data:
            return
        self.pointer = data[0] & 0x03
        if len(data) >= 3 and self.pointer != self.TEMPERATURE:
            value = (data[1] << 8) | data[2]
            if self.pointer == self.CONFIG:  # R1/R0 and AL are read-only, OS reads 0
                value = (value & ~(self.READ_ONLY | 0x800F)) | (self.registers[self.CONFIG] & self.READ_ONLY)
            else:
                value &= 0xFFF0 if not self.registers[self.CONFIG] & self.EM else 0xFFF8
            self.registers[self.pointer] = value

    def read(self, length: int) -> bytes:
        if self.pointer == self.TEMPERATURE:
            value = self.temperature_register()
        else:
            value = self.registers[self.pointer]
        pair = bytes((value >> 8, value & 0xFF))
        return (pair * (length // 2 + 1))[:length]


class Bus:
    def __init__(self, history: History, clock) -> None:
        self.history = history
        self.clock = clock
        self.devices: dict[int, Device] = {}
        self.initialised = False

    def attach(self, address: int, device: Device) -> None:
        self.devices[address] = device

    def init(self) -> None:
        if not self.initialised:
            self.initialised = True
            self.history.record(self.clock.now_ms, "i2c", "microapp", op="init")

    def write(self, address: int, data: bytes, stop: bool) -> None:
        if not self.initialised or not data:
            self._record("write", address, data, "ignored", stop)
            return
        device = self.devices.get(address)
        if device is None:
            self._record("write", address, data, "nack", stop)
            return
        device.write(bytes(data), stop)
        self._record("write", address, data, "ack", stop)

    def read(self, address: int, length: int) -> bytes | None:
        """The bytes read; b"" before init; None when no device answers (the caller's buffer
        stays as it was and the length asked for is reported, as the driver does)."""
        if not self.initialised:
            self._record("read", address, b"", "ignored")
            return b""
        device = self.devices.get(address)
        if device is None:
            self._record("read", address, b"", "nack")
            return None
        data = device.read(length)
        self._record("read", address, data, "ack")
        return data

    def _record(self, op: str, address: int, data: bytes, result: str, stop: bool = True) -> None:
        fields: dict[str, object] = {"op": op, "address": f"{address:#04x}", "data": bytes(data).hex(),
                                     "result": result}
        if not stop:  # a repeated start follows
            fields["stop"] = 0
        self.history.record(self.clock.now_ms, "i2c", "microapp", **fields)
