"""A microapp as a board stores it (firmware/app_store.py): a header line that names the SDK it
is built for, as a bluenet app binary starts with its header, then the app precompiled (a ROMFS
image holding its .mpy, which the board runs in place: nothing is compiled on the board) or,
with --source, its source; CRC16-CCITT over header and body."""
from __future__ import annotations

import ast
import binascii

from firmware.app_store import HEADER_PREFIX, SDK_VERSION, parse_header
from host.flashing import FlashError
from host.sdk_constants import fold

# firmware/loader.py's literals: the precompiled app's module, and the name it imports to take
# its namespace
APP_MODULE = "microapp_app"
APP_ENV = "__microapp_env__"

# The precompiled app's first line (firmware/loader.py): it takes the app's namespace (print,
# the shadowed builtins). It stands where the header line stands in a source image, so both
# forms number the app's lines alike, and its frames say "<string>" as exec'd source does.
PROLOGUE = b'globals().update(__import__("%s"))\n' % APP_ENV.encode()


def build_image(source: bytes, mpy: int | None = None) -> bytes:
    """The bytes to upload: a header line (the app's own when it starts with one, else one for
    the host's SDK version), then the app's source, or with `mpy` (the board's
    sys.implementation._mpy) the ROMFS image of its .mpy compiled for that bytecode."""
    if source.startswith(HEADER_PREFIX):
        if parse_header(source)[0] is None:
            first = source.split(b"\n", 1)[0].decode("utf-8", "replace")
            raise FlashError(f"the app's header line {first!r} does not say sdk=MAJOR.MINOR")
        header, _, body = source.partition(b"\n")
        header += b"\n"
    else:
        header = b"%ssdk=%d.%d build=0\n" % (HEADER_PREFIX, SDK_VERSION[0], SDK_VERSION[1])
        body = source
    body = fold(body)  # the SDK's constants: the board's SDK holds none (host/sdk_constants.py)
    if mpy is None:
        return header + body
    return header + _image(PROLOGUE + body, mpy)


def _image(code: bytes, mpy: int) -> bytes:
    """The ROMFS image of `code` (the prologue and the app) compiled for bytecode `mpy`."""
    from host.flashing.mpy import compile_source, compiler_for
    from host.flashing.romfs import romfs_image
    return romfs_image([(APP_MODULE + ".mpy", compile_source(compiler_for(mpy), "<string>", code))])


def run_image(source: bytes, mpy: int) -> bytes | None:
    """The app (its source, the SDK's constants folded in: host/board_install.py's run_form) as
    `microapp run --port` sends it (no header: it is not stored): precompiled for
    bytecode `mpy`, the prologue joined to the app's first line by a semicolon so that its
    frames number the file's own lines; None when that line begins a compound statement (def,
    class, if, a decorator...), which nothing can stand before on its line: it goes as source."""
    tree = ast.parse(source)
    starts = [min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
              for node in tree.body]
    if starts and starts[0] == 1 and not isinstance(tree.body[0], _SIMPLE):
        return None
    return _image(PROLOGUE.rstrip(b"\n") + b";" + source, mpy)


# the statements that may follow another on its line (the rest are compound)
_SIMPLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Import, ast.ImportFrom, ast.Pass,
           ast.Break, ast.Continue, ast.Return, ast.Raise, ast.Global, ast.Nonlocal, ast.Assert,
           ast.Delete)


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
