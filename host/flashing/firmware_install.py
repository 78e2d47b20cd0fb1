"""Install the firmware's files on a board (tools/flash.py firmware).

One round trip asks the board for the SHA-256 of every file; files that already match are
skipped. A changed file goes in chunks of `chunk_size` bytes (one raw-REPL exec each; mpremote
cp sends 256), each deflate-compressed and base64-encoded when the board has the deflate module
and that is shorter (Python source shrinks to about 60% on the wire: the serial line is the
bottleneck of a real board), else as a bytes literal. The exec that writes a file's last chunk
also reads the file back from the board's filesystem and returns its hash. A mismatch, or a
chunk the board cannot decode (a flaky link), re-sends the file, up to `retries` times, then is
an error. Boards without hashlib return the file's bytes instead and the host hashes them.
main.py comes last (host.board_install.firmware_files), so a board reset halfway still boots its
previous main program.

By default every module goes as .mpy, compiled by mpy-cross for the bytecode version the board
reports (host/flashing/mpy.py); main.py stays source. A module's other form (its .py when the
.mpy went, its .mpy with source=True) is removed from the board after the writes: MicroPython
imports x.py before x.mpy.
"""
from __future__ import annotations

import base64
import hashlib
import time
import zlib
from dataclasses import dataclass, field

from host.board_install import MAIN_PY, firmware_files
from host.flashing import FlashError
from host.flashing.board import Board, BoardRaised
from host.flashing.mpy import precompiled, sources
from host.flashing.progress import Progress

DEFAULT_CHUNK = 2048  # bytes of file per exec; a PCA10040's heap compiles this comfortably
_WBITS = 10  # a 1 KiB deflate window: what the board allocates to decompress a chunk

# Board-side helpers, defined once per session in the raw REPL's globals.
_HELPERS = """\
import os
import binascii
try:
    import hashlib
except ImportError:
    hashlib = None
try:
    import deflate, io
except ImportError:
    deflate = None
def _z(f, s):
    d = deflate.DeflateIO(io.BytesIO(binascii.a2b_base64(s)), deflate.ZLIB)
    b = bytearray(256)
    m = memoryview(b)
    while True:
        n = d.readinto(b)
        if not n:
            break
        f.write(m[:n])
def _h(p):
    try:
        f = open(p, 'rb')
    except OSError:
        return None
    with f:
        if hashlib is None:
            return f.read()
        h = hashlib.sha256()
        b = bytearray(512)
        while True:
            n = f.readinto(b)
            if not n:
                break
            h.update(memoryview(b)[:n])
    return binascii.hexlify(h.digest()).decode()
def _md(p):
    try:
        os.mkdir(p)
    except OSError:
        pass
def _sz(p):
    try:
        return os.stat(p)[6]
    except OSError:
        return 0
def _free():
    try:
        s = os.statvfs('.')
        return s[0] * s[4]
    except (AttributeError, OSError):
        return -1
print(deflate is not None)
"""


# What the firmware needs of a board's MicroPython that a build may leave out: (what, a
# statement that raises without it, the build option that gives it). An nRF52832 (PCA10040)
# build is at MicroPython's BASIC feature level (ports/nrf/mpconfigport.h), where
# py/mpconfig.h turns both off; the nRF52840's EXTRA level has them.
REQUIRED = (
    ("sys.stdin.buffer", "sys.stdin.buffer", "MICROPY_PY_SYS_STDIO_BUFFER"),  # the link's bytes
    ("json", "import json", "MICROPY_PY_JSON"),  # the app store's slot metadata
)
_RUNS = """\
import sys
def _runs(s):
    try:
        exec(s)
    except Exception:
        return False
    return True
"""


def check_features(board: Board) -> None:
    """FlashError naming what of REQUIRED the board's MicroPython lacks, and the build options
    that give it (docs/flashing.md, section 1)."""
    board.exec(_RUNS)
    missing = board.eval("[w for w, s in %r if not _runs(s)]" % ([r[:2] for r in REQUIRED],))
    if missing:
        flags = " ".join(f"-D{option}=1" for what, _, option in REQUIRED if what in missing)
        raise FlashError(f"{board.port}'s MicroPython lacks {' and '.join(missing)}, which the "
                         f"firmware needs: rebuild it with make CFLAGS_EXTRA=\"{flags}\" "
                         f"(docs/flashing.md, section 1)")


@dataclass
class InstallReport:
    files: int = 0
    sent: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    bytes_sent: int = 0
    resent: int = 0  # files written again after a failed check (hash mismatch, undecodable chunk)
    removed: list[str] = field(default_factory=list)  # the other form of a module, removed
    seconds: float = 0.0
    romfs_bytes: int = 0  # --romfs: the image's size
    romfs_written: bool = False  # --romfs: the partition did not hold it yet


def _digest(answer: str | bytes | None) -> str | None:
    """A board's _h() answer as a hex digest: it hashed, or sent the bytes (no hashlib)."""
    if isinstance(answer, bytes):
        return hashlib.sha256(answer).hexdigest()
    return answer


def install_firmware(board: Board, files: list[tuple[str, bytes]] | None = None,
                     progress: Progress | None = None, chunk_size: int = DEFAULT_CHUNK,
                     retries: int = 1, compress: bool = True, source: bool = False) -> InstallReport:
    """Put `files` ((path on the board, content); the firmware by default) on the board, its
    modules compiled to .mpy for the board (as .py with source=True).
    compress=False sends bytes literals even when the board could inflate."""
    if chunk_size < 1:
        raise FlashError("--chunk-size must be at least 1")
    start = time.monotonic()
    compress = board.exec(_HELPERS).strip() == b"True" and compress
    files, stale = board_image(board, files, source)
    report = InstallReport(files=len(files))
    paths = [path for path, _ in files]
    wanted = [hashlib.sha256(data).hexdigest() for _, data in files]
    there = [_digest(a) for a in board.eval("[_h(p) for p in %r]" % (paths,))]
    want = dict(zip(paths, wanted))
    changed = [(path, data) for (path, data), got in zip(files, there) if got != want[path]]
    _check_space(board, changed)
    if progress is not None:
        progress.begin(sum(len(data) for _, data in changed), len(files))
        for path, got in zip(paths, there):
            if got == want[path]:
                progress.file_done(path, 0, "unchanged")
    for folder in sorted({_parent(path) for path, _ in changed} - {""}):
        parts = folder.split("/")
        for i in range(1, len(parts) + 1):
            board.exec("_md(%r)" % "/".join(parts[:i]))
    for path, data in changed:
        started = progress.done_bytes if progress is not None else 0
        if progress is not None:
            progress.start_file(path)
        for attempt in range(retries + 1):
            try:
                got = _write_file(board, path, data, chunk_size, compress, progress)
            except BoardRaised as e:  # a chunk that arrived damaged does not decode
                board.exec("try:\n f.close()\nexcept Exception:\n pass")
                problem = f"the board could not decode a chunk ({e})"
            else:
                if got == want[path]:
                    break
                problem = f"its read-back hash does not match (sha256 {got or 'missing'})"
            if attempt == retries:
                raise FlashError(f"verification failed: {path}: {problem}; the link is "
                                 f"unreliable: run again, or lower --baud")
            report.resent += 1
            if progress is not None:
                progress.note(f"{path}: {problem}; sending it again")
                progress.rewind_to(started)
        report.sent.append(path)
        report.bytes_sent += len(data)
        if progress is not None:
            progress.file_done(path, len(data), "sent, verified")
    report.unchanged = [p for p in paths if p not in report.sent]
    if stale:
        report.removed = board.eval("[p for p in %r if _sz(p) and not os.remove(p)]" % (stale,))
    report.seconds = time.monotonic() - start
    if progress is not None:
        progress.end()
    return report


def board_image(board: Board, files: list[tuple[str, bytes]] | None = None, source: bool = False,
                imported_from: str = "") -> tuple[list[tuple[str, bytes]], list[str]]:
    """(the files to put on `board`, the paths of their other form, to remove); see
    host/flashing/mpy.py's precompiled for `imported_from`."""
    if files is None:  # the firmware itself (once an install: romfs's main.py comes as files)
        check_features(board)
        files = firmware_files()
    if source:
        return sources(files)
    mpy = board_bytecode(board)
    if mpy < 0:
        raise FlashError(f"{board.port} does not report its bytecode version "
                         f"(sys.implementation._mpy): use --source")
    return precompiled(files, mpy, imported_from)


def board_bytecode(board: Board) -> int:
    """The board's sys.implementation._mpy; -1 when it has none."""
    return board.eval("getattr(__import__('sys').implementation, '_mpy', -1)")


def _write_file(board: Board, path: str, data: bytes, chunk_size: int, compress: bool,
                progress: Progress | None) -> str | None:
    """Write one file; the board's hash of what it then reads back from its filesystem."""
    opening = "f=open(%r,'wb')\n" % path
    offset = 0
    while True:
        chunk = data[offset:offset + chunk_size]
        offset += len(chunk)
        last = offset >= len(data)
        code = opening + (_chunk_code(chunk, compress) if chunk else "")
        if last:
            code += "f.close()\nprint(repr(_h(%r)))" % path
            out = board.exec(code)
        else:
            board.exec(code)
        opening = ""
        if progress is not None:
            progress.advance(len(chunk))
        if last:
            return _digest(board.literal(out))


def _chunk_code(chunk: bytes, compress: bool) -> str:
    """The board-side statement writing `chunk` to the open file f: the shorter of a bytes
    literal and (when the board can inflate) its zlib stream in base64."""
    plain = "f.write(%r)\n" % chunk
    if not compress:
        return plain
    packer = zlib.compressobj(9, zlib.DEFLATED, _WBITS)
    packed = "_z(f,%r)\n" % base64.b64encode(packer.compress(chunk) + packer.flush())
    return packed if len(packed) < len(plain) else plain


def _check_space(board: Board, changed: list[tuple[str, bytes]]) -> None:
    if not changed:
        return
    free, replaced = board.eval("(_free(), sum(_sz(p) for p in %r))" % ([p for p, _ in changed],))
    if free < 0:  # the board cannot tell (no os.statvfs): a full filesystem shows as ENOSPC
        return
    need = sum(len(data) for _, data in changed) - replaced
    if need > free:
        raise FlashError(f"not enough space on the board: the firmware needs {need} more bytes, "
                         f"{free} are free")


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def install_firmware_romfs(board: Board, progress: Progress | None = None,
                           chunk_size: int = DEFAULT_CHUNK, retries: int = 1,
                           compress: bool = True) -> InstallReport:
    """`firmware --romfs`: the modules, compiled for the board, as a ROMFS image in its
    partition (host/flashing/romfs.py), main.py in /flash, and the modules' copies in /flash
    removed with their folders: the working directory comes first on sys.path, so a
    firmware/ folder left there would hide the one in /rom."""
    from host.flashing.romfs import ROMFS_ROOT, deploy_romfs, romfs_image
    start = time.monotonic()
    files, stale = board_image(board, imported_from=ROMFS_ROOT)
    modules = [(path, data) for path, data in files if path != "main.py"]
    image = romfs_image(modules)
    written = deploy_romfs(board, image)
    report = install_firmware(board, [("main.py", MAIN_PY)], progress, chunk_size, retries, compress)
    forms = [p for path, _ in modules for p in (path, path[:-4] + ".py")] + stale
    report.removed = board.eval("[p for p in %r if _sz(p) and not os.remove(p)]" % (forms,))
    folders = sorted({_parent(path) for path, _ in modules} - {""})
    board.exec("for p in %r:\n try:\n  os.rmdir(p)\n except OSError:\n  pass" % (folders,))
    report.files = len(modules) + 1
    report.romfs_bytes, report.romfs_written = len(image), written
    report.seconds = time.monotonic() - start
    return report
