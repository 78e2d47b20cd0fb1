"""Persisted app state: bluenet's per-app flags and Tock's per-app counters, kept in a state file
so that they survive a restart of the host.

Per app (keyed by its file's resolved path: two hello.py in two folders are two apps, one file
reached as ./app.py or through a symlink is one): enabled, did-reboot (stopped by the watchdog),
exceeded-call-duration, faults, restarts, and where its events went (generated = delivered +
signalled + queued + uncounted, uncounted always 0). Flags are saved the moment they change,
counters at the end of a run. Every save merges under the lock: it reads the file, adds what
this run counted since its last save and sets the flags this run changed, so concurrent runs of
one app add up and none clears a flag another set. A write goes to a temporary file that
replaces the state file in one rename: a crash mid-write leaves the old file or the new one,
never a mix. `microapp status` shows the table, `microapp enable APP` clears the flags as bluenet's
Enable command does.
"""
from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from host.controller import Controller

DEFAULT_STATE_FILE = os.path.join(".microapp", "state.json")
_FORMAT = 1


class StateFileError(Exception):
    """The state file exists but is not one this host wrote."""


@dataclass(frozen=True)
class AppState:
    enabled: bool = True
    did_reboot: bool = False
    exceeded_call_duration: bool = False
    faults: int = 0
    restarts: int = 0
    generated: int = 0
    delivered: int = 0
    signalled: int = 0
    queued: int = 0  # events left in the host queue when a run ended
    uncounted: int = 0
    last_fault: str = ""

    def flags(self) -> list[str]:
        return [name for name, on in (("did-reboot", self.did_reboot),
                                      ("exceeded-call-duration", self.exceeded_call_duration)) if on]

    def apply_to(self, controller: Controller) -> None:
        controller.enabled = self.enabled
        controller.did_reboot = self.did_reboot
        controller.exceeded_call_duration = self.exceeded_call_duration


_COUNTERS = ("faults", "restarts", "generated", "delivered", "signalled", "queued", "uncounted")
_SWITCHES = ("enabled", "did_reboot", "exceeded_call_duration", "last_fault")


def app_key(app: str) -> str:
    """The key an app's state is kept under: its file's resolved path; a name that is no file
    (a test's, a state file from before) as it is."""
    return os.path.realpath(app) if os.path.isfile(app) else app


INSTALLED = "installed"  # what a board's installed app is called in messages and `microapp status`


def installed_app_key(port: str, found: tuple | None) -> str | None:
    """The key a board's installed app is kept under, from what the board says it runs (slot or
    "app.py", CRC, size; None: no app): the port, the slot and the CRC, so that two apps
    installed one after the other, or on two boards, keep their own counters and flags."""
    if found is None:
        return None
    where, crc, _size = found
    where = f"slot {where}" if isinstance(where, int) else where
    return f"{INSTALLED} on {port}: {where}, CRC {crc:04x}"


def app_name(key: str) -> str:
    """What an app is called in messages and `microapp status`: its file name without .py
    ("installed" for a board's installed app)."""
    if key.startswith(INSTALLED + " on "):
        return INSTALLED
    base = os.path.basename(key)
    return base[:-3] if base.endswith(".py") else base


def find_app(apps: dict[str, AppState], app: str) -> str | None:
    """The key of `app` (a path, or a name when one known app has it) among `apps`; None when
    none; ValueError when the name is several apps'."""
    key = app_key(app)
    if key in apps:
        return key
    named = [k for k in apps if app_name(k) == app_name(app)]
    if len(named) > 1:
        raise ValueError(f"{app!r} names {len(named)} apps: {', '.join(sorted(named))}; give its path")
    return named[0] if named else None


def _run_values(controller: Controller) -> dict:
    c = controller
    last = c.faults[-1] if c.faults else None
    return {"faults": c.app_faults, "restarts": c.restarts, **c.accounting(),
            "enabled": c.enabled, "did_reboot": c.did_reboot,
            "exceeded_call_duration": c.exceeded_call_duration,
            "last_fault": f"{last['where']}: {last['error']}" if last else ""}


class AppRun:
    """One run's share in an app's persisted state."""

    def __init__(self, store: StateStore, key: str) -> None:
        self.store = store
        self.key = key
        self.state = store.get(key)  # what the run starts from (apply_to the controller)
        self._saved = {**dict.fromkeys(_COUNTERS, 0),
                       **{k: getattr(self.state, k) for k in _SWITCHES if k != "last_fault"},
                       "last_fault": ""}

    def save(self, controller: Controller) -> AppState:
        """Merge this run into the state file: the counts since this run's last save added to
        what is there now, the flags and `enabled` this run changed since then set; all else as
        the file has it (another run's)."""
        now, last = _run_values(controller), self._saved
        with self.store._locked():
            apps = self.store.load()
            current = apps.get(self.key, AppState())
            changes: dict = {k: getattr(current, k) + now[k] - last[k] for k in _COUNTERS}
            changes.update({k: now[k] for k in _SWITCHES if now[k] != last[k]})
            apps[self.key] = state = replace(current, **changes)
            self.store._write(apps)
        self._saved = now
        return state


class StateStore:
    def __init__(self, path: str = DEFAULT_STATE_FILE) -> None:
        self.path = path

    def load(self) -> dict[str, AppState]:
        """Every app's state; {} when there is no state file yet. StateFileError when corrupt."""
        try:
            with open(self.path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise StateFileError(f"{self.path}: {e.strerror}") from None
        return _parse(self.path, text)

    def get(self, name: str) -> AppState:
        return self.load().get(name, AppState())

    def put(self, name: str, state: AppState) -> None:
        with self._locked():
            apps = self.load()
            apps[name] = state
            self._write(apps)

    def enable(self, name: str) -> AppState:
        """bluenet's Enable: the app runs again; did-reboot and exceeded-call-duration cleared
        (the counters stay: they are its history)."""
        with self._locked():
            apps = self.load()
            state = replace(apps.get(name, AppState()), enabled=True, did_reboot=False,
                            exceeded_call_duration=False)
            apps[name] = state
            self._write(apps)
        return state

    def _locked(self) -> _Lock:
        return _Lock(self.path + ".lock")

    def _write(self, apps: dict[str, AppState]) -> None:
        text = json.dumps({"format": _FORMAT, "apps": {n: asdict(s) for n, s in sorted(apps.items())}},
                          indent=1)
        directory = os.path.dirname(self.path) or "."
        tmp = self.path + ".tmp"  # one fixed name: a crash leaves no litter beyond it
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        fd = os.open(directory, os.O_RDONLY)  # make the rename itself durable
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Lock:
    """An exclusive lock on a file next to the state file: one writer at a time (several
    `microapp run` of different apps may share one state file)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> None:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)  # closing releases the lock


def _parse(path: str, text: str) -> dict[str, AppState]:
    def bad(why: str) -> StateFileError:
        return StateFileError(f"{path}: not a microapp state file ({why}); fix or remove it")
    try:
        data = json.loads(text)
    except ValueError as e:
        raise bad(str(e)) from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("apps"), dict):
        raise bad(f"expected {{\"format\": {_FORMAT}, \"apps\": {{...}}}}")
    types = {f.name: type(getattr(AppState(), f.name)) for f in fields(AppState)}
    apps = {}
    for name, values in data["apps"].items():
        if not isinstance(values, dict):
            raise bad(f"app {name!r} is not an object")
        for key, value in values.items():
            if key not in types or type(value) is not types[key]:
                raise bad(f"app {name!r}: {key}={value!r}")
        apps[name] = AppState(**values)
    return apps


def format_status(apps: dict[str, AppState]) -> str:
    """A table, one app a line (Tock's process console `list` is the model)."""
    header = ("APP", "STATE", "FLAGS", "FAULTS", "RESTARTS", "GENERATED", "DELIVERED", "SIGNALLED",
              "QUEUED", "UNCOUNTED", "LAST FAULT", "PATH")
    rows = [header] + [
        (app_name(key), "enabled" if s.enabled else "disabled", ",".join(s.flags()) or "-",
         str(s.faults), str(s.restarts), str(s.generated), str(s.delivered), str(s.signalled),
         str(s.queued), str(s.uncounted), s.last_fault[:60] or "-", key if key != app_name(key) else "-")
        for key, s in sorted(apps.items())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
