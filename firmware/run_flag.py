# The board's own "app is running" flag (bluenet sets one in IPC RAM before each call into the
# microapp and clears it after; a warm reboot finds it set: did-reboot, the app is not started).
# Here the flag is the nRF52's retained register GPREGRET2 (machine.mem_backup(1), the nrf
# port's, ports/nrf/machine_mem_backup.c: kept over a soft or watchdog reset, cleared at
# power-on, as IPC RAM): _REGISTER_RUNNING from the moment the firmware resumes the app until it
# yields with no request pending (its final status for the entry; its top-level code likewise),
# 0 otherwise. A small text file on the board's flash, kept open, names the app (written when a
# session starts and at boot, not per entry: the flash would wear out, docs/faults.md) after
# its first character: "-", or "D" once a boot has blamed the app. (bluenet clears its flag at
# every yield; the register is cleared per entry and loader.in_app per switch.) A MicroPython
# without machine.mem_backup keeps the flag in the file's first character instead ("R" / "-"):
# on a littlefs /flash that write stays in the open file's cache, so such a board blames no app
# (python benchmarks/run_flag_bench.py).
# At boot, an app found running is marked did-reboot: in the app store when it is the store's
# enabled slot (not loaded again until enabled, as bluenet), else in the file (the board does
# not start it on its own; the host's next session for it does, as the host keeps the app's
# flags). A reset by the host's watchdog is such a reset: the app was running when it came.
# While the flag is up, the loader's open() refuses (firmware/loader.py).
# The module is the flag (board_main gives it to Board): functions and globals, not a class and
# an instance of it, which would cost the board's heap a type, its dict and two tables.
# Runs under MicroPython (and CPython, for tests).
try:
    from micropython import const
except ImportError:  # CPython
    def const(value):  # type: ignore[misc]
        return value

from firmware import loader
from shared_buffers.protocol import REQUEST

_FLAG_FILE = const("microapp_running")
# The file's first character, the state: "R" running, "-" idle, "D" did-reboot. The file is text
# and the states are written as literals: a str this short is a name, whereas a const() str (as
# a bytes constant) would be an object on the board's heap.
_REGISTER_RUNNING = const(0x52)  # GPREGRET2 while the app runs ("R"); 0 at power-on


rebooted = ""  # the app the board does not start on its own (it was running at a reset)
_file = None  # the flag file, open from at_boot() on
_armed = False  # the flag says RUNNING
_register = None  # machine.mem_backup(1), from at_boot() on; None: the flag is the file's


def at_boot(path):
    """The boot's look at the flag file, which it then keeps open: the app that was running
    when the board reset is blamed, did-reboot in the app store when it is the store's enabled
    slot (`path` is the installed app's), else in this file. Returns the app's name. Only then
    is the app store imported, and let go again: a boot that loaded it would keep its names for
    good (the board's interned names are never freed: ~50 of them, past the name table's
    300-entry pool)."""
    global rebooted, _file, _register
    try:
        with open(_FLAG_FILE) as f:
            data = f.read(200)
    except OSError:
        data = ""
    state, app = data[:1], data[1:].split("\n")[0]  # what the last run left
    try:
        from machine import mem_backup
        _register = mem_backup(1)
    except (ImportError, ValueError):  # no retained register: the file's first character
        pass
    else:
        if state != "D":  # the register says whether the app ran, the file names it
            state = "R" if _register[0] == _REGISTER_RUNNING else "-"
        _register[0] = 0
    rebooted = app if state == "D" else ""
    _file = open(_FLAG_FILE, "w")
    # the app this boot loads is named: a reset while its top-level code runs blames it
    if rebooted:
        _write("D", rebooted)
    else:
        _write("-", path)
    # (every app the flag names has a name: HELLO's "" is the installed app's)
    if state != "R" or not app:
        return ""
    found = None
    if app == path:
        import sys
        from firmware import app_store
        try:
            store = app_store.AppStore()
            found = store.enabled_app()
            if found is not None:
                store.set_flag(found[0], "did_reboot")
        finally:  # let go as board_main's _app_source lets go of app_slot
            import firmware
            del firmware.app_store, sys.modules[app_store.__name__]
    if found is None:
        rebooted = app
        _write("D", app)
    return app


def start(app):
    """A session for `app` (the host's HELLO, which clears the file's blame)."""
    global rebooted
    rebooted = ""
    _write("-", app)


def enter():
    """The firmware hands control to the app."""
    global _armed
    loader.in_app = True
    if not _armed:
        _armed = True
        if _register is not None:
            _register[0] = _REGISTER_RUNNING
        else:
            _file.seek(0)
            _file.write("R")  # the write per entry: the file system's own, no flush


def leave(m2b):
    """The app yielded (m2b: its buffer) or its code ended (None). The flag is cleared only when
    no request of the app is pending: one write per entry, not per soft yield (a file write
    costs more than a switch)."""
    global _armed
    loader.in_app = False
    if _armed and (m2b is None or m2b[1] != REQUEST):
        _armed = False
        if _register is not None:
            _register[0] = 0
        else:
            _file.seek(0)
            _file.write("-")


def _write(state, app):
    """The state, then `app`'s name, flushed (on a posix VFS flush is fsync)."""
    _file.seek(0)
    _file.write(state + app + "\n")  # the name ends at the newline: the file is not truncated
    _file.flush()
