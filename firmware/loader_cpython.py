# The simulator's half of firmware/loader.py: what containment needs under CPython only (the
# module views, the builtins table, the refused names), kept out of the board's heap: a board
# never imports this module.
import builtins
import sys

from firmware import microapp
from firmware.cpython_shims import SHIMS

extra = ()  # modules given whole beyond the board's (load_app's extra_modules)
# The names of each nrf module an app gets in the simulator's view of it (firmware/loader.py's
# APP_MODULES lists the modules and gives sys's and micropython's; a module not here: all of a C
# module's).
VIEW_NAMES = {
    "array": ("array",),
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
}
# MicroPython nrf's builtins (less the loader's _WITHHELD); print is the SDK's log().
BUILTINS = (
    "ArithmeticError AssertionError AttributeError BaseException EOFError Ellipsis Exception "
    "GeneratorExit ImportError IndentationError IndexError KeyError KeyboardInterrupt LookupError "
    "MemoryError NameError NotImplemented NotImplementedError OSError OverflowError RuntimeError "
    "StopAsyncIteration StopIteration SyntaxError SystemExit TypeError UnicodeError ValueError "
    "ZeroDivisionError __build_class__ abs all any bin bool bytearray bytes callable chr "
    "classmethod complex dict dir divmod enumerate filter float frozenset hash hex id int "
    "isinstance issubclass iter len list map max memoryview min next object oct ord pow property "
    "range repr reversed round set slice sorted staticmethod str sum super tuple type zip"
).split()
# CPython's ways from an object to the host's (function globals, frames, class trees) and a
# finaliser that would run outside any call the watchdog sees. The simulator refuses an app
# that names one, and getattr & co. refuse them (_guarded). A board checks no names (docs/faults.md,
# "On a board").
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


def sdk_view():
    """`import microapp`: firmware/app_sdk.py's public names."""
    from firmware import app_sdk
    return microapp._Lazy._View("microapp", _public(app_sdk, None))


def module_view(name, names):
    """A new view of the module `name` (of `names`, a space-separated string, when given)."""
    shim = SHIMS.get(name)
    try:
        module = __import__(name)
    except ImportError:
        if shim is None:
            raise ImportError("no module named '%s'" % name)
        module = shim  # CPython has no micropython module
    return microapp._Lazy._View(name, _public(module, names.split() if names else VIEW_NAMES.get(name),
                                        shim))


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


def builtins_table(app_import):
    """The app's __builtins__: nrf's builtins, the app's __import__, the guarded getattr & co."""
    table = {key: getattr(builtins, key) for key in BUILTINS if hasattr(builtins, key)}
    table["__import__"] = app_import
    for key in ("getattr", "setattr", "delattr", "hasattr"):
        table[key] = _guarded(getattr(builtins, key))
    return table


def _guarded(fn):
    # getattr & co. refuse the hidden names, so that a computed name cannot reach them either.
    def guarded(obj, name, *rest):
        if isinstance(name, str) and name in HIDDEN_NAMES:
            raise AttributeError("'%s' is hidden from a microapp" % name)
        return fn(obj, name, *rest)
    return guarded


def compiled(code):
    """The app's code object; ImportError when it names a hidden name."""
    if isinstance(code, str):
        code = compile(code, "<microapp>", "exec")
    hidden = _hidden_names(code)
    if hidden:
        raise ImportError("the app uses %s, which a microapp cannot reach (docs/faults.md)"
                          % ", ".join(sorted(hidden)))
    return code


def _hidden_names(code):
    """The hidden names a code object (and the code nested in it) uses."""
    found = set(code.co_names) & HIDDEN_NAMES
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            found |= _hidden_names(const)
    return found
