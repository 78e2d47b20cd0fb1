"""The board firmware's files (shared_buffers/, firmware/, a main.py starting
firmware/board_main.py), written straight into a virtual board's flash directory (tests, the
plugin, benchmarks); and a microapp sent over any board's raw REPL for `microapp run --port` and
the plugin. Users install the firmware with tools/flash.py (verified, resumable)."""
from __future__ import annotations

import os

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
                   source: bool = False) -> None:
    """Write the firmware (its modules as .mpy, as tools/flash.py installs them; as .py with
    source=True) and the app as app.py into a virtual board's flash directory."""
    files = firmware_files() if firmware else []
    if files and not source:
        from host.flashing.mpy import precompiled
        files = precompiled(files, VIRTUAL_BOARD_MPY)[0]
    if app is not None:
        files.append((APP_NAME, app))
    for path, data in files:
        target = os.path.join(flash_dir, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target + ".tmp", "wb") as f:
            f.write(data)
        os.replace(target + ".tmp", target)  # a board booting meanwhile sees old or new, not half


def send_app(port: str, app: bytes, app_name: str, baud: int = 115200) -> None:
    """Write the app as app_name through the board's raw REPL (mpremote), then leave the board
    at its friendly REPL (a soft reset there starts main.py)."""
    from mpremote.transport import TransportError
    from mpremote.transport_serial import SerialTransport
    files = [(app_name, app)]
    try:
        transport = SerialTransport(port, baudrate=baud)
    except Exception as e:  # mpremote raises its own TransportError or pyserial's
        raise InstallError(f"cannot open {port}: {e}") from None
    try:
        transport.enter_raw_repl(soft_reset=False)
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
    """`microapp run --port`: send the app to the board's firmware (as run_app.py, over the raw
    REPL), soft-reset the board and open a session running it. Raises InstallError or
    BoardError with a one-line reason."""
    send_app(port, app, RUN_APP_NAME, baud)
    return SerialLink(port, RUN_APP_NAME, baud=baud, reset=True, **link_options)


def app_ram_after_run(port: str, link: SerialLink, baud: int = 115200) -> int | None:
    """After `microapp run --port`: the heap the app held after its setup(), as the firmware
    recorded it (docs/flashing.md, "the app's RAM"); the board runs its firmware again after.
    None when the app's setup() did not finish. Raises InstallError when the board does not
    answer."""
    from host.flashing import FlashError
    from host.flashing.app_ram import recorded_app_ram
    from host.flashing.board import connect
    link.close()
    try:
        with connect(port, baud) as board:
            ram = recorded_app_ram(board, RUN_APP_NAME)
            board.restart_firmware()
    except FlashError as e:
        raise InstallError(str(e)) from None
    return ram
