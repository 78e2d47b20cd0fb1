"""A microapp as a board stores it (firmware/app_store.py): the app's source behind a header line
that names the SDK it is built for, as a bluenet app binary starts with its header; CRC16-CCITT
over header and body."""
from __future__ import annotations

import binascii

from firmware.app_store import HEADER_PREFIX, SDK_VERSION, parse_header
from host.flashing import FlashError


def build_image(source: bytes) -> bytes:
    """The bytes to upload: `source` as is when it starts with a header, else a header for the
    host's SDK version in front of it."""
    if source.startswith(HEADER_PREFIX):
        if parse_header(source)[0] is None:
            first = source.split(b"\n", 1)[0].decode("utf-8", "replace")
            raise FlashError(f"the app's header line {first!r} does not say sdk=MAJOR.MINOR")
        return source
    header = b"%ssdk=%d.%d build=0\n" % (HEADER_PREFIX, SDK_VERSION[0], SDK_VERSION[1])
    return header + source


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT (0x1021, initial 0xFFFF): what the board's validate command checks."""
    return binascii.crc_hqx(data, 0xFFFF)


def read_app(path: str) -> bytes:
    """An app's source file, checked to be UTF-8 text that compiles (a syntax error is found
    here, not after the upload)."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise FlashError(f"{path}: {e.strerror}") from None
    try:
        compile(source.decode("utf-8"), path, "exec")
    except UnicodeDecodeError:
        raise FlashError(f"{path}: not UTF-8 text") from None
    except SyntaxError as e:
        raise FlashError(f"{path}:{e.lineno}: {e.msg}") from None
    return source
