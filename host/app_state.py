"""Persisted app state: bluenet's per-app flags and Tock's per-app counters, kept in a state file
so that they survive a restart of the host.

Per app (keyed by name: the app file's name without .py): enabled, did-reboot (stopped by the
watchdog), exceeded-call-duration, faults, restarts, and where its events went (generated =
delivered + signalled + queued + uncounted, uncounted always 0). Flags are saved the moment they
change, counters at the end of a run. A write goes to a temporary file that replaces the state
file in one rename, under a lock: a crash mid-write leaves the old file or the new one, never a
mix. `microapp status` shows the table, `microapp enable APP` clears the flags as bluenet's
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

    def after_run(self, controller: Controller) -> AppState:
        """This state (saved before the run) with the run's flags and counters added."""
        c = controller
        a = c.accounting()
        last = c.faults[-1] if c.faults else None
        return replace(
            self, enabled=c.enabled, did_reboot=c.did_reboot,
            exceeded_call_duration=c.exceeded_call_duration, faults=self.faults + c.app_faults,
            restarts=self.restarts + c.restarts, generated=self.generated + a["generated"],
            delivered=self.delivered + a["delivered"], signalled=self.signalled + a["signalled"],
            queued=self.queued + a["queued"], uncounted=self.uncounted + a["uncounted"],
            last_fault=f"{last['where']}: {last['error']}" if last else self.last_fault)

    def apply_to(self, controller: Controller) -> None:
        controller.enabled = self.enabled
        controller.did_reboot = self.did_reboot
        controller.exceeded_call_duration = self.exceeded_call_duration


def app_name(app: str) -> str:
    """The name an app's state is kept under: its file name without the directory and .py."""
    base = os.path.basename(app)
    return base[:-3] if base.endswith(".py") else base


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
              "QUEUED", "UNCOUNTED", "LAST FAULT")
    rows = [header] + [
        (name, "enabled" if s.enabled else "disabled", ",".join(s.flags()) or "-", str(s.faults),
         str(s.restarts), str(s.generated), str(s.delivered), str(s.signalled), str(s.queued),
         str(s.uncounted), s.last_fault[:60] or "-")
        for name, s in sorted(apps.items())]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)
