# Turn a microapp's source into its entry points, with `import microapp` resolving to the SDK
# and print() sending log requests; and contain it: the app sees what a MicroPython nRF52 board
# offers an app and no more (docs/faults.md, "Levels of containment"). Runs under MicroPython
# and CPython.
import builtins
import sys

try:
    from micropython import const
except ImportError:  # CPython: const(x) is x
    def const(value):  # type: ignore[misc]
        return value

from firmware import microapp
from firmware.runtime import SDK_CELL

_MICROPYTHON = sys.implementation.name == "micropython"  # the board's build: const(1), and the
# code under `if not _MICROPYTHON:` is not on the board (host/flashing/fold.py's on_board)

# The nrf port's modules (micropython-nrf-stubs lists them) an app may import (split at use: one
# constant on the board's heap). The simulator gives an app a view of each: the names MicroPython
# gives it only (firmware/loader_cpython.py's VIEW_NAMES), so no submodule (json.decoder reaches
# codecs.sys), no private name (random._os), no Python class of the host's (json.JSONEncoder,
# which an app could patch and the host would then run). On a board a module is given whole but
# sys and micropython (sys.modules reaches the firmware; micropython.kbd_intr would stop the
# host's Ctrl-C reset): their views' names are _app_import's.
# Withheld: os/uos, vfs, io (the board's files hold main.py, the firmware and the app store),
# machine, nrf, board, ble, ubluepy, ubluetooth (the firmware owns the hardware: the SDK is the
# app's way to it), uctypes (raw memory), select, socket, and every CPython-only module.
_APP_MODULES = const("array cmath errno math binascii collections hashlib heapq json random re "
                     "struct time gc sys micropython")  # (folded into its use: no global)
if not _MICROPYTHON:
    APP_MODULES = _APP_MODULES  # the host's name (host/sandbox.py)
    from firmware import loader_cpython as _cpython

# A precompiled app (tools/flash.py app) is a ROMFS image holding microapp_app.mpy, imported
# from it in place; its first line (put there by the host, host/flashing/app_image.py) asks for
# its namespace by importing "__microapp_env__", which the hook answers once per load from
# sys.modules, where load_app leaves it: `globals().update(__import__("__microapp_env__"))`.
# (The names are literals here: a global for each would cost the board's heap.)
_image = None  # the running precompiled app's image: its bytecode runs from it

# The firmware's own import (builtins.__import__ is the app's while the firmware serves): this
# global comes first for the loader's own calls.
__import__ = __import__
firmware_open = open  # the firmware's own open(), for a write it makes within the app's call
in_app = False  # the app's code runs (firmware/run_flag.py keeps it): open() refuses


# The app's __import__ and (on a board) open(), and the shadowing functions, made once at boot:
# an app's RAM is its own objects, not the loader's. They are made by the SDK's module: an app
# that walks from one to its __globals__ finds the SDK's globals, not the loader's.
@microapp._Lazy._closed_over  # type: ignore[arg-type]  # (a plain function in the class)
def _app_import(name, globals=None, locals=None, fromlist=(), level=0):
    """The app's __import__: the SDK and the board's modules (u-prefixed names too), else
    ImportError with MicroPython's message. A module is a new view at every import (an app that
    changes one changes only its own), or on a board the module itself."""
    if name == "microapp":
        if not _MICROPYTHON:
            return _cpython.sdk_view()
        return microapp  # the board's heap: the SDK itself (it holds the board's runtime only)
    if name == "__microapp_env__" and name in sys.modules:  # once: the load checks it went
        return sys.modules.pop(name)
    if _MICROPYTHON and (not in_app or SDK_CELL[1]):
        # The hook is all code's there: the firmware's own import, or the SDK's lazy one
        # (firmware/microapp.py's _Lazy, which says so in the SDK's cell).
        return __import__(name, globals, locals, fromlist, level)
    if level:
        raise ImportError("no module named '%s'" % name)
    modules = _APP_MODULES.split()
    if name.startswith("u") and name[1:] in modules:
        name = name[1:]
    if not _MICROPYTHON:
        if name in _cpython.extra:
            return __import__(name, globals, locals, fromlist, level)
    if name not in modules:
        raise ImportError("no module named '%s'" % name)
    names = {"sys": "byteorder implementation maxsize platform version version_info exit "
                    "print_exception stdout",  # stdout: on a board the firmware logs it
             "micropython": "const native viper opt_level"}.get(name)
    if not _MICROPYTHON:
        return _cpython.module_view(name, names)
    module = __import__(name)
    if names is None:
        return module  # a MicroPython module holds no Python class and no way back
    return microapp._Lazy._View(name, [(key, getattr(module, key)) for key in names.split()
                                       if hasattr(module, key)])


@microapp._Lazy._closed_over  # type: ignore[arg-type]  # (a plain function in the class)
def _app_open(*args, **kwargs):
    # MicroPython's open() for all code while the firmware serves: the firmware's, not the app's.
    if in_app:
        raise OSError(1)  # EPERM
    return firmware_open(*args, **kwargs)


# (the factory is the two functions' only: let go, its slot of _Lazy's table is the one
# _withheld takes below, 12 entries in 12 slots, not 13 in 17)
del microapp._Lazy._closed_over


# Withheld builtins, shadowed in the board's app globals (those the port has; CPython's breakpoint
# and vars MicroPython has not; the simulator's builtins table holds none of them): files, code
# from strings (which would also skip the simulator's name check, loader_cpython.compiled), the
# console, the app's own namespace dicts (a shadowed name could be deleted through them).
# getattr & co. are the port's own on a board: there `o.__class__` reaches what a computed name
# would (no name check), so refusing one would stop nothing (docs/faults.md, "On a board").
if _MICROPYTHON:
    # (the names one string: a tuple would cost more; a shadow is a stand-in of the SDK's with
    # no module, which raises NameError for its name: firmware/microapp.py's _Lazy._withheld)
    _shadows = microapp._Lazy._withheld = {
        key: microapp._Lazy()
        for key in "open exec eval compile execfile input help globals locals".split()
        if hasattr(builtins, key)}


def release():
    """The firmware's own imports again (MicroPython: the board's main program ends)."""
    if _MICROPYTHON:
        builtins.__import__ = __import__
        builtins.open = firmware_open


def load_app(code, name="microapp_app", passthrough=(), extra_modules=()):
    """Execute the app's code (source text, a code object, or on a board a precompiled app's
    image) contained; return (setup, loop).
    passthrough: the link's own BaseExceptions, which are not the app's. extra_modules: modules
    the app may import whole beyond the board's (tests of --isolate give an app `os` or
    `ctypes`, as an escape through CPython's internals would)."""
    microapp.bind(None)
    namespace = {"__name__": name, "print": microapp.log}
    if _MICROPYTHON:
        # One builtins module for all code: shadow names in the app's globals (globals come
        # first), and take over __import__ for as long as the firmware serves (release()).
        namespace.update(_shadows)
        builtins.__import__ = _app_import
        builtins.open = _app_open  # for an app that deletes its shadowed open
    else:
        _cpython.extra = tuple(extra_modules)
        code = _cpython.compiled(code)
        namespace["__builtins__"] = _cpython.builtins_table(_app_import)
    global in_app, _image
    was, in_app = in_app, True  # the app's own code runs (the run flag keeps it after the load)
    try:
        if _MICROPYTHON and not isinstance(code, str):
            # A precompiled app: imported from its image, in `namespace` (its first line takes
            # it). The image stays referenced while the app runs: its bytecode is the image's
            # bytes (a collector does not follow pointers into the middle of them).
            vfs = __import__("vfs")  # the firmware's import: the app's hook refuses vfs
            if not hasattr(vfs, "VfsRom"):
                raise ImportError("this board cannot run a precompiled app (no vfs.VfsRom): "
                                  "upload it with tools/flash.py app --source")
            try:
                vfs.umount("/_microapp")  # left by a load that died in between
            except OSError:
                pass
            vfs.mount(vfs.VfsRom(code), "/_microapp")
            sys.path.insert(0, "/_microapp")
            sys.modules["__microapp_env__"], _image = namespace, code
            try:
                namespace = __import__("microapp_app").__dict__
                if "__microapp_env__" in sys.modules:  # an image tools/flash.py did not build
                    raise ImportError("the precompiled app does not start with the SDK's first "
                                      "line (build it with tools/flash.py app)")
            finally:
                sys.modules.pop("__microapp_env__", None)
                sys.path.remove("/_microapp")
                sys.modules.pop("microapp_app", None)
                vfs.umount("/_microapp")
        else:
            exec(code, namespace)
    except Exception:
        raise
    except BaseException as e:
        if isinstance(e, passthrough):
            raise

        class AppLoadFault(Exception):
            """The app's top-level code raised a BaseException that is not an Exception
            (SystemExit, KeyboardInterrupt...): a fault of the app at load, like any other.
            (Made when raised: a class held by the module would cost the board's heap.)"""
        raise AppLoadFault("%s: %s" % (type(e).__name__, e))
    finally:
        in_app = was
    # none defined: tuple(), which does nothing (a function of the loader's would cost the
    # board's heap; tuple() allocates nothing)
    return namespace.get("setup", tuple), namespace.get("loop", tuple)
