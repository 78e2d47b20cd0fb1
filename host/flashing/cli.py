"""The command line of tools/flash.py. Every error a user can act on is one line on stderr and
exit code 2; progress goes to stderr, results to stdout."""
from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from firmware.board_main import INSTALLED_APP, VERSION as FIRMWARE_VERSION
from host.flashing import FlashError
from host.flashing.app_image import read_app
from host.flashing.apps import AppSlots, app_bytecode, enable_app, expect_ok, upload_app
from host.flashing.board import Board, connect
from host.flashing.app_ram import (BLUENET_APP_RAM, HeapFigures, check_budget, firmware_heap,
                                   forget_record, recorded_app_ram, repl_heap, run_setup)
from host.flashing.firmware_install import DEFAULT_CHUNK, install_firmware, install_firmware_romfs
from host.flashing.hex_flash import TARGETS, flash_hex
from host.flashing.progress import Progress
from shared_buffers import serial_frame as F

DESCRIPTION = """\
Put the microapp firmware and microapps on a MicroPython board (docs/flashing.md).

  firmware   install shared_buffers/, firmware/ and main.py (unchanged files are skipped,
             every written file is read back by hash), then restart the board; --romfs puts
             the modules in the board's ROMFS partition instead (they run from flash)
  app        upload a microapp into a slot: info, remove other data, upload, validate,
             enable, restart so that the firmware runs it
  info       the board's app slots (limits, versions, state flags)
  enable     enable the validated app in a slot (clears its fault flags)
  disable    stop running the app in a slot
  remove     erase a slot
  freeze     write the firmware's modules as the board build compiles them (constants folded
             in) into a folder, to freeze them into a MicroPython image: its heap then holds
             the least (docs/flashing.md, "Frozen modules")
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit code 2 (argparse's own code)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="flash.py", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--port", required=True, metavar="URL",
                       help="the board's serial port (a device path or a pyserial URL)")
        p.add_argument("--baud", type=int, default=115200)
        return p

    fw = command("firmware", "install the firmware's files and restart the board")
    fw.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, metavar="N",
                    help=f"bytes of a file per raw-REPL command (default {DEFAULT_CHUNK})")
    fw.add_argument("--retries", type=int, default=1, metavar="N",
                    help="times a file whose read-back hash mismatches is sent again (default 1)")
    fw.add_argument("--no-compress", action="store_true",
                    help="send files as they are, not deflate-compressed (for a board whose "
                         "deflate module misbehaves)")
    fw.add_argument("--source", action="store_true",
                    help="install the modules as .py (the board compiles them) instead of .mpy")
    fw.add_argument("--romfs", action="store_true",
                    help="install the modules as a ROMFS image in the board's ROMFS partition "
                         "(they run from flash: the heap they leave is the app's)")
    fw.add_argument("--hex", metavar="FILE",
                    help="first flash this MicroPython image (needs pyocd or nrfutil, and --board)")
    fw.add_argument("--board", choices=sorted(TARGETS), help="the board, for --hex")
    fw.add_argument("--hex-tool", choices=("pyocd", "nrfutil"),
                    help="the tool for --hex (default: pyocd when installed, else nrfutil)")

    app = command("app", "upload a microapp, validate and enable it, restart the board")
    app.add_argument("app", metavar="APP.py")
    app.add_argument("--slot", type=int, default=0)
    app.add_argument("--source", action="store_true",
                     help="upload the app as source (the board compiles it at every load) "
                          "instead of precompiled (.mpy, run in place from its image)")
    app.add_argument("--ram-budget", type=int, default=BLUENET_APP_RAM, metavar="BYTES",
                     help=f"refuse (disable) an app holding more heap after setup() (default "
                          f"{BLUENET_APP_RAM}, bluenet's; never more than the board has left)")

    info = command("info", "show the board's app slots")
    info.add_argument("--json", action="store_true", help="print the info as JSON")
    for name, text in (("enable", "enable the validated app in a slot"),
                       ("disable", "stop running the app in a slot"),
                       ("remove", "erase a slot")):
        command(name, text).add_argument("--slot", type=int, default=0)
    freeze = sub.add_parser("freeze", help="write the board build's sources for freezing",
                            description="write the board build's sources for freezing")
    freeze.add_argument("folder", metavar="DIR", help="where firmware/ and shared_buffers/ go")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "firmware":
            return _firmware(args)
        if args.command == "freeze":
            return _freeze(args.folder)
        if args.command == "app":
            source = read_app(args.app)  # before touching the board: a bad file changes nothing
        with connect(args.port, args.baud) as board:
            slots = AppSlots(board)
            if args.command == "app":
                return _app(args, board, slots, source)
            if args.command == "info":
                return _info(args, board, slots)
            return _slot_command(args, board, slots)
    except FlashError as e:
        print(f"flash.py: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("flash.py: interrupted", file=sys.stderr)
        return 130


def _firmware(args: argparse.Namespace) -> int:
    if args.hex:
        if not args.board:
            raise FlashError("--hex needs --board (pca10040, pca10056 or pca10059)")
        tool = flash_hex(args.hex, args.board, args.port, args.hex_tool)
        print(f"flashed {args.hex} with {tool}")
    if args.romfs and args.source:
        raise FlashError("--romfs installs precompiled modules: leave out --source")
    with connect(args.port, args.baud) as board:
        options = dict(progress=Progress("firmware"), chunk_size=args.chunk_size,
                       retries=args.retries, compress=not args.no_compress)
        if args.romfs:
            report = install_firmware_romfs(board, **options)
        else:
            report = install_firmware(board, source=args.source, **options)
        info = _restart(board)
    resent = f", {report.resent} sent again after a failed check" if report.resent else ""
    sent = (f"{len(report.sent)} sent ({report.bytes_sent} bytes, verified)" if report.sent
            else "none sent")
    form = "source (.py)" if args.source else "precompiled (.mpy)"
    if args.romfs:
        form = (f"precompiled (.mpy) in a {report.romfs_bytes}-byte ROMFS image "
                f"({'written, verified' if report.romfs_written else 'unchanged'}), main.py")
    removed = f", {len(report.removed)} of the other form removed" if report.removed else ""
    print(f"firmware: {report.files} files, {form}, {sent}, {len(report.unchanged)} unchanged"
          f"{resent}{removed}, {report.seconds:.2f} s")
    print(f"{info[4]} answers on {args.port}; app: {_app_state(info)}")
    return 0


def _freeze(folder: str) -> int:
    import os
    from host.board_install import firmware_files
    from host.flashing.mpy import board_sources
    files = [(path, data) for path, data in board_sources(firmware_files()) if path != "main.py"]
    try:
        for path, data in files:
            target = os.path.join(folder, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
    except OSError as e:
        raise FlashError(f"{e.filename}: {e.strerror}") from None
    print(f"{len(files)} modules written to {folder}: freeze its firmware/ and shared_buffers/ "
          f"packages (docs/flashing.md, \"Frozen modules\"); main.py goes on the board")
    return 0


def _app(args: argparse.Namespace, board: Board, slots: AppSlots, source: bytes) -> int:
    mpy = None if args.source else app_bytecode(board)
    report = upload_app(slots, source, args.slot, progress=Progress("app"), mpy=mpy)
    form = "source" if mpy is None else "precompiled (.mpy)"
    chunks = report.written + report.unchanged
    if report.removed:
        print(f"slot {args.slot}: removed the other app that was there")
    if report.written == 0:
        print(f"slot {args.slot}: no change, the same app is already there "
              f"({report.size} bytes, CRC16 0x{report.crc:04X})")
    else:
        print(f"slot {args.slot}: uploaded {report.size} bytes in {chunks} chunks "
              f"({report.written} written, {report.unchanged} no change) as {form}, "
              f"CRC16 0x{report.crc:04X}")
    print(f"slot {args.slot}: validated and enabled")
    forget_record(board)
    info = _restart(board)
    if info[0] != F.INFO_READY:
        raise FlashError(f"the app is in slot {args.slot} and enabled but does not load on the "
                         f"board: {info[6]}")
    try:
        figures = _app_heap(board, info)
    except FlashError:
        board.reenter_raw_repl()
        AppSlots(board).disable(args.slot)
        raise
    print(f"app RAM after setup(): {figures.app} bytes (budget {int(args.ram_budget * figures.word_scale)}; the board has "
          f"{figures.left_for_app} left for an app)")
    try:
        check_budget(figures, args.ram_budget)
    except FlashError:
        AppSlots(board).disable(args.slot)
        raise
    info = _restart(board)
    if info[0] != F.INFO_READY:
        raise FlashError(f"the app ran its setup() but the firmware then did not load it: {info[6]}")
    print(f"the firmware runs it: {_app_state(info)}")
    return 0


def _app_heap(board: Board, boot: tuple) -> HeapFigures:
    """Run the installed app's setup() on the firmware, then read what the firmware measured;
    the board is back at its raw REPL afterwards (its fresh heap measured again)."""
    run_setup(board.transport.serial)
    board.reenter_raw_repl()
    free, _used, scale = repl_heap(board)
    return HeapFigures(free, firmware_heap(board, boot), recorded_app_ram(board, INSTALLED_APP), scale)


def _info(args: argparse.Namespace, board: Board, slots: AppSlots) -> int:
    info = slots.info()
    free = repl_heap(board)[0]
    app_ram = recorded_app_ram(board)
    boot = board.restart_firmware()
    info["heap"] = {"free_at_repl": free, "firmware": firmware_heap(board, boot) if boot else None,
                    "app_after_setup": app_ram}
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    sdk = "%d.%d" % tuple(info["sdk_version"])
    print(f"firmware: {info['firmware_version']} (SDK {sdk})"
          + ("" if info["firmware_version"] == FIRMWARE_VERSION
             else f"; this tool works with {FIRMWARE_VERSION}"))
    print(f"limits: {info['max_apps']} slot(s), {info['max_app_size']} bytes per app, "
          f"chunks of {info['max_chunk_size']} bytes")
    for s in info["apps"]:
        if not s["stored"]:
            print(f"slot {s['slot']}: empty")
            continue
        flags = [f for f in ("did_reboot", "exceeded_call_duration", "faulted") if s[f]]
        built = "SDK %d.%d build %d" % (*s["sdk"], s["build"]) if s["sdk"] else "no header"
        state = ("enabled" if s["enabled"] else "disabled") + (
            ", validated" if s["validated"] else ", not validated")
        print(f"slot {s['slot']}: {s['stored']} bytes stored; {state}"
              + (f"; {s['size']} bytes, CRC16 0x{s['crc']:04X}, {built}" if s["validated"] else "")
              + (f"; flags: {', '.join(flags)}" if flags else ""))
    print(f"running: {_app_state(boot) if boot else 'the firmware did not answer'}")
    heap = info["heap"]
    firmware = f"the firmware takes {heap['firmware']}" if boot else "the firmware did not answer"
    app = (f"the app held {app_ram} bytes after setup() when it last started" if app_ram is not None
           else "no app has run its setup() yet")
    print(f"heap: {free} bytes free at the REPL; {firmware}; {app}")
    return 0


def _slot_command(args: argparse.Namespace, board: Board, slots: AppSlots) -> int:
    slots.checked_info(args.slot)
    if args.command == "enable":
        result = enable_app(slots, args.slot)
    else:
        result = expect_ok(getattr(slots, args.command)(args.slot), args.command, args.slot)
    done = {"enable": "enabled", "disable": "disabled", "remove": "removed"}[args.command]
    print(f"slot {args.slot}: {done}" + (" (no change)" if result else ""))
    info = _restart(board)
    print(f"running: {_app_state(info)}")
    return 0


def _restart(board: Board) -> tuple:
    """Soft-reset so that main.py starts the firmware; its boot INFO, checked."""
    info = board.restart_firmware()
    if info is None:
        raise FlashError(f"the firmware did not answer after the soft reset{board.console_tail()}")
    if info[4] != FIRMWARE_VERSION:
        raise FlashError(f"wrong firmware version: the board answers as {info[4]}, expected "
                         f"{FIRMWARE_VERSION}")
    return info


def _app_state(info: tuple) -> str:
    if info[0] == F.INFO_READY:
        return "the installed app loaded" if info[5] == INSTALLED_APP else f"{info[5]} loaded"
    return f"none ({info[6] or 'no app'})"
