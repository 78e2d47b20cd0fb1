"""A serial port wrapper that damages the line both ways: a real port (a pty to the virtual board)
whose bytes are flipped, dropped or duplicated on their way, or whose chosen frames are lost."""
from __future__ import annotations

import random

import serial

REPL_CONTROL = range(0x01, 0x06)
FLAG = b"\x7e"


class NoisyPort:
    """Each byte, either way, is with probability `rate` flipped (XOR a random value), dropped,
    sent twice, preceded by 1-4 bytes of garbage, or the start of a burst (it and the next 2-8
    bytes flipped). Nothing the noise makes on the way to the board is a REPL control byte
    (Ctrl-A..E): a MicroPython board takes those as commands by design (a Ctrl-C from the line
    breaks in as a user's would, and recovering from that is the watchdog's job, tested on its
    own). `to_board=False` leaves that direction clean (a line bad one way)."""

    KINDS = ("flipped", "dropped", "doubled", "garbage", "burst")

    def __init__(self, port: serial.SerialBase, rate: float, seed: int, to_board: bool = True) -> None:
        self.port = port
        self.rate = rate
        self.rng = random.Random(seed)
        self.noisy_to_board = to_board
        self.damaged = dict.fromkeys(self.KINDS, 0)
        self._burst = 0

    def _flip(self, byte: int, to_board: bool) -> int:
        flipped = byte ^ self.rng.randrange(1, 256)
        while to_board and flipped in REPL_CONTROL:
            flipped = byte ^ self.rng.randrange(1, 256)
        return flipped

    def _damage(self, data: bytes, to_board: bool) -> bytes:
        if to_board and not self.noisy_to_board:
            return data
        rng, rate, out = self.rng, self.rate, bytearray()
        for byte in data:
            if self._burst:
                self._burst -= 1
                out.append(self._flip(byte, to_board))
                continue
            if rng.random() >= rate:
                out.append(byte)
                continue
            what = self.KINDS[rng.randrange(5)]
            self.damaged[what] += 1
            if what == "flipped":
                out.append(self._flip(byte, to_board))
            elif what == "doubled":
                out += bytes((byte, byte))
            elif what == "garbage":
                out += bytes(self._flip(0, to_board) for _ in range(rng.randrange(1, 5)))
                out.append(byte)
            elif what == "burst":
                self._burst = rng.randrange(2, 9)
                out.append(self._flip(byte, to_board))
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


class ReplayPort(NoisyPort):
    """Replays old frames both ways: after a frame written to the board, with probability `rate`
    an earlier one of the host's frames follows it; after bytes read from the board, with the
    same probability an earlier frame of the board's is put before them. Each replayed frame is
    whole and checks: only the sequence rules can keep it from being handled again."""

    def __init__(self, port: serial.SerialBase, rate: float, seed: int) -> None:
        super().__init__(port, 0.0, seed)
        self.replay_rate = rate
        self.sent: list[bytes] = []
        self.heard: list[bytes] = []
        self.replayed = {"to_board": 0, "to_host": 0}
        self._partial = b""

    def write(self, data: bytes) -> int:
        self.port.write(data)
        if data.endswith(FLAG):
            if len(self.sent) > 2 and self.rng.random() < self.replay_rate:
                self.port.write(FLAG + self.rng.choice(self.sent[:-2]) + FLAG)
                self.replayed["to_board"] += 1
            self.sent.append(data.strip(FLAG))
        return len(data)

    def read(self, size: int = 1) -> bytes:
        data = self.port.read(size)
        *frames, self._partial = (self._partial + data).split(FLAG)
        self.heard += [f for f in frames if len(f) > 1]
        if data and len(self.heard) > 2 and self.rng.random() < self.replay_rate:
            self.replayed["to_host"] += 1
            return FLAG + self.rng.choice(self.heard[:-2]) + FLAG + data
        return data


class KeyLossPort(NoisyPort):
    """A NoisyPort that also loses the first `lost` Ctrl-D keystrokes written (the soft reset):
    the board stays at its REPL until the host tries again."""

    def __init__(self, port: serial.SerialBase, rate: float, seed: int, lost: int = 1) -> None:
        super().__init__(port, rate, seed)
        self.lost = lost

    def write(self, data: bytes) -> int:
        if data == b"\x04" and self.lost:
            self.lost -= 1
            return len(data)
        return super().write(data)
