"""firmware/app_store.py inside the real MicroPython VM, with a writable /flash: the control
commands' results, the state they leave on flash, and what the loader accepts."""
from __future__ import annotations

import ast
import binascii
import json
from pathlib import Path

import pytest

from firmware import app_store as S
from tests.micropython_vm import run_micropython

APP = b"# microapp sdk=1.0 build=7\nimport microapp\n\ndef loop():\n    print('tick')\n" * 20
OTHER = APP.replace(b"tick", b"tock")


def on_board(flash: Path, body: str) -> list:
    """Run `body` in the VM with `s` an AppStore on /flash; each `out(x)` comes back as a value."""
    code, out, err = run_micropython(
        "from firmware.app_store import *\ns = AppStore()\ndef out(x):\n    print(repr(x))\n"
        + body, flash_dir=str(flash))
    assert (code, err) == (0, ""), err
    return [ast.literal_eval(line) for line in out.splitlines()]


def upload_all(data: bytes, slot: int = 0) -> str:
    """MicroPython lines uploading `data` in 256-byte chunks, printing the list of results."""
    return "d = %r\nout([s.upload(%d, o, d[o:o + 256]) for o in range(0, len(d), 256)])\n" % (
        data, slot)


def crc(data: bytes) -> int:
    return binascii.crc_hqx(data, 0xFFFF)


@pytest.fixture
def flash(tmp_path: Path) -> Path:
    return tmp_path


def test_crc16_on_the_board_is_crc16_ccitt(flash: Path) -> None:
    data = bytes(range(256)) * 3 + b"123456789"
    assert on_board(flash, "out(crc16_ccitt(%r))\nout(crc16_ccitt(b'123456789'))" % data) == [
        crc(data), 0x29B1]  # 0x29B1: the CRC-16/CCITT-FALSE check value


def test_info_reports_limits_versions_and_an_empty_slot(flash: Path) -> None:
    [info] = on_board(flash, "out(s.info())")
    assert info["max_apps"] == 1 and info["max_app_size"] == 16384
    assert info["max_chunk_size"] == 256 and info["sdk_version"] == S.SDK_VERSION
    assert info["firmware_version"] == "microapp-firmware 0.1"
    assert info["apps"] == [{"slot": 0, "stored": 0, "validated": False, "enabled": False,
                             "size": 0, "crc": 0, "sdk": None, "build": 0, "did_reboot": False,
                             "exceeded_call_duration": False, "faulted": False}]


def test_upload_same_data_is_no_change_and_other_data_is_write_disabled(flash: Path) -> None:
    results, again, other, partial_same, unaligned, big, far, bad_slot, after = on_board(
        flash, upload_all(APP) + f"""
out(s.upload(0, 0, d[:256]))
out(s.upload(0, 0, {OTHER[:256]!r}))
out(s.upload(0, 256, d[256:260]))
out(s.upload(0, 2, d[2:6]))
out(s.upload(0, 0, b'x' * 257))
out(s.upload(0, 16384, b'abcd'))
out(s.upload(1, 0, b'abcd'))
out(s.slot_info(0)['stored'])
""")
    assert results == [S.SUCCESS] * len(range(0, len(APP), 256))
    assert again == S.SUCCESS_NO_CHANGE and partial_same == S.SUCCESS_NO_CHANGE
    assert other == S.ERR_WRITE_DISABLED
    assert unaligned == S.ERR_WRONG_PARAMETER and big == S.ERR_WRONG_PARAMETER
    assert far == S.ERR_NO_SPACE and bad_slot == S.ERR_WRONG_PARAMETER
    assert after == len(APP)
    assert (flash / "apps" / "0.app").read_bytes() == APP  # the refused writes changed nothing


def test_out_of_order_chunks_fill_erased_gaps(flash: Path) -> None:
    data = APP[:1024]
    [first, gap, second, validated] = on_board(flash, f"""
d = {data!r}
out(s.upload(0, 512, d[512:768]))
out(s._read(0, 0, 512) == b'\\xff' * 512)
out([s.upload(0, o, d[o:o + 256]) for o in (0, 256, 768)])
out(s.validate(0, {len(data)}, {crc(data)}))
""")
    assert (first, gap, second, validated) == (S.SUCCESS, True, [S.SUCCESS] * 3, S.SUCCESS)


def test_validate_checks_size_and_crc(flash: Path) -> None:
    out = on_board(flash, upload_all(APP) + f"""
out(s.validate(0, {len(APP)}, {crc(APP) ^ 1}))
out(s.slot_info(0)['validated'])
out(s.enable(0))
out(s.validate(0, {len(APP) + 4}, {crc(APP)}))
out(s.validate(0, 16388, 0))
out(s.validate(0, {len(APP)}, {crc(APP)}))
out(s.slot_info(0))
""")
    _, bad_crc, validated, enable_unvalidated, too_long, too_big, good, slot = out
    assert bad_crc == S.ERR_CRC_MISMATCH and validated is False
    assert enable_unvalidated == S.ERR_WRONG_STATE
    assert too_long == S.ERR_WRONG_STATE and too_big == S.ERR_NO_SPACE
    assert good == S.SUCCESS
    assert slot["validated"] and not slot["enabled"]
    assert (slot["size"], slot["crc"], slot["sdk"], slot["build"]) == (len(APP), crc(APP), (1, 0), 7)


def test_enable_needs_a_compatible_sdk_and_clears_fault_flags(flash: Path) -> None:
    newer = APP.replace(b"sdk=1.0", b"sdk=1.9", 1)
    out = on_board(flash, upload_all(newer) + f"""
out(s.validate(0, {len(newer)}, {crc(newer)}))
out(s.enable(0))
out(s.remove(0))
""" + upload_all(APP) + f"""
out(s.validate(0, {len(APP)}, {crc(APP)}))
out(s.enable(0))
out(s.enabled_app()[0])
out(s.set_flag(0, 'did_reboot'))
out(s.set_flag(0, 'exceeded_call_duration'))
out(s.enabled_app())
out(s.slot_info(0))
out(s.enable(0))
out(s.slot_info(0))
out(s.enabled_app() == (0, {APP.decode()!r}))
""")
    (_, validated_newer, refused, removed, _, validated, enabled, running, flag1, flag2, blocked,
     flagged, re_enabled, cleared, loads) = out
    assert validated_newer == S.SUCCESS and refused == S.ERR_SDK_UNSUPPORTED
    assert removed == S.SUCCESS and validated == S.SUCCESS and enabled == S.SUCCESS
    assert running == 0 and flag1 == flag2 == S.SUCCESS
    assert blocked is None  # a flagged app is not loaded
    assert flagged["did_reboot"] and flagged["exceeded_call_duration"] and flagged["enabled"]
    assert re_enabled == S.SUCCESS
    assert not (cleared["did_reboot"] or cleared["exceeded_call_duration"] or cleared["faulted"])
    assert loads is True


def test_an_app_without_header_validates_but_does_not_enable(flash: Path) -> None:
    bare = b"def loop():\n    pass\n"
    *_, validated, enabled = on_board(flash, upload_all(bare) + f"""
out(s.validate(0, {len(bare)}, {crc(bare)}))
out(s.enable(0))
""")
    assert (validated, enabled) == (S.SUCCESS, S.ERR_SDK_UNSUPPORTED)


def test_disable_remove_and_any_write_clears_validation(flash: Path) -> None:
    short = APP[:512]
    out = on_board(flash, upload_all(short) + f"""
out(s.validate(0, 512, {crc(short)}))
out(s.enable(0))
out(s.disable(0))
out(s.disable(0))
out(s.enabled_app())
out(s.enable(0))
out(s.upload(0, 512, {APP[512:768]!r}))
out(s.slot_info(0))
out(s.enabled_app())
out(s.remove(0))
out(s.remove(0))
out(s.slot_info(0))
""")
    (_, _, _, disabled, again, none_disabled, enabled, appended, after_write, none_after_write,
     removed, removed_again, empty) = out
    assert (disabled, again, none_disabled) == (S.SUCCESS, S.SUCCESS_NO_CHANGE, None)
    assert enabled == S.SUCCESS and appended == S.SUCCESS
    assert not after_write["validated"] and not after_write["enabled"]
    assert none_after_write is None
    assert (removed, removed_again) == (S.SUCCESS, S.SUCCESS_NO_CHANGE)
    assert empty["stored"] == 0 and not empty["validated"]
    assert sorted(p.name for p in (flash / "apps").iterdir()) == []


def test_the_loader_refuses_bytes_that_no_longer_match_the_crc(flash: Path) -> None:
    [*_, enabled, loaded] = on_board(flash, upload_all(APP) + f"""
out(s.validate(0, {len(APP)}, {crc(APP)}))
out(s.enable(0))
out(enabled_app()[0])
""")
    assert (enabled, loaded) == (S.SUCCESS, 0)
    app = flash / "apps" / "0.app"
    app.write_bytes(app.read_bytes().replace(b"tick", b"tack", 1))  # a bit flip on flash
    assert on_board(flash, "out(enabled_app())\nout(s.slot_info(0)['enabled'])") == [None, True]


def test_metadata_is_replaced_whole(flash: Path) -> None:
    """What a reset in the middle of a metadata write leaves (a half-written temp file) is
    ignored: the slot keeps its previous state."""
    on_board(flash, upload_all(APP) + f"s.validate(0, {len(APP)}, {crc(APP)})\ns.enable(0)\n")
    meta = json.loads((flash / "apps" / "0.meta").read_text())
    assert meta["enabled"] and meta["validated"]
    (flash / "apps" / "0.tmp").write_text('{"enabled": false, "valid')
    assert on_board(flash, "out(enabled_app()[0])") == [0]
