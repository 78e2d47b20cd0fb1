"""A UART-paced line in front of a serial port: a pty whose bytes reach the port, and the port's
bytes reach the pty, no faster than `baud` allows (10 bits a byte: start, 8 data, stop), each way
on its own, as on a real UART. For benchmarks of what a user waits for on a real board.

`python -m benchmarks.paced_line PORT BAUD` runs one in a process of its own (printing its pty's
path, until stdin closes), so that its timing does not share an interpreter lock with the host it
measures; paced_process() starts that."""
from __future__ import annotations

import contextlib
import os
import pty
import select
import subprocess
import sys
import threading
import time
import tty
from typing import Iterator


_BURST = 16  # bytes


class _Direction:
    """Bytes queued one way; each is delivered when its line time has passed."""

    def __init__(self, byte_s: float) -> None:
        self.byte_s = byte_s
        self.queue = bytearray()
        self.free_at = 0.0  # when the last queued byte has finished travelling

    def put(self, data: bytes, now: float) -> None:
        if not self.queue:
            self.free_at = max(self.free_at, now)
        self.queue += data

    def due(self, now: float) -> int:
        """How many queued bytes have arrived by now."""
        start = self.free_at  # when the first queued byte started
        return min(len(self.queue), int((now - start) / self.byte_s))

    def take(self, n: int) -> bytes:
        out = bytes(self.queue[:n])
        del self.queue[:n]
        self.free_at += n * self.byte_s
        return out

    def wait_s(self, now: float) -> float | None:
        """Until the next delivery: when all queued bytes have arrived, or a UART FIFO's worth
        (_BURST) of them: a receiver acts on a frame's last byte, so nothing is later than on a
        line that delivers byte by byte, and the relay does not wake for every byte."""
        if not self.queue:
            return None
        n = min(len(self.queue), _BURST)
        return max(0.0, self.free_at + n * self.byte_s - now)


class PacedLine:
    """`PacedLine(port_path, 115200).port` is a pty path to open instead of port_path."""

    def __init__(self, target: str, baud: int) -> None:
        self._target = os.open(target, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self._target)
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        byte_s = 10.0 / baud
        self._to_board, self._to_host = _Direction(byte_s), _Direction(byte_s)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._relay, name="paced-line", daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        ends = ((self._master, self._target, self._to_board), (self._target, self._master, self._to_host))
        while True:
            now = time.monotonic()
            waits = [w for _, _, d in ends if (w := d.wait_s(now)) is not None]
            readable = select.select([self._master, self._target, self._stop_r], [], [],
                                     min(waits) if waits else None)[0]
            if self._stop_r in readable:
                return
            now = time.monotonic()
            for src, dst, direction in ends:
                if src in readable:
                    try:
                        direction.put(os.read(src, 65536), now)
                    except (BlockingIOError, OSError):
                        pass
                n = direction.due(now)
                if n and (n == len(direction.queue) or n >= _BURST):
                    try:
                        written = os.write(dst, bytes(direction.queue[:n]))
                    except (BlockingIOError, OSError):
                        written = 0
                    direction.take(written)

    def close(self) -> None:
        os.write(self._stop_w, b"!")
        self._thread.join(1)
        for fd in (self._master, self._slave, self._target, self._stop_r, self._stop_w):
            os.close(fd)

    def __enter__(self) -> PacedLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def paced_process(target: str, baud: int) -> Iterator[str]:
    """A PacedLine in a child process; yields its pty's path."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.paced_line", target, str(baud)],
                             cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(5)


if __name__ == "__main__":
    with PacedLine(sys.argv[1], int(sys.argv[2])) as line:
        print(line.port, flush=True)
        sys.stdin.read()
