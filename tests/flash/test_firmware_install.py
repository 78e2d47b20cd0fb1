"""`flash.py firmware` against the virtual board: install from empty, skip what matches, re-send
what differs, catch a corrupted write by the read-back hash."""
from __future__ import annotations

import os

import pytest

from firmware.board_main import VERSION
from host.board import VirtualBoard
from host.board_install import firmware_files
from host.flashing import FlashError
from host.flashing.board import connect
from host.flashing.firmware_install import DEFAULT_CHUNK, _chunk_code, install_firmware
from tests.flash.conftest import board_files, flash_py

pytestmark = pytest.mark.slow


class FlakySerial:
    """A serial port whose link corrupts the byte that ends `marker` in the data sent, the first
    `times` times the marker passes (wherever the writes split it)."""

    def __init__(self, port, marker: bytes, times: int = 1) -> None:
        object.__setattr__(self, "_port", port)
        object.__setattr__(self, "_marker", marker)
        object.__setattr__(self, "_times", times)
        object.__setattr__(self, "_tail", b"")
        object.__setattr__(self, "corrupted", 0)

    def write(self, data: bytes) -> int:
        data = bytes(data)
        stream = self._tail + data
        i = stream.find(self._marker)
        if self._times and i >= 0:
            at = i + len(self._marker) - 1 - len(self._tail)
            data = data[:at] + bytes([data[at] ^ 0x03]) + data[at + 1:]
            object.__setattr__(self, "_times", self._times - 1)
            object.__setattr__(self, "corrupted", self.corrupted + 1)
            stream = b""
        object.__setattr__(self, "_tail", stream[-len(self._marker):])
        return self._port.write(data)

    def __getattr__(self, name: str):
        return getattr(self._port, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._port, name, value)


def test_install_from_empty_then_the_firmware_answers(board: VirtualBoard) -> None:
    done = flash_py("firmware", "--port", board.port)
    assert done.returncode == 0, done.stderr
    expected = dict(firmware_files())
    assert board_files(board.flash_dir) == expected
    # progress: one plain line per file on stderr (not a terminal here)
    for path in expected:
        assert f"{path}: sent, verified ({len(expected[path])} bytes)" in done.stderr
    assert f"{len(expected)} files, {len(expected)} sent ({sum(map(len, expected.values()))} bytes" \
        in done.stdout
    assert f"{VERSION} answers on {board.port}" in done.stdout


def test_a_rerun_skips_every_file(board: VirtualBoard) -> None:
    files = firmware_files()
    with connect(board.port) as b:
        first = install_firmware(b, files)
    stamps = {p: os.stat(os.path.join(board.flash_dir, p)).st_mtime_ns for p in first.sent}
    with connect(board.port) as b:
        second = install_firmware(b, files)
    assert len(first.sent) == first.files and first.bytes_sent > 0
    assert second.sent == [] and second.bytes_sent == 0
    assert second.unchanged == [p for p, _ in files]
    assert {p: os.stat(os.path.join(board.flash_dir, p)).st_mtime_ns for p in first.sent} == stamps


def test_a_changed_file_is_sent_again(board: VirtualBoard) -> None:
    files = firmware_files()
    with connect(board.port) as b:
        install_firmware(b, files)
    target = os.path.join(board.flash_dir, "firmware", "loader.py")
    with open(target, "ab") as f:
        f.write(b"# changed on the board\n")
    os.remove(os.path.join(board.flash_dir, "shared_buffers", "buffers.py"))
    with connect(board.port) as b:
        report = install_firmware(b, files)
    assert sorted(report.sent) == ["firmware/loader.py", "shared_buffers/buffers.py"]
    assert board_files(board.flash_dir) == dict(files)


def test_a_corrupted_write_is_caught_by_the_read_back_hash_and_sent_again(board: VirtualBoard) -> None:
    with connect(board.port) as b:
        flaky = FlakySerial(b.transport.serial, b"class Runtime")
        b.transport.serial = flaky
        report = install_firmware(b, retries=1, compress=False)  # the marker travels as text
    assert flaky.corrupted == 1
    assert report.resent == 1 and "firmware/runtime.py" in report.sent
    assert board_files(board.flash_dir) == dict(firmware_files())


def test_a_corrupted_compressed_chunk_is_sent_again(board: VirtualBoard) -> None:
    runtime = dict(firmware_files())["firmware/runtime.py"]
    wire = _chunk_code(runtime[:DEFAULT_CHUNK], compress=True)
    assert wire.startswith("_z(")  # it travels deflated
    with connect(board.port) as b:
        flaky = FlakySerial(b.transport.serial, wire[40:60].encode())
        b.transport.serial = flaky
        report = install_firmware(b, retries=1)
    assert flaky.corrupted == 1
    assert report.resent == 1 and "firmware/runtime.py" in report.sent
    assert board_files(board.flash_dir) == dict(firmware_files())


def test_a_corrupted_write_without_retries_is_an_error(board: VirtualBoard) -> None:
    with connect(board.port) as b:
        b.transport.serial = FlakySerial(b.transport.serial, b"class Runtime")
        with pytest.raises(FlashError, match="verification failed: firmware/runtime.py: its "
                                             "read-back hash does not match"):
            install_firmware(b, retries=0, compress=False)
    # the corruption really reached the board's flash: the hash, not an exception, caught it
    with open(os.path.join(board.flash_dir, "firmware", "runtime.py"), "rb") as f:
        assert b"class Runtimf" in f.read()


def test_install_through_a_pca10040_sized_raw_paste_window(tmp_path) -> None:
    with VirtualBoard(str(tmp_path / "flash"), raw_paste_window=32, log=lambda _m: None) as small:
        with connect(small.port) as b:
            report = install_firmware(b)
        assert len(report.sent) == report.files
        assert board_files(small.flash_dir) == dict(firmware_files())


def test_install_through_the_plain_raw_repl(board: VirtualBoard) -> None:
    """A board without raw-paste: mpremote's transport falls back to the plain raw REPL (the
    switch it sets itself when a board answers that it has no raw-paste)."""
    with connect(board.port) as b:
        b.transport.use_raw_paste = False
        report = install_firmware(b)
    assert len(report.sent) == report.files
    assert board_files(board.flash_dir) == dict(firmware_files())
