# The board's own "app is running" flag (bluenet sets one in IPC RAM before each call into the
# microapp and clears it after; a warm reboot finds it set: did-reboot, the app is not started).
# Here the flag is the nRF52's retained register GPREGRET2 (machine.mem_backup(1), the nrf
# port's, ports/nrf/machine_mem_backup.c: kept over a soft or watchdog reset, cleared at
# power-on, as IPC RAM): _RUNNING from the moment the firmware resumes the app until it yields
# with no request pending (its final status for the entry; its top-level code likewise), 0
# otherwise. A small file on the board's flash names the app (written when a session starts,
# not per entry: the flash would wear out, docs/faults.md) and holds b"D" once a boot has
# blamed it. (bluenet clears its flag at every yield; the register is cleared per entry and
# loader.in_app per switch.) A MicroPython without machine.mem_backup keeps the flag in the
# file's first byte instead (b"R" / b"-"): on a littlefs /flash that write stays in the open
# file's cache, so such a board blames no app (python benchmarks/run_flag_bench.py).
# At boot, an app found running is marked did-reboot: in the app store when it is the store's
# enabled slot (not loaded again until enabled, as bluenet), else in the file (the board does
# not start it on its own; the host's next session for it does, as the host keeps the app's
# flags). A reset by the host's watchdog is such a reset: the app was running when it came.
# While the flag is up, the loader's open() refuses (firmware/loader.py).
# Runs under MicroPython (and CPython, for tests).
try:
    from micropython import const
except ImportError:  # CPython
    def const(value):  # type: ignore[misc]
        return value

from firmware import loader
from shared_buffers.protocol import REQUEST

_FLAG_FILE = const("microapp_running")
_RUNNING = const(b"R")
_IDLE = const(b"-")
_REBOOTED = const(b"D")
_REGISTER_RUNNING = const(0x52)  # GPREGRET2 while the app runs ("R"); 0 at power-on


class RunFlag:
    def __init__(self):
        try:
            with open(_FLAG_FILE, "rb") as f:
                data = f.read(200)
        except OSError:
            data = b""
        state, app = data[:1], data[1:].split(b"\n")[0].decode()  # what the last run left
        try:
            from machine import mem_backup
            self._register = mem_backup(1)
        except (ImportError, ValueError):  # no retained register: the file's first byte
            self._register = None
        else:
            if state != _REBOOTED:  # the register says whether the app ran, the file names it
                state = _RUNNING if self._register[0] == _REGISTER_RUNNING else _IDLE
            self._register[0] = 0
        self.found = app if state == _RUNNING else ""  # the app running at the reset, for at_boot
        # the app the board does not start on its own (it was running at a reset)
        self.rebooted = app if state == _REBOOTED else ""
        self._file = open(_FLAG_FILE, "wb")
        self._armed = False  # the flag says RUNNING
        self._write(_REBOOTED if self.rebooted else _IDLE, self.rebooted)

    def at_boot(self, path):
        """Blame the app that was running when the board reset: did-reboot in the app store
        when it is the store's enabled slot (`path` is the installed app's), else in this file.
        Returns the app's name. Only then is the app store imported, and let go again: a boot
        that loaded it would keep its names for good (the board's interned names are never
        freed: ~50 of them, past the name table's 300-entry pool)."""
        app = self.found
        if not app:  # (every app the flag names has a name: HELLO's "" is the installed app's)
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
                del firmware.app_store, sys.modules["firmware.app_store"]
        if found is None:
            self.rebooted = app
            self._write(_REBOOTED, app)
        return app

    def start(self, app):
        """A session for `app` (the host's HELLO, which clears the file's blame)."""
        self.rebooted = ""
        self._write(_IDLE, app)

    def enter(self):
        """The firmware hands control to the app."""
        loader.in_app = True
        if not self._armed:
            self._armed = True
            if self._register is None:
                self._write(_RUNNING, None)
            else:
                self._register[0] = _REGISTER_RUNNING

    def leave(self, m2b=None):
        """The app yielded (m2b: its buffer) or its code ended. The flag is cleared only when
        no request of the app is pending: one write per entry, not per soft yield (a file
        write costs more than a switch)."""
        loader.in_app = False
        if self._armed and (m2b is None or m2b[1] != REQUEST):
            self._armed = False
            if self._register is None:
                self._write(_IDLE, None)
            else:
                self._register[0] = 0

    def _write(self, state, app):
        """The state, then `app`'s name (None: the state alone, the write per entry: the file
        system's own, no flush; on a posix VFS flush is fsync)."""
        f = self._file
        f.seek(0)
        if app is None:
            f.write(state)
        else:
            f.write(state + app.encode() + b"\n")  # the name ends at the newline: the file is not truncated
            f.flush()

