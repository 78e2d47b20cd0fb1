"""`flash.py firmware` against the virtual board: install from empty, skip what matches, re-send
what differs, catch a corrupted write by the read-back hash."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from firmware.version import VERSION
from host.board import VirtualBoard
from host.board_install import firmware_files
from host.flashing import FlashError
from host.flashing.board import connect
from host.flashing.firmware_install import DEFAULT_CHUNK, _chunk_code, install_firmware
from tests.flash.conftest import assert_one_line_error, board_files, expected_files, flash_py

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
    expected = expected_files()
    assert board_files(board.flash_dir) == expected
    assert "firmware/runtime.mpy" in expected and "main.py" in expected  # bytecode, main.py as source
    # progress: one plain line per file on stderr (not a terminal here)
    for path in expected:
        assert f"{path}: sent, verified ({len(expected[path])} bytes)" in done.stderr
    assert f"{len(expected)} files, precompiled (.mpy), {len(expected)} sent ({sum(map(len, expected.values()))} bytes" \
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
    assert second.unchanged == list(expected_files())
    assert {p: os.stat(os.path.join(board.flash_dir, p)).st_mtime_ns for p in first.sent} == stamps


def test_a_changed_file_is_sent_again(board: VirtualBoard) -> None:
    files = firmware_files()
    with connect(board.port) as b:
        install_firmware(b, files, source=True)
    target = os.path.join(board.flash_dir, "firmware", "loader.py")
    with open(target, "ab") as f:
        f.write(b"# changed on the board\n")
    os.remove(os.path.join(board.flash_dir, "shared_buffers", "buffers.py"))
    with connect(board.port) as b:
        report = install_firmware(b, files, source=True)
    assert sorted(report.sent) == ["firmware/loader.py", "shared_buffers/buffers.py"]
    assert board_files(board.flash_dir) == dict(files)


def test_precompiled_then_source_then_precompiled_leaves_one_form_of_each_module(board: VirtualBoard) -> None:
    with connect(board.port) as b:
        install_firmware(b)
        to_source = install_firmware(b, source=True)
        assert board_files(board.flash_dir) == expected_files(source=True)
        back = install_firmware(b)
    assert "firmware/runtime.mpy" in to_source.removed and "main.py" not in to_source.removed
    assert "firmware/runtime.py" in back.removed
    assert board_files(board.flash_dir) == expected_files()
    with connect(board.port) as b:  # and the firmware runs from its bytecode
        assert b.restart_firmware()[4] == VERSION


def test_a_board_whose_bytecode_mpy_cross_cannot_emit_gets_one_line(board: VirtualBoard, monkeypatch,
                                                                   capsys) -> None:
    # A board from the future, bytecode v7.0: what the board reports is what the tool goes by.
    from host.flashing import cli, firmware_install
    monkeypatch.setattr(firmware_install, "board_bytecode", lambda _board: 7)
    assert cli.main(["firmware", "--port", board.port]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "bytecode v7.0" in lines[0] and "v6.3" in lines[0], lines
    assert "--source" in lines[0]
    assert not os.path.exists(os.path.join(board.flash_dir, "firmware"))  # nothing was written


def test_a_micropython_without_what_the_firmware_needs_gets_one_line(board: VirtualBoard, monkeypatch,
                                                                     capsys) -> None:
    # The virtual board has sys.stdin.buffer and json (checked on its real VM: the install
    # above passes); a feature it lacks stands for them as a PCA10040 build's defaults would.
    from host.flashing import cli, firmware_install
    monkeypatch.setattr(firmware_install, "REQUIRED", firmware_install.REQUIRED + (
        ("sys.stdin.nosuch", "sys.stdin.nosuch", "MICROPY_PY_NOSUCH"),
        ("nosuchmodule", "import nosuchmodule", "MICROPY_PY_NOSUCHMODULE")))
    assert cli.main(["firmware", "--port", board.port]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "lacks sys.stdin.nosuch and nosuchmodule" in lines[0]
    assert '-DMICROPY_PY_NOSUCH=1 -DMICROPY_PY_NOSUCHMODULE=1"' in lines[0]
    assert "stdin.buffer" not in lines[0] and "json" not in lines[0]  # the board has those
    assert not os.path.exists(os.path.join(board.flash_dir, "firmware"))  # nothing was written
