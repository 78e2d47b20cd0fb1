"""The board firmware's files (shared_buffers/, firmware/, a main.py starting
firmware/board_main.py), written straight into a virtual board's flash directory (tests, the
plugin, benchmarks); and a microapp sent over any board's raw REPL for `microapp run --port` and
the plugin. Users install the firmware with tools/flash.py (verified, resumable)."""
from __future__ import annotations

import os

from host.app_state import installed_app_key
from host.sdk_constants import fold
from host.links.serial_link import SerialLink

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("shared_buffers", "firmware")
MAIN_PY = b"from firmware.board_main import main\nmain()\n"
APP_NAME = "app.py"  # the installed app (when the app store has no enabled slot)
RUN_APP_NAME = "run_app.py"  # where `microapp run --port` puts the app it runs


class InstallError(Exception):
    pass


def firmware_files() -> list[tuple[str, bytes]]:
    """(path on the board, content) of every firmware file, main.py last."""
    files = []
    for package in PACKAGES:
        folder = os.path.join(ROOT, package)
        for name in sorted(os.listdir(folder)):
            if name.endswith(".py"):
                with open(os.path.join(folder, name), "rb") as f:
                    files.append((f"{package}/{name}", f.read()))
    files.append(("main.py", MAIN_PY))
    return files


# The virtual board's bytecode (MicroPython's unix port: .mpy 6.3), what install_to_dir compiles for.
VIRTUAL_BOARD_MPY = 6 | 3 << 8


def install_to_dir(flash_dir: str, app: bytes | None = None, firmware: bool = True,
                   source: bool = False, romfs: bool = False) -> None:
    """Write the firmware (its modules as .mpy, as tools/flash.py installs them; as .py with
    source=True; with romfs=True as a ROMFS image in the board's partition, as
    tools/flash.py firmware --romfs does, and main.py alone in /flash) and the app as app.py
    into a virtual board's flash directory."""
    files = firmware_files() if firmware else []
    if files and not source:
        from host.flashing.mpy import precompiled
        from host.flashing.romfs import ROMFS_ROOT
        files = precompiled(files, VIRTUAL_BOARD_MPY, ROMFS_ROOT if romfs else "")[0]
    if files and romfs:
        from host.board.virtual_board import ROMFS_FILE
        from host.flashing.romfs import romfs_image
        modules = [f for f in files if f[0] != "main.py"]
        files = [(ROMFS_FILE, romfs_image(modules)), ("main.py", MAIN_PY)]
    if app is not None:
        files.append((APP_NAME, fold(app)))
    for path, data in files:
        target = os.path.join(flash_dir, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target + ".tmp", "wb") as f:
            f.write(data)
        os.replace(target + ".tmp", target)  # a board booting meanwhile sees old or new, not half


def send_app(port: str, app: bytes, app_name: str, baud: int = 115200, run: bool = False) -> None:
    """Write the app as app_name through the board's raw REPL (mpremote), then leave the board
    at its friendly REPL (a soft reset there starts main.py). run: in its run form
    (run_form)."""
    from mpremote.transport import TransportError
    from mpremote.transport_serial import SerialTransport
    try:
        transport = SerialTransport(port, baudrate=baud)
    except Exception as e:  # mpremote raises its own TransportError or pyserial's
        raise InstallError(f"cannot open {port}: {e}") from None
    try:
        transport.enter_raw_repl(soft_reset=False)
        files = [(app_name, run_form(transport.exec, app) if run else fold(app))]
        for folder in sorted({os.path.dirname(path) for path, _ in files} - {""}):
            if not transport.fs_exists(folder):
                transport.fs_mkdir(folder)
        for path, data in files:
            transport.fs_writefile(path, data)
        transport.exit_raw_repl()
    except TransportError as e:
        raise InstallError(f"{port}: the board's raw REPL failed: {e}") from None
    finally:
        transport.close()


def connect_with_app(port: str, app: bytes, baud: int = 115200, **link_options) -> SerialLink:
    """A board stone of `microapp mesh`: send the app to the board's firmware (as run_app.py, in
    its run form, over the raw REPL), soft-reset the board and open a session running it.
    Raises InstallError or BoardError with a one-line reason."""
    send_app(port, app, RUN_APP_NAME, baud, run=True)
    return SerialLink(port, RUN_APP_NAME, baud=baud, reset=True, **link_options)


def run_form(exec_, app: bytes) -> bytes:
    """The app as a run sends it: precompiled for the board's bytecode (asked through `exec_`,
    a raw REPL's exec), so that nothing is compiled on the board, as tools/flash.py app stores
    it; its source when the board cannot run it so (no vfs.VfsRom) or its first line begins a
    compound statement (host/flashing/app_image.py, run_image)."""
    from host.flashing import FlashError
    from host.flashing.app_image import run_image
    from host.flashing.apps import board_bytecode
    mpy = board_bytecode(exec_)
    app = fold(app)  # the SDK's constants, in either form (host/sdk_constants.py)
    try:
        return (run_image(app, mpy) if mpy is not None else None) or app
    except (SyntaxError, ValueError, FlashError):  # the board's own compiler says what is wrong
        return app


FIRMWARE_HINT = "install it with: python tools/flash.py firmware --port {port}"


def prepare_board(port: str, app: bytes | None, baud: int = 115200) -> tuple[tuple, str | None]:
    """`microapp run --port`: over the board's raw REPL (a short probe: a dead port, a device
    that is not a MicroPython board and a board without the firmware are told apart within a
    few seconds), check that the firmware is there, write the app as run_app.py in its run form
    (run_form; None: run the installed app), and soft-reset so the firmware starts. Its boot INFO, and for the installed
    app its state's key (host/app_state.py, installed_app_key). InstallError with a
    one-line reason that says what to do."""
    from host.flashing import FlashError
    from host.flashing.board import connect
    try:
        with connect(port, baud) as board:
            if not board.literal(board.exec(_HAS_FIRMWARE)):
                raise InstallError(f"{port} is a MicroPython board without the microapp firmware; "
                                   + FIRMWARE_HINT.format(port=port))
            ident = None
            if app is not None:
                board.transport.fs_writefile(RUN_APP_NAME, run_form(board.exec, app))
            else:
                ident = installed_app_key(port, board.literal(board.exec(_INSTALLED_APP)))
            info = board.restart_firmware()
            if info is None:
                raise InstallError(f"the firmware on {port} did not start{board.console_tail()}; "
                                   + FIRMWARE_HINT.format(port=port))
            if app is None and ident is None:  # as the firmware says it (firmware/board_main.py)
                raise InstallError(f"{port}: no app enabled")
            return info, ident
    except InstallError:
        raise
    except FlashError as e:
        text = str(e)
        if text.startswith("no such port") or "in use by" in text:
            raise InstallError(text) from None
        raise InstallError(f"{text}; a board needs MicroPython (docs/flashing.md) and the microapp "
                           f"firmware: python tools/flash.py firmware --port {port}") from None
    except Exception as e:  # mpremote's TransportError, a lost line
        raise InstallError(f"{port}: the board's raw REPL failed: {e}") from None


# Prints True when main.py and the firmware's entry (.mpy, or .py with --source; or .mpy in the
# ROMFS partition, with --romfs) are on the board.
_HAS_FIRMWARE = """import os
def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False
print(_exists('main.py') and (_exists('firmware/board_main.mpy') or _exists('firmware/board_main.py')
                             or _exists('/rom/firmware/board_main.mpy')))
"""


# Prints what the firmware runs as the installed app (firmware/board_main.py, _app_source):
# (slot, CRC, size) of the app store's enabled slot, else ("app.py", CRC, size), else None.
_INSTALLED_APP = """from firmware.app_slot import enabled_app
from shared_buffers.serial_frame import crc16
_f = enabled_app()
if _f:
    _d = _f[1].encode()
    print((_f[0], crc16(_d, 0, None, 0xFFFF), len(_d)))
else:
    try:
        with open('app.py', 'rb') as _h:
            _d = _h.read()
        print(('app.py', crc16(_d, 0, None, 0xFFFF), len(_d)))
    except OSError:
        print(None)
"""


def finish_run(port: str, baud: int = 115200, remove: bool = True) -> int | None:
    """After `microapp run --port` (its link closed): the heap the app held after its setup(),
    as the firmware recorded it (docs/flashing.md, "the app's RAM"; None when setup() did not
    finish), run_app.py removed (`remove`), and the firmware restarted with the installed app,
    in one raw-REPL session. Raises InstallError when the board does not answer."""
    from host.flashing import FlashError
    from host.flashing.app_ram import recorded_app_ram
    from host.flashing.board import connect
    try:
        with connect(port, baud) as board:
            ram = recorded_app_ram(board, RUN_APP_NAME)
            if remove:
                board.exec(f"import os\ntry:\n    os.remove({RUN_APP_NAME!r})\nexcept OSError:\n    pass\n")
            board.restart_firmware()
    except FlashError as e:
        raise InstallError(str(e)) from None
    except Exception as e:  # mpremote's TransportError, a lost line
        raise InstallError(f"{port}: the board's raw REPL failed: {e}") from None
    return ram
