# Turn a microapp's source into its entry points, with `import microapp` resolving to the SDK
# and print() sending log requests; and contain it: the app sees what a MicroPython nRF52 board
# offers an app and no more (docs/faults.md, "Levels of containment"). Runs under MicroPython
# and CPython.
import builtins
import sys

from firmware import microapp
from firmware.runtime import SDK_CELL as _SDK

_MICROPYTHON = sys.implementation.name == "micropython"

# The nrf port's modules (micropython-nrf-stubs lists them) an app may import, with the names
# MicroPython gives each (None: all of a C module's). The simulator gives an app a view of each:
# these names only, so no submodule (json.decoder reaches codecs.sys), no private name
# (random._os), no Python class of the host's (json.JSONEncoder, which an app could patch and the
# host would then run). On a board a module is given whole but sys and micropython
# (sys.modules reaches the firmware; micropython.kbd_intr would stop the host's Ctrl-C reset).
# Withheld: os/uos, vfs, io (the board's files hold main.py, the firmware and the app store),
# machine, nrf, board, ble, ubluepy, ubluetooth (the firmware owns the hardware: the SDK is the
# app's way to it), uctypes (raw memory), select, socket, and every CPython-only module.
APP_MODULES = {
    "array": ("array",), "cmath": None, "errno": None, "math": None,
    "binascii": ("hexlify", "unhexlify", "a2b_base64", "b2a_base64", "crc32"),
    "collections": ("deque", "namedtuple", "OrderedDict"),
    "hashlib": ("sha256", "sha1", "md5"),
    "heapq": ("heappush", "heappop", "heapify"),
    "json": ("dump", "dumps", "load", "loads"),
    "random": ("getrandbits", "seed", "randrange", "randint", "choice", "random", "uniform"),
    "re": ("compile", "match", "search", "sub", "split", "DEBUG"),
    "struct": ("calcsize", "pack", "pack_into", "unpack", "unpack_from"),
    "time": ("sleep", "sleep_ms", "sleep_us", "ticks_ms", "ticks_us", "ticks_cpu", "ticks_add",
             "ticks_diff", "time", "time_ns", "localtime", "mktime", "gmtime"),
    "gc": ("collect", "enable", "disable", "isenabled", "mem_alloc", "mem_free", "threshold"),
    "sys": ("byteorder", "implementation", "maxsize", "platform", "version", "version_info",
            "exit", "print_exception", "stdout"),  # stdout: on a board the firmware logs it
    "micropython": ("const", "native", "viper", "opt_level"),
}
_BOARD_VIEWS = ("sys", "micropython")
# MicroPython nrf's builtins (less the ones below); print is the SDK's log().
_BUILTINS = (
    "ArithmeticError AssertionError AttributeError BaseException EOFError Ellipsis Exception "
    "GeneratorExit ImportError IndentationError IndexError KeyError KeyboardInterrupt LookupError "
    "MemoryError NameError NotImplemented NotImplementedError OSError OverflowError RuntimeError "
    "StopAsyncIteration StopIteration SyntaxError SystemExit TypeError UnicodeError ValueError "
    "ZeroDivisionError __build_class__ abs all any bin bool bytearray bytes callable chr "
    "classmethod complex dict dir divmod enumerate filter float frozenset hash hex id int "
    "isinstance issubclass iter len list map max memoryview min next object oct ord pow property "
    "range repr reversed round set slice sorted staticmethod str sum super tuple type zip"
).split()
# Withheld builtins: files, code from strings (which would also skip the name check below),
# the console, the app's own namespace dicts (a shadowed name could be deleted through them).
_WITHHELD = ("open", "exec", "eval", "compile", "execfile", "input", "help", "globals", "locals",
             "breakpoint", "vars")
# CPython's ways from an object to the host's (function globals, frames, class trees) and a
# finaliser that would run outside any call the watchdog sees. The simulator refuses an app
# that names one; MicroPython has none of them but __dict__/__class__.
HIDDEN_NAMES = frozenset((
    "__globals__", "__builtins__", "__code__", "__closure__", "__func__", "__self__", "__dict__",
    "__class__", "__bases__", "__base__", "__mro__", "__subclasses__", "__traceback__",
    "__context__", "__cause__", "__getattribute__", "__reduce__", "__reduce_ex__", "__loader__",
    "__spec__", "__del__", "__import__", "__init_subclass__", "__set_name__", "__objclass__",
    "__wrapped__", "__defaults__", "__kwdefaults__", "gi_frame", "gi_code", "gi_yieldfrom",
    "gi_suspended", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code", "f_back",
    "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next", "co_consts",
    "co_code", "mro",
))

if _MICROPYTHON:  # the board's heap: only what its loader uses
    _BUILTINS = ()  # type: ignore[assignment]
    HIDDEN_NAMES = frozenset(("__dict__", "__class__"))  # type: ignore[assignment]

_original_import = __import__
_original_open = open
firmware_open = open  # the firmware's own open(), for a write it makes within the app's call
in_app = False  # the app's code runs (firmware/run_flag.py keeps it): open() refuses
_extra = ()  # modules given whole beyond the board's (load_app's extra_modules)


_View = microapp._View


if _MICROPYTHON:  # the board has both modules whole: no shim takes heap there
    _SHIMS = {}  # type: dict
else:
    from firmware.cpython_shims import SHIMS as _SHIMS


def _public(module, only, shim=None):
    names = []
    for key in (only if only is not None else dir(module)):
        if key.startswith("_"):
            continue
        if hasattr(module, key):
            value = getattr(module, key)
        elif shim is not None and hasattr(shim, key):
            value = getattr(shim, key)
        else:
            continue
        if type(value) is type(sys):  # a submodule (a C module's list may hold one)
            continue
        if isinstance(value, (dict, list)):  # errno.errorcode: the app's own copy
            value = type(value)(value)
        names.append((key, value))
    return names


def _module_view(name):
    """A new view at every import (an app that changes one changes only its own), or on a
    board the module itself."""
    if name == "microapp":
        if _MICROPYTHON:  # the board's heap: the SDK itself (it holds the board's runtime only)
            return microapp
        from firmware import app_sdk
        return _View(name, _public(app_sdk, None))
    if name not in APP_MODULES:
        raise ImportError("no module named '%s'" % name)
    shim = _SHIMS.get(name)
    try:
        module = _original_import(name)
    except ImportError:
        if name != "micropython":
            raise ImportError("no module named '%s'" % name)
        module = shim
    if _MICROPYTHON and name not in _BOARD_VIEWS:
        return module  # a MicroPython module holds no Python class and no way back
    return _View(name, _public(module, APP_MODULES[name], shim))


def app_import(name, globals=None, locals=None, fromlist=(), level=0):
    """The app's __import__: the SDK and the board's modules (u-prefixed names too), else
    ImportError with MicroPython's message."""
    global in_app
    if name == "microapp":
        return _module_view(name)
    if _MICROPYTHON and (not in_app or _SDK[1]):
        # The hook is all code's there: the firmware's own import, or the SDK's lazy one
        # (firmware/microapp.py's _world(), _radio(), which say so in the SDK's cell).
        return _original_import(name, globals, locals, fromlist, level)
    if level:
        raise ImportError("no module named '%s'" % name)
    if name.startswith("u") and name[1:] in APP_MODULES:
        name = name[1:]
    if name in _extra:
        return _original_import(name, globals, locals, fromlist, level)
    return _module_view(name)


def _firmware_open(*args, **kwargs):
    # MicroPython's open() for all code while the firmware serves: the firmware's, not the app's.
    if in_app:
        raise OSError(1)  # EPERM
    return _original_open(*args, **kwargs)


# The shadowing functions, made once at boot: an app's RAM is its own objects, not the loader's.
# They, the app's __import__ and (on a board) open() are made by the SDK's module: an app that
# walks from one to its __globals__ finds the SDK's globals, not the loader's.
_shadows = {key: microapp._withheld(key) for key in _WITHHELD}
for _key, _fn in (("getattr", getattr), ("setattr", setattr), ("delattr", delattr),
                  ("hasattr", hasattr)):
    _shadows[_key] = microapp._guarded(_fn, HIDDEN_NAMES)
_app_import = microapp._closed_over(app_import)
_app_open = microapp._closed_over(_firmware_open)


def _namespace(name):
    space = {"__name__": name, "print": microapp.log}
    if _MICROPYTHON:
        # One builtins module for all code: shadow names in the app's globals (globals come
        # first), and take over __import__ for as long as the firmware serves (release()).
        space.update(_shadows)
        builtins.__import__ = _app_import
        builtins.open = _app_open  # for an app that deletes its shadowed open
    else:
        table = {key: getattr(builtins, key) for key in _BUILTINS if hasattr(builtins, key)}
        table["__import__"] = _app_import
        for key in ("getattr", "setattr", "delattr", "hasattr"):
            table[key] = _shadows[key]
        space["__builtins__"] = table
    return space


def release():
    """The firmware's own imports again (MicroPython: the board's main program ends)."""
    if _MICROPYTHON:
        builtins.__import__ = _original_import
        builtins.open = _original_open


def _hidden_names(code):
    """The hidden names a code object (and the code nested in it) uses (CPython)."""
    found = set(code.co_names) & HIDDEN_NAMES
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            found |= _hidden_names(const)
    return found


class AppLoadFault(Exception):
    """The app's top-level code raised a BaseException that is not an Exception (SystemExit,
    KeyboardInterrupt...): a fault of the app at load, like any other."""


def load_app(code, name="microapp_app", passthrough=(), extra_modules=()):
    """Execute the app's code (source text or a code object) contained; return (setup, loop).
    passthrough: the link's own BaseExceptions, which are not the app's. extra_modules: modules
    the app may import whole beyond the board's (tests of --isolate give an app `os` or
    `ctypes`, as an escape through CPython's internals would)."""
    global _extra
    _extra = tuple(extra_modules)
    microapp.bind(None)
    if not _MICROPYTHON:
        if isinstance(code, str):
            code = compile(code, "<microapp>", "exec")
        hidden = _hidden_names(code)
        if hidden:
            raise ImportError("the app uses %s, which a microapp cannot reach (docs/faults.md)"
                              % ", ".join(sorted(hidden)))
    namespace = _namespace(name)
    global in_app
    was, in_app = in_app, True  # the app's own code runs (the run flag keeps it after the load)
    try:
        exec(code, namespace)
    except Exception:
        raise
    except BaseException as e:
        if isinstance(e, passthrough):
            raise
        raise AppLoadFault("%s: %s" % (type(e).__name__, e))
    finally:
        in_app = was
    return namespace.get("setup", _nothing), namespace.get("loop", _nothing)


def _nothing():
    pass
