"""`flash.py app` stores the app precompiled (issue 11, item 3): a ROMFS image of its .mpy
that the firmware runs in place, nothing compiled on the board; `--source` stores the source.
Both forms run alike: the same log, the same contained builtins, the same line numbers."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from firmware import app_store as S
from host.board import VirtualBoard
from host.board_install import RUN_APP_NAME, finish_run, prepare_board
from host.flashing.app_image import build_image, crc16_ccitt
from host.flashing.apps import AppSlots, app_bytecode
from host.flashing.board import connect
from host.flashing.firmware_install import install_firmware, install_firmware_romfs
from host.flashing.mpy import compile_source, compiler_for
from host.flashing.romfs import romfs_image
from host.links.serial_link import BoardError
from tests.flash.conftest import BOARD_MPY, flash_py
from tests.flash.test_app_upload import chunks_of, run_on_board

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# setup() makes 5 requests, more than an entry allows (bluenet's 4): flash.py app runs it over
# two ticks to its end (one tick left the board's run flag set: the app was refused at boot)
CONTAINED = b"""from microapp import *


def setup():
    print("form", __name__)
    for name, call in (("open", lambda: open("apps/0.app", "w")), ("globals", lambda: globals()),
                       ("exec", lambda: exec("x = 1")), ("import os", lambda: __import__("os"))):
        try:
            call()
            print(name, "allowed")
        except Exception as e:
            # the error names what was refused, as the builtin's absence would ("name 'open'
            # isn't defined"; the whole message is longer than a LOG's 43 bytes)
            print(name, "refused", type(e).__name__, "'%s'" % name.split()[-1] in str(e))


def loop():
    pass
"""

# a fault at load on line 6 of the file, line 7 of the app as the board stores it (behind the
# header line that tools/flash.py adds): both forms say line 7
FAULTY = b"""from microapp import *

X = 1


raise ValueError("boom")
"""


@pytest.fixture
def firmware_board(board: VirtualBoard) -> Iterator[VirtualBoard]:
    with connect(board.port) as b:
        install_firmware(b)
    yield board


def stored(board: VirtualBoard) -> bytes:
    with open(os.path.join(board.flash_dir, "apps", "0.app"), "rb") as f:
        return f.read()


def upload(board: VirtualBoard, app, *options: str):
    return flash_py("app", str(app), "--port", board.port, *options)


def test_the_app_is_stored_precompiled_and_runs_contained(firmware_board: VirtualBoard,
                                                           tmp_path) -> None:
    app = tmp_path / "contained.py"
    app.write_bytes(CONTAINED)
    done = upload(firmware_board, app)
    assert done.returncode == 0, done.stderr
    assert "as precompiled (.mpy)" in done.stdout
    image = stored(firmware_board)
    assert image == build_image(CONTAINED, BOARD_MPY)
    header, _, body = image.partition(b"\n")
    assert header.startswith(S.HEADER_PREFIX) and body.startswith(b"\xd2\xcd\x31")  # ROMFS
    assert b"def setup" not in body and b"print(" not in body  # bytecode, not source
    precompiled = run_on_board(firmware_board.port, ticks=2)
    assert "form microapp_app" in precompiled
    assert [line for line in precompiled if " refused " in line or " allowed" in line] == [
        "open refused NameError True", "globals refused NameError True",
        "exec refused NameError True", "import os refused ImportError True"], precompiled

    done = upload(firmware_board, app, "--source")  # the same app as source: the same behaviour
    assert done.returncode == 0, done.stderr
    assert "as source" in done.stdout and "removed the other app" in done.stdout
    assert stored(firmware_board) == build_image(CONTAINED)
    assert run_on_board(firmware_board.port, ticks=2) == precompiled


def test_a_fault_names_the_same_line_in_both_forms(firmware_board: VirtualBoard, tmp_path) -> None:
    app = tmp_path / "faulty.py"
    app.write_bytes(FAULTY)
    errors = []
    for options in ((), ("--source",)):
        done = upload(firmware_board, app, *options)
        assert done.returncode == 2, (done.stdout, done.stderr)
        errors.append(done.stderr.strip().splitlines()[-1])
    assert "ValueError: boom (line 7)" in errors[0], errors
    assert errors[0] == errors[1]


def test_an_image_without_the_sdks_first_line_does_not_load(firmware_board: VirtualBoard) -> None:
    """An .mpy that tools/flash.py did not build runs without the app's namespace: refused."""
    code = compile_source(compiler_for(BOARD_MPY), "<string>", b"def loop():\n    pass\n")
    image = b"%ssdk=1.0 build=0\n" % S.HEADER_PREFIX + romfs_image([("microapp_app.mpy", code)])
    with connect(firmware_board.port) as b:
        slots = AppSlots(b)
        assert slots.upload_many(0, chunks_of(image)) == [S.SUCCESS] * len(chunks_of(image))
        assert slots.validate(0, len(image), crc16_ccitt(image)) == S.SUCCESS
        assert slots.enable(0) == S.SUCCESS
    with pytest.raises(BoardError, match="does not start with the SDK's first line"):
        run_on_board(firmware_board.port)


def big_app(functions: int) -> bytes:
    """An app of `functions` small functions (about 90 bytes of source each), setup() calls
    them all through a chain."""
    parts = [b"from microapp import *\n\n"]
    for i in range(functions):
        parts.append(b"def f%d(x):\n    if x > %d:\n        return x * %d + f%d(x - 1)\n"
                     b"    return [x, %d, 'v%d']\n\n" % (i, i, i, max(i - 1, 0), i, i))
    parts.append(b"def setup():\n    print('big', f%d(3))\n\n\ndef loop():\n    pass\n"
                 % (functions - 1))
    return b"".join(parts)


def test_an_app_the_board_cannot_compile_runs_precompiled(tmp_path) -> None:
    """The point of precompiling: the board's compiler needs far more heap than the bytecode it
    makes. A 9 KB app runs precompiled on a PCA10040 (firmware in ROMFS); as source its load
    runs out of memory. (A 6 KB one, 70 functions, loaded as source once the firmware was cut
    to 10 256 bytes: 100 leaves the firmware room to shrink.)"""
    app = tmp_path / "big.py"
    app.write_bytes(big_app(100))
    with VirtualBoard.for_profile("pca10040", str(tmp_path / "flash"), paced=False,
                                  log=lambda message: None) as board:
        with connect(board.port) as b:
            install_firmware_romfs(b)  # the firmware in flash: the board's heap is the app's
        done = upload(board, app, "--ram-budget", "30000")
        assert done.returncode == 0, done.stderr
        assert any(line.startswith("big ") for line in run_on_board(board.port, ticks=1))
        done = upload(board, app, "--source", "--ram-budget", "30000")
        assert done.returncode == 2, done.stdout
        assert "does not load on the board: MemoryError" in done.stderr


def test_a_run_sends_the_app_precompiled_unless_its_first_line_begins_a_compound_statement(
        firmware_board: VirtualBoard) -> None:
    """`microapp run --port` (prepare_board) writes run_app.py as a ROMFS image: the prologue
    joined to the app's first line (a docstring, an import, a comment); a first line that
    begins a def cannot take it, and that app goes as source."""
    on_board = os.path.join(firmware_board.flash_dir, RUN_APP_NAME)
    for app, precompiled in ((b'"""doc"""\n' + CONTAINED, True), (CONTAINED, True),
                             (b"# a comment\n" + CONTAINED, True),
                             (b"def setup():\n    pass\n", False),
                             (b"@micropython.native\ndef setup():\n    pass\n", False)):
        prepare_board(firmware_board.port, app)
        with open(on_board, "rb") as f:
            sent = f.read()
        assert (sent[:3] == b"\xd2\xcd\x31") is precompiled, app
        assert (sent == app) is not precompiled
        finish_run(firmware_board.port)


def test_microapp_run_runs_an_app_the_board_cannot_compile(tmp_path) -> None:
    """`microapp run --port` sends the app precompiled: the 9 KB app that runs only precompiled
    on a PCA10040 (above) runs, as tools/flash.py app stores it."""
    app = tmp_path / "big.py"
    app.write_bytes(big_app(100))
    with VirtualBoard.for_profile("pca10040", str(tmp_path / "flash"), paced=False,
                                  log=lambda message: None) as board:
        with connect(board.port) as b:
            install_firmware_romfs(b)
        done = subprocess.run([sys.executable, "-m", "host.cli", "run", str(app), "--port", board.port,
                               "--ticks", "1", "--state", str(tmp_path / "state.json")],
                              capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert any(line.split(" ", 1)[1].startswith("big ") for line in done.stdout.splitlines())


def test_a_board_without_vfsrom_gets_the_source(firmware_board: VirtualBoard, capsys) -> None:
    with connect(firmware_board.port) as b:
        assert app_bytecode(b) == BOARD_MPY
        b.exec("import sys\nclass NoRom:\n pass\nsys.modules['vfs'] = NoRom()")  # as a port
        assert app_bytecode(b) is None                                       # built without it
    assert "cannot run a precompiled app" in capsys.readouterr().out
