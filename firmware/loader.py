# Turn a microapp's source into its entry points, with `import microapp` resolving to the SDK
# and print() sending log requests; and contain it: the app sees what a MicroPython nRF52 board
# offers an app and no more (docs/faults.md, "Levels of containment"). Runs under MicroPython
# and CPython.
import builtins
import sys

from firmware import app_sdk, microapp

_MICROPYTHON = sys.implementation.name == "micropython"

# The nrf port's modules (micropython-nrf-stubs lists them) an app may import; None: all of its
# public names, else only these (sys.modules, gc.get_referrers and the like reach the firmware).
# Withheld: os/uos, vfs, io (the board's files hold main.py, the firmware and the app store),
# machine, nrf, board, ble, ubluepy, ubluetooth (the firmware owns the hardware: the SDK is the
# app's way to it), uctypes (raw memory), select, socket, and every CPython-only module.
APP_MODULES = {
    "array": None, "binascii": None, "cmath": None, "collections": None, "errno": None,
    "hashlib": None, "heapq": None, "json": None, "math": None, "random": None, "re": None,
    "struct": None, "time": None,
    "gc": ("collect", "enable", "disable", "isenabled", "mem_alloc", "mem_free", "threshold"),
    "sys": ("byteorder", "implementation", "maxsize", "platform", "version", "version_info",
            "exit", "print_exception"),
    "micropython": ("const", "native", "viper", "opt_level"),
}
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

_original_import = __import__
_original_open = open
in_app = False  # the app's code runs (firmware/run_flag.py keeps it): open() refuses
_extra = ()  # modules given whole beyond the board's (load_app's extra_modules)


class _View:
    """What an app gets for a module: the names it may use, no path back to the module."""

    def __init__(self, name, names):
        self.__name__ = name
        for key, value in names:
            setattr(self, key, value)


class _MicroPythonShim:
    # CPython has no `micropython` module: what an app uses of it, as no-ops.
    opt_level = 0

    @staticmethod
    def const(x):
        return x

    @staticmethod
    def native(f):
        return f

    viper = native


_views = {}  # type: dict


def _public(module, only):
    names = []
    for key in (only if only is not None else dir(module)):
        if key.startswith("_") or not hasattr(module, key):
            continue
        value = getattr(module, key)
        if type(value) is type(sys):  # a submodule: json.decoder reaches codecs.sys...
            continue
        names.append((key, value))
    return names


def _module_view(name):
    view = _views.get(name)
    if view is not None:
        return view
    if name == "microapp":
        view = app_sdk
    elif name not in APP_MODULES:
        raise ImportError("no module named '%s'" % name)
    else:
        try:
            module = _original_import(name)
        except ImportError:
            if name != "micropython":
                raise ImportError("no module named '%s'" % name)
            module = _MicroPythonShim
        only = APP_MODULES[name]
        if _MICROPYTHON and only is None:
            view = module  # a MicroPython module holds no way back to the firmware
        else:
            view = _View(name, _public(module, only))
    _views[name] = view
    return view


def app_import(name, globals=None, locals=None, fromlist=(), level=0):
    """The app's __import__: the SDK and the board's modules (u-prefixed names too), else
    ImportError with MicroPython's message."""
    if level:
        raise ImportError("no module named '%s'" % name)
    if name.startswith("u") and name[1:] in APP_MODULES:
        name = name[1:]
    if name in _extra:
        return _original_import(name, globals, locals, fromlist, level)
    return _module_view(name)


def _guarded(fn):
    # getattr & co. refuse the hidden names, so that a computed name cannot reach them either.
    def guarded(obj, name, *rest):
        if isinstance(name, str) and name in HIDDEN_NAMES:
            raise AttributeError("'%s' is hidden from a microapp" % name)
        return fn(obj, name, *rest)
    return guarded


def _firmware_open(*args, **kwargs):
    # MicroPython's open() for all code while the firmware serves: the firmware's, not the app's.
    if in_app:
        raise OSError(1)  # EPERM
    return _original_open(*args, **kwargs)


def _withheld(name):
    def withheld(*args, **kwargs):
        raise NameError("name '%s' isn't defined" % name)
    return withheld


def _namespace(name):
    space = {"__name__": name}
    if _MICROPYTHON:
        # One builtins module for all code: shadow names in the app's globals (globals come
        # first), and take over __import__ for as long as the firmware serves (release()).
        for key in _WITHHELD:
            space[key] = _withheld(key)
        builtins.__import__ = app_import
        builtins.open = _firmware_open  # for an app that deletes its shadowed open
        table = space
    else:
        table = {key: getattr(builtins, key) for key in _BUILTINS if hasattr(builtins, key)}
        table["__import__"] = app_import
        space["__builtins__"] = table
    for key, fn in (("getattr", getattr), ("setattr", setattr), ("delattr", delattr),
                    ("hasattr", hasattr)):
        table[key] = _guarded(fn)
    space["print"] = microapp.log
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
    try:
        exec(code, namespace)
    except Exception:
        raise
    except BaseException as e:
        if isinstance(e, passthrough):
            raise
        raise AppLoadFault("%s: %s" % (type(e).__name__, e))
    return namespace.get("setup", _nothing), namespace.get("loop", _nothing)


def _nothing():
    pass
