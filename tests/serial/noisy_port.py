"""A serial port wrapper that damages the line both ways: a real port (a pty to the virtual board)
whose bytes are flipped, dropped or duplicated on their way, or whose chosen frames are lost."""
from __future__ import annotations

import random

import serial

REPL_CONTROL = range(0x01, 0x06)
FLAG = b"\x7e"


class NoisyPort:
    """Each byte, either way, is with probability `rate` flipped (XOR a random value), dropped
    or sent twice. A flip on the way to the board never makes a REPL control byte (Ctrl-A..E):
    a MicroPython board takes those as commands by design (a Ctrl-C from the line breaks in as
    a user's would, and recovering from that is the watchdog's job, tested on its own)."""

    def __init__(self, port: serial.SerialBase, rate: float, seed: int) -> None:
        self.port = port
        self.rate = rate
        self.rng = random.Random(seed)
        self.damaged = {"flipped": 0, "dropped": 0, "doubled": 0}

    def _damage(self, data: bytes, to_board: bool) -> bytes:
        rng, rate, out = self.rng, self.rate, bytearray()
        for byte in data:
            if rng.random() >= rate:
                out.append(byte)
                continue
            what = rng.randrange(3)
            if what == 0:
                flipped = byte ^ rng.randrange(1, 256)
                while to_board and flipped in REPL_CONTROL:
                    flipped = byte ^ rng.randrange(1, 256)
                out.append(flipped)
                self.damaged["flipped"] += 1
            elif what == 1:
                self.damaged["dropped"] += 1
            else:
                out += bytes((byte, byte))
                self.damaged["doubled"] += 1
        return bytes(out)

    def write(self, data: bytes) -> int:
        self.port.write(self._damage(data, to_board=True))
        return len(data)

    def read(self, size: int = 1) -> bytes:
        return self._damage(self.port.read(size), to_board=False)

    @property
    def in_waiting(self) -> int:
        return self.port.in_waiting

    @property
    def timeout(self) -> float | None:
        return self.port.timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self.port.timeout = value

    def close(self) -> None:
        self.port.close()


class LossyPort(NoisyPort):
    """Loses whole frames: the n-th frame written (to the board) or read (from it), counted from
    1, for each n in `lose_out` / `lose_in`."""

    def __init__(self, port: serial.SerialBase, lose_out: set[int], lose_in: set[int]) -> None:
        super().__init__(port, 0.0, 0)
        self.lose_out, self.lose_in = lose_out, lose_in
        self.written = self.read_frames = 0
        self._partial = b""

    def write(self, data: bytes) -> int:
        if data.endswith(FLAG):  # a frame (the REPL's keystrokes are not counted)
            self.written += 1
            if self.written in self.lose_out:
                return len(data)
        self.port.write(data)
        return len(data)

    def read(self, size: int = 1) -> bytes:
        out = bytearray()
        data = self._partial + self.port.read(size)
        *frames, self._partial = data.split(FLAG)
        for frame in frames:
            if frame:
                self.read_frames += 1
                if self.read_frames in self.lose_in:
                    continue
            out += frame + FLAG
        return bytes(out)
