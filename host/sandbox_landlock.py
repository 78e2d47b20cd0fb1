"""Landlock for --isolate's child (host/sandbox.py): the kernel's own file and network barrier,
set up through its three system calls with ctypes (Python's standard library has no binding).

The child may then read (and map) files only under the directories it is given, the Python
installation, the venv and the project, for imports; it may write, create, remove or truncate
nothing anywhere, bind or connect no TCP socket (ABI 4), and signal no process or reach no
abstract unix socket outside its own Landlock domain (ABI 6), the host included. What an ABI
lacks is simply not handled: an older kernel gives fewer barriers, never an error."""
from __future__ import annotations

import ctypes
import os
import platform
import struct

# The system call numbers are the same on x86_64 and aarch64 (asm-generic's table).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_ARCHES = ("x86_64", "aarch64")
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1

# Filesystem rights by the ABI that brought them (include/uapi/linux/landlock.h).
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
READ = FS_READ_FILE | FS_READ_DIR


def _syscall():
    libc = ctypes.CDLL(None, use_errno=True)
    call = libc.syscall
    call.restype = ctypes.c_long
    return call


def abi_version() -> int:
    """The kernel's Landlock ABI (1..), or 0 when it has none (or is not Linux on x86_64/aarch64)."""
    if platform.system() != "Linux" or platform.machine() not in _ARCHES:
        return 0
    version = _syscall()(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def _handled(abi: int) -> tuple[int, int, int]:
    """The rights this ABI can deny: filesystem, network, scopes."""
    fs = _FS_ABI1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    fs |= _FS_IOCTL_DEV if abi >= 5 else 0
    net = _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0
    return fs, net, scoped


def restrict_self(readable: list[str]) -> str:
    """Confine this process (and any it could start) for good: read-only access beneath each
    directory of `readable` (missing ones are skipped), nothing else. Needs no_new_privs (set by
    the caller) or CAP_SYS_ADMIN. Returns what is active ("ABI 6: files, tcp, signals")
    or raises OSError when the kernel refuses."""
    abi = abi_version()
    if abi == 0:
        raise OSError("the kernel has no Landlock")
    call = _syscall()
    fs, net, scoped = _handled(abi)
    # struct landlock_ruleset_attr: u64 handled_access_fs, handled_access_net (ABI 4), scoped (ABI 6)
    attr = struct.pack("<QQQ", fs, net, scoped)[:8 if abi < 4 else 16 if abi < 6 else 24]
    ruleset = call(_CREATE_RULESET, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise _error("landlock_create_ruleset")
    try:
        for path in readable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                # struct landlock_path_beneath_attr (packed): u64 allowed_access, s32 parent_fd
                rule = struct.pack("<Qi", READ & fs, fd)
                if call(_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                        ctypes.c_char_p(rule), ctypes.c_uint32(0)) < 0:
                    raise _error(f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        if call(_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
            raise _error("landlock_restrict_self")
    finally:
        os.close(ruleset)
    kinds = ["files"] + (["tcp"] if net else []) + (["signals"] if scoped else [])
    return f"ABI {abi}: {', '.join(kinds)}"


def _error(what: str) -> OSError:
    errno = ctypes.get_errno()
    return OSError(errno, f"{what}: {os.strerror(errno)}")
