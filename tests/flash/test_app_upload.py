"""`flash.py app` and the slot commands against the virtual board running the firmware: the
Crownstone upload sequence, its refusals, an interrupted upload, and the host driving the
uploaded app over the serial link."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from firmware import app_store as S
from host.board import VirtualBoard
from host.flashing import FlashError
from host.flashing.app_image import build_image, crc16_ccitt
from host.flashing.apps import AppSlots, upload_app
from host.flashing.board import connect
from host.flashing.firmware_install import install_firmware
from host.links.serial_link import BoardError, SerialLink
from host.simulator import Simulation
from tests.flash.conftest import BOARD_MPY, ROOT, assert_one_line_error, flash_py
from tests.flash.test_firmware_install import FlakySerial

pytestmark = pytest.mark.slow

HELLO = str(ROOT / "examples" / "hello.py")
COUNTER = b"""import microapp

n = 0


def loop():
    global n
    n += 1
    print("counter", n)
"""


@pytest.fixture
def firmware_board(board: VirtualBoard) -> Iterator[VirtualBoard]:
    """A virtual board with the firmware installed (and no app)."""
    with connect(board.port) as b:
        install_firmware(b)
    yield board


def chunks_of(image: bytes) -> list[tuple[int, bytes]]:
    return [(o, image[o:o + 256]) for o in range(0, len(image), 256)]


def run_on_board(port: str, ticks: int = 3) -> list[str]:
    """Drive the board's installed app over the serial link for `ticks` ticks; its log lines."""
    logs: list[str] = []
    with SerialLink(port) as link:
        Simulation(None, link=link, on_log=lambda _t, text: logs.append(text)).run(ticks)
    return logs


def test_app_upload_then_the_host_drives_it_over_the_serial_link(firmware_board: VirtualBoard) -> None:
    done = flash_py("app", HELLO, "--port", firmware_board.port)
    assert done.returncode == 0, done.stderr
    with open(HELLO, "rb") as f:
        image = build_image(f.read(), BOARD_MPY)
    assert f"slot 0: uploaded {len(image)} bytes" in done.stdout
    assert "slot 0: validated and enabled" in done.stdout
    assert "the firmware runs it" in done.stdout
    with open(os.path.join(firmware_board.flash_dir, "apps", "0.app"), "rb") as f:
        assert f.read() == image
    logs = run_on_board(firmware_board.port)
    assert any(line.startswith("hello from setup") for line in logs), logs
    assert "hello 1" in logs and "hello 2" in logs


def test_the_same_app_again_answers_no_change(firmware_board: VirtualBoard) -> None:
    assert flash_py("app", HELLO, "--port", firmware_board.port).returncode == 0
    done = flash_py("app", HELLO, "--port", firmware_board.port)
    assert done.returncode == 0, done.stderr
    assert "slot 0: no change, the same app is already there" in done.stdout
    assert "removed" not in done.stdout


def test_a_different_app_is_refused_until_removed(firmware_board: VirtualBoard, tmp_path) -> None:
    with connect(firmware_board.port) as b:
        slots = AppSlots(b)
        first = upload_app(slots, COUNTER)
        other = build_image(COUNTER.replace(b"counter", b"COUNTER"))
        assert slots.upload(0, 0, other[:256]) == S.ERR_WRITE_DISABLED
        assert slots.info()["apps"][0]["enabled"]  # the refused write changed nothing
        assert slots.remove(0) == S.SUCCESS
        assert slots.upload(0, 0, other[:256]) == S.SUCCESS
    assert first.written > 0 and not first.removed
    # the CLI does the same: it removes what differs, then uploads
    app = tmp_path / "other.py"
    app.write_bytes(COUNTER.replace(b"counter", b"other"))
    done = flash_py("app", str(app), "--port", firmware_board.port)
    assert done.returncode == 0, done.stderr
    assert "slot 0: removed the other app that was there" in done.stdout
    assert "other 1" in run_on_board(firmware_board.port)


def test_validate_with_a_bad_crc_is_refused(firmware_board: VirtualBoard) -> None:
    image = build_image(COUNTER)
    with connect(firmware_board.port) as b:
        slots = AppSlots(b)
        assert slots.upload_many(0, chunks_of(image)) == [S.SUCCESS] * len(chunks_of(image))
        assert slots.validate(0, len(image), crc16_ccitt(image) ^ 0x0100) == S.ERR_CRC_MISMATCH
        assert slots.enable(0) == S.ERR_WRONG_STATE
        assert slots.validate(0, len(image), crc16_ccitt(image)) == S.SUCCESS


def test_a_corrupted_chunk_fails_validation(firmware_board: VirtualBoard) -> None:
    with connect(firmware_board.port) as b:
        b.transport.serial = FlakySerial(b.transport.serial, b"counter")
        with pytest.raises(FlashError, match="validation failed: the app in slot 0 does not match"):
            upload_app(AppSlots(b), COUNTER)
    with open(os.path.join(firmware_board.flash_dir, "apps", "0.app"), "rb") as f:
        assert b"counteq" in f.read()  # the corruption landed; nothing is enabled
    with connect(firmware_board.port) as b:
        assert not AppSlots(b).info()["apps"][0]["enabled"]


def test_enable_disable_remove_and_info(firmware_board: VirtualBoard) -> None:
    port = firmware_board.port
    assert flash_py("app", HELLO, "--port", port).returncode == 0
    done = flash_py("disable", "--port", port)
    assert done.returncode == 0 and "slot 0: disabled" in done.stdout, done.stderr
    with pytest.raises(BoardError, match="does not load"):
        run_on_board(port)
    info = flash_py("info", "--port", port)
    assert info.returncode == 0 and "slot 0:" in info.stdout and "disabled, validated" in info.stdout
    done = flash_py("enable", "--port", port)
    assert done.returncode == 0 and "slot 0: enabled" in done.stdout, done.stderr
    assert "hello 1" in run_on_board(port)
    done = flash_py("remove", "--port", port)
    assert done.returncode == 0 and "slot 0: removed" in done.stdout, done.stderr
    assert "slot 0: empty" in flash_py("info", "--port", port).stdout
    assert_one_line_error(flash_py("enable", "--port", port), "holds no validated app")
    assert_one_line_error(flash_py("enable", "--port", port, "--slot", "3"), "no slot 3")


def test_an_upload_interrupted_by_a_reset_leaves_nothing_enabled(firmware_board: VirtualBoard) -> None:
    image = build_image(COUNTER * 8)
    with connect(firmware_board.port) as b:
        slots = AppSlots(b)
        upload_app(slots, COUNTER)  # an app runs...
        assert slots.remove(0) == S.SUCCESS  # ...and is replaced: remove, then upload
        half = chunks_of(image)[:len(chunks_of(image)) // 2]
        assert slots.upload_many(0, half) == [S.SUCCESS] * len(half)
    firmware_board.hard_reset()  # the reset button, in the middle of the upload
    with pytest.raises(BoardError, match="does not load"):
        run_on_board(firmware_board.port)
    with connect(firmware_board.port) as b:
        slot = AppSlots(b).info()["apps"][0]
    assert slot["stored"] == len(half) * 256
    assert not slot["validated"] and not slot["enabled"]


def test_wrong_firmware_version_and_no_firmware(board: VirtualBoard) -> None:
    assert_one_line_error(flash_py("app", HELLO, "--port", board.port), "no microapp firmware",
                          "flash.py firmware")
    with connect(board.port) as b:
        install_firmware(b, source=True)
    main = os.path.join(board.flash_dir, "firmware", "version.py")
    with open(main, encoding="utf-8") as f:
        text = f.read()
    with open(main, "w", encoding="utf-8") as f:
        f.write(text.replace('VERSION = "microapp-firmware', 'VERSION = "old-firmware', 1))
    assert_one_line_error(flash_py("app", HELLO, "--port", board.port), "wrong firmware version",
                          "old-firmware")


def test_an_app_too_large_for_a_slot_is_refused(firmware_board: VirtualBoard, tmp_path) -> None:
    app = tmp_path / "big.py"
    app.write_bytes(b"def loop():\n    pass\n" + b'PADDING = "%s"\n' % (b"padding " * 2100))
    assert_one_line_error(flash_py("app", str(app), "--port", firmware_board.port),
                          "not enough space", "16384")
