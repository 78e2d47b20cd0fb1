"""The firmware as a ROMFS image (`tools/flash.py firmware --romfs`): its .mpy modules in
MicroPython's read-only filesystem format (mpremote's VfsRomWriter), written into the board's
ROMFS partition and mounted at /rom at start-up. Modules imported from it run in place: their
bytecode, interned names' text and constants stay in flash, which leaves the heap to the app
(docs/flashing.md, "ROMFS").

Writing follows `mpremote romfs deploy` for a partition given as a block device (the nrf
port's nrf.Flash): `vfs.rom_ioctl(2, 0)`, then `ioctl(4/5)` for its size, `ioctl(6, block)`
to erase a block and `writeblocks(block, data)`; the image is read back with readblocks and
its hash checked. The new image is mounted at the next reset.
"""
from __future__ import annotations

import base64
import hashlib

from host.flashing import FlashError
from host.flashing.board import Board

ROMFS_HEADER = b"\xd2\xcd\x31"
ROMFS_ROOT = "/rom/"  # where the board mounts the partition: its modules' paths start with it

_HELPERS = """\
import vfs, binascii
try:
    vfs.umount('/rom')
except Exception:
    pass
_d = vfs.rom_ioctl(2, 0) if hasattr(vfs, 'rom_ioctl') else None
def _rh(n):
    import hashlib
    h = hashlib.sha256()
    b = bytearray(_d.ioctl(5, 0))
    for k in range((n + len(b) - 1) // len(b)):
        _d.readblocks(k, b)
        h.update(memoryview(b)[:min(len(b), n - k * len(b))])
    return binascii.hexlify(h.digest()).decode()
print(repr(None if _d is None or isinstance(_d, int) or not hasattr(_d, 'ioctl')
           else (_d.ioctl(4, 0), _d.ioctl(5, 0))))
"""


def romfs_image(files: list[tuple[str, bytes]]) -> bytes:
    """A ROMFS image of `files` ((path, content), paths one folder deep at most, as the
    firmware's package/module.mpy)."""
    from mpremote.romfs import VfsRomWriter
    writer = VfsRomWriter()
    folders: dict[str, list[tuple[str, bytes]]] = {}
    for path, data in files:
        folder, _, name = path.rpartition("/")
        if "/" in folder:
            raise ValueError(f"{path}: a ROMFS image of the firmware has one level of folders")
        folders.setdefault(folder, []).append((name, data))
    for name, data in sorted(folders.pop("", [])):
        writer.mkfile(name, data)
    for folder in sorted(folders):
        writer.opendir(folder)
        for name, data in sorted(folders[folder]):
            writer.mkfile(name, data)
        writer.closedir()
    return writer.finalise()


def deploy_romfs(board: Board, image: bytes) -> bool:
    """Write `image` into the board's ROMFS partition unless it already holds it; True when
    it was written. FlashError when the board has no partition (or one mpremote's buffer
    protocol serves, not a block device) or it is too small."""
    part = board.literal(board.exec(_HELPERS))
    if part is None:
        raise FlashError(f"{board.port} has no ROMFS partition as a block device (vfs.rom_ioctl: "
                         f"MicroPython 1.28 or later on an nRF52; docs/flashing.md): install "
                         f"without --romfs")
    blocks, block_size = part
    if len(image) > blocks * block_size:
        raise FlashError(f"the ROMFS image ({len(image)} bytes) is larger than the board's "
                         f"partition ({blocks * block_size} bytes)")
    want = hashlib.sha256(image).hexdigest()
    if board.literal(board.exec("print(repr(_rh(%d)))" % len(image))) == want:
        return False
    for k in range(0, len(image), block_size):
        chunk = image[k:k + block_size]
        chunk += b"\xff" * (block_size - len(chunk))
        board.exec("_d.ioctl(6, %d)\n_d.writeblocks(%d, binascii.a2b_base64(%r))"
                   % (k // block_size, k // block_size, base64.b64encode(chunk)))
    got = board.literal(board.exec("print(repr(_rh(%d)))" % len(image)))
    if got != want:
        raise FlashError(f"verification failed: the ROMFS partition reads back sha256 {got}; "
                         f"run again, or lower --baud")
    return True
