# Turn a microapp's source into its entry points, with `import microapp` resolving to the SDK
# and print() sending log requests; and contain it: the app sees what a MicroPython nRF52 board
# offers an app and no more (docs/faults.md, "Levels of containment"). Runs under MicroPython
# and CPython.
import builtins
import sys

from firmware import microapp
from firmware.runtime import SDK_CELL as _SDK

_MICROPYTHON = sys.implementation.name == "micropython"

# The nrf port's modules (micropython-nrf-stubs lists them) an app may import. The simulator
# gives an app a view of each: the names MicroPython gives it only (firmware/loader_cpython.py's
# VIEW_NAMES, merged in under CPython; None: all of a C module's), so no submodule (json.decoder reaches codecs.sys), no private name
# (random._os), no Python class of the host's (json.JSONEncoder, which an app could patch and the
# host would then run). On a board a module is given whole but sys and micropython
# (sys.modules reaches the firmware; micropython.kbd_intr would stop the host's Ctrl-C reset).
# Withheld: os/uos, vfs, io (the board's files hold main.py, the firmware and the app store),
# machine, nrf, board, ble, ubluepy, ubluetooth (the firmware owns the hardware: the SDK is the
# app's way to it), uctypes (raw memory), select, socket, and every CPython-only module.
APP_MODULES = {  # type: dict
    "array": None, "cmath": None, "errno": None, "math": None, "binascii": None,
    "collections": None, "hashlib": None, "heapq": None, "json": None, "random": None, "re": None,
    "struct": None, "time": None, "gc": None,
    "sys": ("byteorder", "implementation", "maxsize", "platform", "version", "version_info",
            "exit", "print_exception", "stdout"),  # stdout: on a board the firmware logs it
    "micropython": ("const", "native", "viper", "opt_level"),
}
_BOARD_VIEWS = ("sys", "micropython")
# Withheld builtins: files, code from strings (which would also skip the simulator's name
# check, loader_cpython.compiled), the console, the app's own namespace dicts (a shadowed name
# could be deleted through them).
_WITHHELD = ("open", "exec", "eval", "compile", "execfile", "input", "help", "globals", "locals",
             "breakpoint", "vars")
if _MICROPYTHON:  # the board's heap: only what its loader uses
    HIDDEN_NAMES = ("__dict__", "__class__")  # all MicroPython has of CPython's (a tuple: less heap)
    _SHIMS = {}  # type: dict  # the board has both modules whole
else:
    from firmware import loader_cpython as _cpython
    from firmware.loader_cpython import HIDDEN_NAMES, SHIMS as _SHIMS  # type: ignore[assignment]
    APP_MODULES.update(_cpython.VIEW_NAMES)

# A precompiled app (tools/flash.py app) is a ROMFS image holding microapp_app.mpy, imported
# from it in place; its first line (put there by the host, host/flashing/app_image.py) asks for
# its namespace by importing "__microapp_env__", which the hook answers once per load:
# `globals().update(__import__("__microapp_env__"))`. (The names are literals here: a global
# for each would cost the board's heap.)
_env = None  # the namespace of the app being imported, until its first line took it
_image = None  # the running precompiled app's image: its bytecode runs from it

_original_import = __import__
_original_open = open
firmware_open = open  # the firmware's own open(), for a write it makes within the app's call
in_app = False  # the app's code runs (firmware/run_flag.py keeps it): open() refuses
_extra = ()  # modules given whole beyond the board's (load_app's extra_modules)


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
        return microapp._View(name, _public(app_sdk, None))
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
    return microapp._View(name, _public(module, APP_MODULES[name], shim))


def app_import(name, globals=None, locals=None, fromlist=(), level=0):
    """The app's __import__: the SDK and the board's modules (u-prefixed names too), else
    ImportError with MicroPython's message."""
    global in_app, _env
    if name == "microapp":
        return _module_view(name)
    if name == "__microapp_env__" and _env is not None:
        env, _env = _env, None
        return env
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
del _key, _fn  # globals of the loop: no heap for them
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
        space["__builtins__"] = _cpython.builtins_table(_app_import, _shadows)
    return space


def release():
    """The firmware's own imports again (MicroPython: the board's main program ends)."""
    if _MICROPYTHON:
        builtins.__import__ = _original_import
        builtins.open = _original_open


class AppLoadFault(Exception):
    """The app's top-level code raised a BaseException that is not an Exception (SystemExit,
    KeyboardInterrupt...): a fault of the app at load, like any other."""


def load_app(code, name="microapp_app", passthrough=(), extra_modules=()):
    """Execute the app's code (source text, a code object, or on a board a precompiled app's
    image) contained; return (setup, loop).
    passthrough: the link's own BaseExceptions, which are not the app's. extra_modules: modules
    the app may import whole beyond the board's (tests of --isolate give an app `os` or
    `ctypes`, as an escape through CPython's internals would)."""
    global _extra
    _extra = tuple(extra_modules)
    microapp.bind(None)
    if not _MICROPYTHON:
        code = _cpython.compiled(code)
    namespace = _namespace(name)
    global in_app
    was, in_app = in_app, True  # the app's own code runs (the run flag keeps it after the load)
    try:
        if _MICROPYTHON and not isinstance(code, str):
            namespace = _imported(code, namespace)
        else:
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


def _imported(image, namespace):
    """Import a precompiled app from its image, in `namespace` (its first line takes it);
    the module's globals. The image stays referenced while the app runs: its bytecode is
    the image's bytes (a collector does not follow pointers into the middle of them)."""
    global _env, _image
    vfs = _original_import("vfs")  # the firmware's import: the app's hook refuses vfs
    if not hasattr(vfs, "VfsRom"):
        raise ImportError("this board cannot run a precompiled app (no vfs.VfsRom): upload it "
                          "with tools/flash.py app --source")
    try:
        vfs.umount("/_microapp")  # left by a load that died in between
    except OSError:
        pass
    vfs.mount(vfs.VfsRom(image), "/_microapp")
    sys.path.insert(0, "/_microapp")
    _env, _image = namespace, image
    try:
        module = _original_import("microapp_app")
        if _env is not None:  # an image tools/flash.py did not build: it ran without the SDK's
            raise ImportError("the precompiled app does not start with the SDK's first line "
                              "(build it with tools/flash.py app)")
    finally:
        _env = None
        sys.path.remove("/_microapp")
        sys.modules.pop("microapp_app", None)
        vfs.umount("/_microapp")
    return module.__dict__


def _nothing():
    pass
