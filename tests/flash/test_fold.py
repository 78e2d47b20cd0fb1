"""host/flashing/fold.py: the protocol's and the frame's constants folded into a board module before
mpy-cross."""
from __future__ import annotations

import pytest

from host.board_install import VIRTUAL_BOARD_MPY, firmware_files
from host.flashing.fold import fold, module_constants, on_board, protocol_constants
from host.flashing.mpy import precompiled
from shared_buffers import protocol
from shared_buffers import serial_frame as F

PROTOCOL = protocol_constants()
CONSTANTS = module_constants()

SOURCE = '''\
from shared_buffers.protocol import (
    OFF_USED, REQUEST,
    ack_name,
)
from shared_buffers import protocol as _P


def f(buf, obj):
    buf[OFF_USED] = REQUEST  # a comment stays
    obj.REQUEST = _P.PIN_COUNT
    return ack_name(buf[1]), g(REQUEST=1), _P.ACK_NAMES
'''


def test_every_const_number_of_the_protocol_modules_is_found_with_its_value() -> None:
    assert PROTOCOL["OFF_USED"] == protocol.OFF_USED == 49
    assert PROTOCOL["OFF_BLE_SCAN_TYPE"] == protocol.OFF_BLE_SCAN_TYPE  # protocol_world's
    assert "ACK_NAMES" not in PROTOCOL and "ack_name" not in PROTOCOL
    assert CONSTANTS["shared_buffers.protocol"] == PROTOCOL


def test_uses_become_literals_and_the_imports_lose_the_names() -> None:
    out = fold(SOURCE, CONSTANTS)
    assert out.count("\n") == SOURCE.count("\n")  # tracebacks keep their line numbers
    lines = out.splitlines()
    assert lines[0] == "from shared_buffers.protocol import ack_name"
    assert lines[1:4] == ["", "", ""]
    assert lines[4] == "from shared_buffers import protocol as _P"  # _P.ACK_NAMES is no number
    assert "    buf[49] = 2  # a comment stays" in lines
    assert "    obj.REQUEST = 18" in lines  # an attribute of another object is not the constant
    assert "g(REQUEST=1)" in out  # nor is a keyword


def test_a_module_alias_whose_every_use_folds_is_not_imported() -> None:
    out = fold("from shared_buffers import protocol as _P\nx = _P.PIN + _P.MESH\n", CONSTANTS)
    assert out == "pass\nx = 2 + 7\n"


def test_a_name_the_module_binds_itself_is_refused() -> None:
    with pytest.raises(ValueError, match="PIN"):
        fold("from shared_buffers.protocol import PIN\ndef f(PIN):\n    return PIN\n", CONSTANTS)


def test_the_board_modules_keep_no_protocol_import_but_the_host_s() -> None:
    for path, data in firmware_files():
        if path.startswith(("firmware/", "shared_buffers/")) and "protocol" not in path:
            out = fold(data.decode(), CONSTANTS, path[:-3].replace("/", "."))
            assert "import protocol as" not in out, path
            assert "from shared_buffers.protocol import (" not in out, path
            for name in ("HELLO", "INFO", "NAK", "RESUME", "CHALLENGE_SIZE"):  # the frame's numbers
                assert "F.%s" % name not in out and "\n%s = " % name not in out, (path, name)


def test_the_frame_s_numbers_are_its_own_not_the_protocol_s() -> None:
    # serial_frame's YIELD (a frame kind) is not the protocol's (an ack)
    source = ("from shared_buffers import serial_frame as F\nfrom shared_buffers.protocol import YIELD\n"
              "x = (F.YIELD, YIELD, F.Session)\n")
    out = fold(source, CONSTANTS)
    assert out.splitlines() == ["from shared_buffers import serial_frame as F", "pass",
                                "x = (%d, %d, F.Session)" % (F.YIELD, protocol.YIELD)]
    assert F.YIELD != protocol.YIELD


def test_serial_frame_loses_its_own_public_numbers_and_keeps_its_private_ones() -> None:
    with open(F.__file__, encoding="utf-8") as f:
        source = f.read()
    out = fold(source, CONSTANTS, "shared_buffers.serial_frame")
    assert out.count("\n") == source.count("\n")
    assert "\nFLAG = " not in out and "\nTEXT_CHUNK = " not in out
    assert "\n_RUN = const(8)" in out  # MicroPython inlines a private const() itself
    assert "range(0, len(text), %d)" % F.TEXT_CHUNK in out
    assert fold(source, CONSTANTS) != out  # only as the module itself, not as an importer


def test_the_micropython_flag_is_a_constant_on_the_board_line_for_line() -> None:
    source = ('import sys\n_MICROPYTHON = sys.implementation.name == "micropython"  # kept\n'
              '_HOST = (sys.implementation.name\n         != "micropython")\n'
              'PUBLIC = sys.implementation.name == "micropython"\n')
    assert on_board(source).splitlines() == [
        "import sys", "_MICROPYTHON = const(1)  # kept", "_HOST = const(0)", "",
        'PUBLIC = sys.implementation.name == "micropython"']  # a global another module may read


def test_the_board_s_modules_leave_out_the_const_import_line_for_line() -> None:
    source = ("try:\n    from micropython import const\nexcept ImportError:  # CPython\n"
              "    const = int\n_X = const(3)\n")
    out = on_board(source)
    assert out.splitlines() == ["pass", "", "", "", "_X = const(3)"]
    assert on_board("from micropython import const\n") == "from micropython import const\n"


def test_the_board_s_loader_holds_none_of_its_cpython_half() -> None:
    [(_, mpy)] = [f for f in precompiled([f for f in firmware_files() if f[0] == "firmware/loader.py"],
                                         VIRTUAL_BOARD_MPY)[0]]
    for name in (b"loader_cpython", b"_cpython", b"_MICROPYTHON", b"sdk_view", b"builtins_table"):
        assert name not in mpy, name
    assert b"load_app" in mpy  # the board's half is there (its withheld names are one string now)


def test_the_firmware_version_is_folded_so_that_a_boot_does_not_load_its_module() -> None:
    from firmware.version import VERSION
    source = "from firmware.version import VERSION\n\n\ndef info():\n    return VERSION\n"
    assert fold(source, CONSTANTS, "firmware.board_main") == "pass\n\n\ndef info():\n    return %r\n" % VERSION
