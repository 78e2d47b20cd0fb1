# The board's microapp slots, managed with bluenet's microapp control commands: info, upload
# (chunks), validate (size and CRC16-CCITT), enable, disable, remove. docs/flashing.md shows
# the host's side (tools/flash.py app).
#
# A slot is two files under the store's root (relative to the working directory, which on a
# board is its filesystem's root, where main.py lives):
#   N.app   the app's bytes, as uploaded; never-written gaps read 0xFF, as erased flash does
#   N.meta  JSON: validated, enabled, size, crc, sdk, build, flags
# The metadata is replaced whole through a temp file and os.rename, and it is invalidated before
# any byte of N.app changes: a reset at any point of an upload leaves the slot disabled, never a
# half-written app enabled. The loader trusts nothing but an enabled, validated slot whose bytes
# still match the CRC (enabled_app()).
#
# An app's first line is its header, as a bluenet app binary starts with one (tools/flash.py
# adds it): "# microapp sdk=MAJOR.MINOR build=N". The CRC covers header and body.
# Runs under MicroPython (and CPython, for tests).
import json
import os

from firmware import app_slot
from firmware.app_slot import enabled_app  # noqa: F401 (this module's API too)

# app_slot.enabled_app(), which a boot loads, has them as its literal defaults (no names interned)
MAX_APPS = 1
DEFAULT_ROOT = "apps"

# The SDK (firmware/microapp.py) an app is built against. An app runs when its SDK has the same
# major version and a minor version no newer than this one.
SDK_VERSION = (1, 0)
MAX_APP_SIZE = 16384
MAX_CHUNK_SIZE = 256
HEADER_PREFIX = b"# microapp "

# Command results, after bluenet's error codes for these commands.
SUCCESS = 0
SUCCESS_NO_CHANGE = 1      # the same bytes are already there
ERR_WRONG_PARAMETER = 2    # no such slot, an unaligned offset, an empty or too long chunk
ERR_NO_SPACE = 3           # past the slot's maximum size
ERR_WRITE_DISABLED = 4     # other bytes are already there: remove first
ERR_WRONG_STATE = 5        # validate with fewer bytes stored than its size; enable unvalidated
ERR_CRC_MISMATCH = 6
ERR_SDK_UNSUPPORTED = 7    # no header, or an SDK version this firmware cannot run
RESULT_NAMES = (
    "SUCCESS", "SUCCESS_NO_CHANGE", "ERR_WRONG_PARAMETER", "ERR_NO_SPACE", "ERR_WRITE_DISABLED",
    "ERR_WRONG_STATE", "ERR_CRC_MISMATCH", "ERR_SDK_UNSUPPORTED",
)

# State flags that stop an enabled app from being loaded; only enable() clears them.
FLAGS = ("did_reboot", "exceeded_call_duration", "faulted")

_ERASED = 0xFF


def _crc_table():
    table = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        table.append(c & 0xFFFF)
    return table


_CRC_TABLE = None


def crc16_ccitt(data, crc=0xFFFF):
    """CRC-16/CCITT (polynomial 0x1021, initial 0xFFFF), as bluenet checks apps with."""
    global _CRC_TABLE
    if _CRC_TABLE is None:
        _CRC_TABLE = _crc_table()
    table = _CRC_TABLE
    for b in data:
        crc = ((crc << 8) & 0xFF00) ^ table[(crc >> 8) ^ b]
    return crc


def parse_header(data):
    """(sdk (major, minor), build) from an app's header line; (None, 0) when it has none."""
    if not data.startswith(HEADER_PREFIX):
        return None, 0
    end = data.find(b"\n")
    sdk, build = None, 0
    for field in data[len(HEADER_PREFIX):end if end >= 0 else len(data)].split():
        key, _, value = field.partition(b"=")
        try:
            if key == b"sdk":
                major, _, minor = value.partition(b".")
                sdk = (int(major), int(minor or b"0"))
            elif key == b"build":
                build = int(value)
        except ValueError:
            return None, 0
    return sdk, build


def sdk_compatible(sdk):
    return sdk is not None and sdk[0] == SDK_VERSION[0] and sdk[1] <= SDK_VERSION[1]


def _empty_meta():
    return {"validated": False, "enabled": False, "size": 0, "crc": 0, "sdk": None, "build": 0,
            "flags": []}


def _file_size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return 0


class AppStore:
    def __init__(self, root=DEFAULT_ROOT, max_apps=MAX_APPS, max_size=MAX_APP_SIZE):
        self.root = root
        self.max_apps = max_apps
        self.max_size = max_size

    # -- files ------------------------------------------------------------------------------
    def _path(self, slot, ext):
        return "%s/%d.%s" % (self.root, slot, ext)

    def _meta(self, slot):
        try:
            with open(self._path(slot, "meta")) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            return _empty_meta()
        for key, value in _empty_meta().items():
            meta.setdefault(key, value)
        return meta

    def _write_meta(self, slot, meta):
        self._make_root()
        tmp = self._path(slot, "tmp")
        with open(tmp, "w") as f:
            json.dump(meta, f)
        os.rename(tmp, self._path(slot, "meta"))

    def _make_root(self):
        try:
            os.mkdir(self.root)
        except OSError:
            pass  # it exists

    def _read(self, slot, offset, n):
        try:
            with open(self._path(slot, "app"), "rb") as f:
                f.seek(offset)
                return f.read(n)
        except OSError:
            return b""

    def _slot_ok(self, slot):
        return isinstance(slot, int) and 0 <= slot < self.max_apps

    # -- commands ---------------------------------------------------------------------------
    def info(self):
        """Limits, versions and each slot's state, as bluenet's info command reports them."""
        return {
            "max_apps": self.max_apps, "max_app_size": self.max_size,
            "max_chunk_size": MAX_CHUNK_SIZE, "sdk_version": SDK_VERSION,
            "firmware_version": _firmware_version(),
            "apps": [self.slot_info(slot) for slot in range(self.max_apps)],
        }

    def slot_info(self, slot):
        meta = self._meta(slot)
        info = {"slot": slot, "stored": _file_size(self._path(slot, "app")),
                "validated": meta["validated"], "enabled": meta["enabled"],
                "size": meta["size"], "crc": meta["crc"],
                "sdk": tuple(meta["sdk"]) if meta["sdk"] else None, "build": meta["build"]}
        for flag in FLAGS:
            info[flag] = flag in meta["flags"]
        return info

    def upload(self, slot, offset, data):
        """Write one chunk at `offset`. Bytes may go where nothing was written yet (0xFF);
        the same bytes again change nothing; other bytes are refused until remove()."""
        n = len(data)
        if not self._slot_ok(slot) or offset < 0 or offset % 4 or not 0 < n <= MAX_CHUNK_SIZE:
            return ERR_WRONG_PARAMETER
        if offset + n > self.max_size:
            return ERR_NO_SPACE
        there = self._read(slot, offset, n)
        if there == data:
            return SUCCESS_NO_CHANGE
        for i in range(len(there)):
            if there[i] != _ERASED and there[i] != data[i]:
                return ERR_WRITE_DISABLED
        self._invalidate(slot)
        self._make_root()
        path = self._path(slot, "app")
        stored = _file_size(path)
        with open(path, "r+b" if stored else "wb") as f:
            if stored < offset:  # a gap reads as erased flash
                f.seek(stored)
                f.write(bytes([_ERASED]) * (offset - stored))
            f.seek(offset)
            f.write(data)
        return SUCCESS

    def validate(self, slot, size, crc):
        """Check the first `size` bytes against `crc` (CRC16-CCITT); read the app's header."""
        if not self._slot_ok(slot) or size <= 0:
            return ERR_WRONG_PARAMETER
        if size > self.max_size:
            return ERR_NO_SPACE
        if _file_size(self._path(slot, "app")) < size:
            return ERR_WRONG_STATE
        data = self._read(slot, 0, size)
        if crc16_ccitt(data) != crc:
            return ERR_CRC_MISMATCH
        meta = self._meta(slot)
        same = meta["validated"] and meta["size"] == size and meta["crc"] == crc
        sdk, build = parse_header(data)
        meta.update({"validated": True, "enabled": meta["enabled"] and same, "size": size,
                     "crc": crc, "sdk": sdk, "build": build})
        self._write_meta(slot, meta)
        return SUCCESS

    def enable(self, slot):
        """Mark a validated app to run; clears its fault flags (the only command that does)."""
        if not self._slot_ok(slot):
            return ERR_WRONG_PARAMETER
        meta = self._meta(slot)
        if not meta["validated"]:
            return ERR_WRONG_STATE
        if not sdk_compatible(meta["sdk"]):
            return ERR_SDK_UNSUPPORTED
        if meta["enabled"] and not meta["flags"]:
            return SUCCESS_NO_CHANGE
        meta["enabled"] = True
        meta["flags"] = []
        self._write_meta(slot, meta)
        return SUCCESS

    def disable(self, slot):
        if not self._slot_ok(slot):
            return ERR_WRONG_PARAMETER
        meta = self._meta(slot)
        if not meta["enabled"]:
            return SUCCESS_NO_CHANGE
        meta["enabled"] = False
        self._write_meta(slot, meta)
        return SUCCESS

    def remove(self, slot):
        """Erase the slot: its metadata first, so a reset halfway leaves it disabled."""
        if not self._slot_ok(slot):
            return ERR_WRONG_PARAMETER
        found = False
        for ext in ("meta", "app", "tmp"):
            try:
                os.remove(self._path(slot, ext))
                found = True
            except OSError:
                pass
        return SUCCESS if found else SUCCESS_NO_CHANGE

    def set_flag(self, slot, flag):
        """Record a fault (one of FLAGS) against the app: it is not loaded until re-enabled."""
        if not self._slot_ok(slot) or flag not in FLAGS:
            return ERR_WRONG_PARAMETER
        meta = self._meta(slot)
        if flag in meta["flags"]:
            return SUCCESS_NO_CHANGE
        meta["flags"].append(flag)
        self._write_meta(slot, meta)
        return SUCCESS

    # -- the loader's view (firmware/app_slot.py) -------------------------------------------
    def enabled_app(self):
        return app_slot.enabled_app(self.root, self.max_apps)

    def _invalidate(self, slot):
        meta = self._meta(slot)
        if meta["validated"] or meta["enabled"]:
            meta.update({"validated": False, "enabled": False, "size": 0, "crc": 0})
            self._write_meta(slot, meta)


def _firmware_version():
    try:
        from firmware.version import VERSION
    except ImportError:
        return None
    return VERSION
