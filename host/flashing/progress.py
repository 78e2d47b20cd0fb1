"""The progress of a transfer, in bytes and files, on stderr: a bar redrawn in place on a
terminal, one plain line per file otherwise (logs, CI)."""
from __future__ import annotations

import sys
from typing import TextIO

_BAR = 24


class Progress:
    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.total_bytes = self.done_bytes = 0
        self.total_files = self.done_files = 0
        self.current = ""

    def begin(self, total_bytes: int, total_files: int) -> None:
        self.total_bytes, self.total_files = total_bytes, total_files
        self._draw()

    def advance(self, n: int) -> None:
        self.done_bytes += n
        self._draw()

    def rewind_to(self, done_bytes: int) -> None:
        """A file is sent again: back to where it started."""
        self.done_bytes = done_bytes
        self._draw()

    def start_file(self, name: str) -> None:
        self.current = name
        self._draw()

    def file_done(self, name: str, size: int, what: str) -> None:
        self.done_files += 1
        if self.tty:
            self._draw()
        else:
            size_text = f" ({size} bytes)" if size else ""
            self._line(f"{self.label}: [{self.done_files}/{self.total_files}] {name}: {what}{size_text}")

    def note(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self._line(f"{self.label}: {text}")
        self._draw()

    def end(self) -> None:
        if self.tty:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.tty:
            return
        total = self.total_bytes or 1
        filled = _BAR * min(self.done_bytes, total) // total if self.total_bytes else _BAR
        self.stream.write(
            f"\r\x1b[K{self.label} [{'#' * filled}{'-' * (_BAR - filled)}] "
            f"{self.done_bytes / 1024:.1f}/{self.total_bytes / 1024:.1f} KiB  "
            f"{self.done_files}/{self.total_files} files  {self.current}")
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
