"""The board's app slots from the host (tools/flash.py app, info, enable, disable, remove).

AppSlots sends bluenet's microapp control commands (info, upload, validate, enable, disable,
remove) to the firmware's app store (firmware/app_store.py) through the raw REPL and returns
their results. upload_app() is the Crownstone upload tool's sequence: info, remove when other
data is there, chunked upload, validate, enable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from firmware import app_store as S
from firmware.version import VERSION as FIRMWARE_VERSION
from host.flashing import FlashError
from host.flashing.app_image import build_image, crc16_ccitt
from host.flashing.board import Board
from host.flashing.progress import Progress

CHUNKS_PER_EXEC = 8  # upload commands sent in one raw-REPL exec (each still a <= 256-byte chunk)


def result_name(code: int) -> str:
    return S.RESULT_NAMES[code] if 0 <= code < len(S.RESULT_NAMES) else f"result {code}"


class AppSlots:
    def __init__(self, board: Board) -> None:
        self.board = board
        try:
            board.exec("from firmware.app_store import AppStore\n_s = AppStore()")
        except FlashError as e:
            if "ImportError" not in str(e):
                raise
            raise FlashError(f"no microapp firmware with an app store on {board.port}: run "
                             f"`python tools/flash.py firmware --port {board.port}` first") from None

    def info(self) -> dict:
        return self.board.eval("_s.info()")

    def upload(self, slot: int, offset: int, data: bytes) -> int:
        return self.upload_many(slot, [(offset, data)])[0]

    def upload_many(self, slot: int, chunks: list[tuple[int, bytes]]) -> list[int]:
        """One upload command per (offset, data) chunk, all in one exec; their results."""
        calls = ",".join("_s.upload(%d,%d,%r)" % (slot, offset, data) for offset, data in chunks)
        return list(self.board.eval("(%s,)" % calls))

    def validate(self, slot: int, size: int, crc: int) -> int:
        return self.board.eval("_s.validate(%d,%d,%d)" % (slot, size, crc))

    def enable(self, slot: int) -> int:
        return self.board.eval("_s.enable(%d)" % slot)

    def disable(self, slot: int) -> int:
        return self.board.eval("_s.disable(%d)" % slot)

    def remove(self, slot: int) -> int:
        return self.board.eval("_s.remove(%d)" % slot)

    def checked_info(self, slot: int | None = None) -> dict:
        """info(), after checking that the board runs this tool's firmware (and has `slot`)."""
        info = self.info()
        if info.get("firmware_version") != FIRMWARE_VERSION:
            raise FlashError(f"wrong firmware version on {self.board.port}: it runs "
                             f"{info.get('firmware_version') or 'an unknown firmware'}, this tool "
                             f"works with {FIRMWARE_VERSION}: run `python tools/flash.py firmware "
                             f"--port {self.board.port}` first")
        if slot is not None and not 0 <= slot < info["max_apps"]:
            raise FlashError(f"no slot {slot}: the board has {info['max_apps']} app slot(s), "
                             f"0..{info['max_apps'] - 1}")
        return info


@dataclass
class UploadReport:
    slot: int
    size: int
    crc: int
    removed: bool = False  # other data was there and was removed first
    written: int = 0       # chunks written
    unchanged: int = 0     # chunks the board already held ("success, no change")


def app_bytecode(board: Board) -> int | None:
    """The bytecode to precompile an app for (the board's sys.implementation._mpy), or None
    when the board cannot run a precompiled app in place (no vfs.VfsRom): it gets the source,
    and the tool says so."""
    mpy = board_bytecode(board.exec)
    if mpy is None:
        print(f"{board.port}: the board cannot run a precompiled app (no vfs.VfsRom or no "
              f"sys.implementation._mpy): uploading the app's source")
    return mpy


def board_bytecode(exec_: Callable[[str], bytes]) -> int | None:
    """app_bytecode's figure, asked through `exec_` (a raw REPL's exec), without a word."""
    mpy = int(exec_("try:\n import vfs, sys\n print(getattr(sys.implementation, '_mpy', -1)"
                    " if hasattr(vfs, 'VfsRom') else -1)\nexcept ImportError:\n print(-1)"))
    return None if mpy < 0 else mpy


def upload_app(slots: AppSlots, source: bytes, slot: int = 0,
               progress: Progress | None = None, mpy: int | None = None) -> UploadReport:
    """Put `source` in `slot` (precompiled for bytecode `mpy`, else as source), validated and
    enabled."""
    image = build_image(source, mpy)
    crc = crc16_ccitt(image)
    info = slots.checked_info(slot)
    if len(image) > info["max_app_size"]:
        raise FlashError(f"not enough space: the app is {len(image)} bytes with its header, a "
                         f"slot holds {info['max_app_size']}")
    report = UploadReport(slot, len(image), crc)
    there = info["apps"][slot]
    if there["stored"] and not (there["validated"] and there["size"] == len(image)
                                and there["crc"] == crc):
        expect_ok(slots.remove(slot), "remove", slot)
        report.removed = True
    step = min(S.MAX_CHUNK_SIZE, info["max_chunk_size"])
    chunks = [(offset, image[offset:offset + step]) for offset in range(0, len(image), step)]
    if progress is not None:
        progress.begin(len(image), 1)
        progress.start_file(f"slot {slot}")
    for i in range(0, len(chunks), CHUNKS_PER_EXEC):
        batch = chunks[i:i + CHUNKS_PER_EXEC]
        for (offset, data), result in zip(batch, slots.upload_many(slot, batch)):
            if result == S.SUCCESS:
                report.written += 1
            elif result == S.SUCCESS_NO_CHANGE:
                report.unchanged += 1
            elif result == S.ERR_WRITE_DISABLED:
                raise FlashError(f"slot {slot} holds other data at offset {offset} (write "
                                 f"disabled): remove it first")
            else:
                raise FlashError(f"upload refused at offset {offset}: {result_name(result)}")
            if progress is not None:
                progress.advance(len(data))
    result = slots.validate(slot, len(image), crc)
    if result == S.ERR_CRC_MISMATCH:
        raise FlashError(f"validation failed: the app in slot {slot} does not match its CRC16 "
                         f"0x{crc:04X} (corrupted on the way?): run the upload again")
    if result != S.SUCCESS:
        raise FlashError(f"validation failed: {result_name(result)}")
    enable_app(slots, slot)
    if progress is not None:
        progress.file_done(f"slot {slot}", len(image), "uploaded, validated, enabled")
        progress.end()
    return report


def enable_app(slots: AppSlots, slot: int) -> int:
    result = slots.enable(slot)
    if result == S.ERR_WRONG_STATE:
        raise FlashError(f"slot {slot} holds no validated app: upload one with "
                         f"`python tools/flash.py app APP.py`")
    if result == S.ERR_SDK_UNSUPPORTED:
        sdk = slots.info()["apps"][slot]["sdk"]
        built = "no SDK version" if sdk is None else "SDK %d.%d" % tuple(sdk)
        raise FlashError(f"wrong SDK version: the app in slot {slot} is built for {built}, the "
                         f"firmware runs SDK {S.SDK_VERSION[0]}.{S.SDK_VERSION[1]}")
    return expect_ok(result, "enable", slot)


def expect_ok(result: int, command: str, slot: int) -> int:
    if result not in (S.SUCCESS, S.SUCCESS_NO_CHANGE):
        raise FlashError(f"{command} of slot {slot} refused: {result_name(result)}")
    return result
