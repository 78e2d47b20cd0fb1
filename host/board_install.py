"""Put the board firmware (shared_buffers/, firmware/, a main.py starting firmware/board_main.py)
and a microapp (as app.py, the installed app) on a board: into a virtual board's flash directory,
or over any board's raw REPL with mpremote's transport.

    python -m host.board_install --flash DIR [--app APP.py]
    python -m host.board_install --port URL [--baud N] [--app APP.py]
"""
from __future__ import annotations

import argparse
import os
import sys

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


def read_app(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InstallError(f"{path}: {e.strerror}") from None


def install_to_dir(flash_dir: str, app: bytes | None = None, firmware: bool = True) -> None:
    """Write the firmware (and the app as app.py) into a virtual board's flash directory."""
    files = firmware_files() if firmware else []
    if app is not None:
        files.append((APP_NAME, app))
    for path, data in files:
        target = os.path.join(flash_dir, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target + ".tmp", "wb") as f:
            f.write(data)
        os.replace(target + ".tmp", target)  # a board booting meanwhile sees old or new, not half


def install_over_repl(port: str, app: bytes | None = None, baud: int = 115200,
                      firmware: bool = True, app_name: str = APP_NAME) -> None:
    """Write the firmware (and the app, as app_name) through the board's raw REPL (mpremote),
    then leave the board at its friendly REPL (a soft reset there starts main.py)."""
    from mpremote.transport import TransportError
    from mpremote.transport_serial import SerialTransport
    files = firmware_files() if firmware else []
    if app is not None:
        files.append((app_name, app))
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
    install_over_repl(port, app, baud, firmware=False, app_name=RUN_APP_NAME)
    return SerialLink(port, RUN_APP_NAME, baud=baud, reset=True, **link_options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m host.board_install", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--flash", metavar="DIR", help="a virtual board's flash directory")
    where.add_argument("--port", metavar="URL", help="a board's serial port (pyserial URL)")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--app", help="also install this microapp as app.py")
    args = parser.parse_args(argv)
    try:
        app = read_app(args.app) if args.app else None
        if args.flash:
            install_to_dir(args.flash, app)
        else:
            install_over_repl(args.port, app, args.baud)
    except (InstallError, OSError) as e:
        print(f"board_install: error: {e}", file=sys.stderr)
        return 2
    print(f"installed the firmware{' and ' + args.app if args.app else ''} on {args.flash or args.port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
