"""A seccomp filter for --isolate's child (host/sandbox.py): a classic BPF program, built here
with struct and installed with prctl through ctypes (Python's standard library has no binding).

It kills the process on a system call of a foreign architecture (i386's int 0x80, x32's numbers
on x86_64), and refuses (EPERM) what an app has no business doing: starting a program or a
process (threads only), tracing or reading another process, signalling any process but itself,
sockets, mounts and namespaces, kernel keys, BPF, perf, modules, io_uring (whose operations seccomp
would not see), raising its limits. Everything else is allowed: the filter is a deny list on top
of Landlock and the rlimits, so that the Python runtime itself keeps working."""
from __future__ import annotations

import ctypes
import os
import platform
import struct

_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_KILL_PROCESS, _ALLOW, _ERRNO = 0x80000000, 0x7FFF0000, 0x00050000
_EPERM, _ENOSYS = 1, 38
_X32_BIT = 0x40000000
_CLONE_THREAD = 0x00010000
_CLONE_NAMESPACES = 0x7E020000  # CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (little-endian)
_NR, _ARCH = 0, 4


def _arg(i: int, high: bool = False) -> int:
    return 16 + 8 * i + (4 if high else 0)


# Calls refused outright, and those whose first argument must be this process: by architecture
# (x86_64's own table; aarch64 has asm-generic's, with no fork, vfork, iopl or ioperm).
_DENIED = ("execve execveat fork vfork ptrace process_vm_readv process_vm_writev kcmp process_madvise "
           "pidfd_open pidfd_getfd pidfd_send_signal socket socketpair connect bind listen accept accept4 "
           "mount umount2 unshare setns pivot_root chroot open_tree move_mount fsopen fsconfig fsmount "
           "fspick mount_setattr name_to_handle_at open_by_handle_at bpf perf_event_open userfaultfd "
           "keyctl add_key request_key kexec_load kexec_file_load init_module finit_module delete_module "
           "reboot swapon swapoff acct quotactl setrlimit personality iopl ioperm "
           "io_uring_setup io_uring_enter io_uring_register").split()
_SELF_ONLY = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
_TABLES = {
    "x86_64": (0xC000003E, {
        "execve": 59, "execveat": 322, "fork": 57, "vfork": 58, "clone": 56, "clone3": 435, "ptrace": 101,
        "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
        "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438, "socket": 41, "socketpair": 53,
        "connect": 42, "bind": 49, "listen": 50, "accept": 43, "accept4": 288, "mount": 165, "umount2": 166,
        "unshare": 272, "setns": 308, "name_to_handle_at": 303, "open_by_handle_at": 304, "bpf": 321,
        "perf_event_open": 298, "keyctl": 250, "add_key": 248, "request_key": 249, "process_vm_readv": 310,
        "process_vm_writev": 311, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168,
        "pivot_root": 155, "chroot": 161, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
        "fsmount": 432, "fspick": 433, "mount_setattr": 442, "kcmp": 312, "process_madvise": 440, "acct": 163,
        "quotactl": 179, "setrlimit": 160, "prlimit64": 302, "personality": 135, "iopl": 172, "ioperm": 173}),
    "aarch64": (0xC00000B7, {
        "execve": 221, "execveat": 281, "clone": 220, "clone3": 435, "ptrace": 117, "kill": 129, "tkill": 130,
        "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "pidfd_send_signal": 424,
        "pidfd_open": 434, "pidfd_getfd": 438, "socket": 198, "socketpair": 199, "connect": 203, "bind": 200,
        "listen": 201, "accept": 202, "accept4": 242, "mount": 40, "umount2": 39, "unshare": 97, "setns": 268,
        "name_to_handle_at": 264, "open_by_handle_at": 265, "bpf": 280, "perf_event_open": 241, "keyctl": 219,
        "add_key": 217, "request_key": 218, "process_vm_readv": 270, "process_vm_writev": 271,
        "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225, "pivot_root": 41, "chroot": 51,
        "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "mount_setattr": 442, "kcmp": 272, "process_madvise": 440, "acct": 89, "quotactl": 60,
        "setrlimit": 164, "prlimit64": 261, "personality": 92}),
}

# BPF opcodes (linux/bpf_common.h)
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06


class _Program:
    """Instructions with jumps to named labels, resolved into BPF's forward offsets."""

    def __init__(self) -> None:
        self.code: list[tuple[int, object, object, int]] = []
        self.labels: dict[str, int] = {}

    def load(self, offset: int) -> None:
        self.code.append((_LD_ABS, 0, 0, offset))

    def jump(self, op: int, k: int, true: object, false: object = 0) -> None:
        """op against k: on true to label `true`, else to `false` (0: the next instruction)."""
        self.code.append((op, true, false, k))

    def ret(self, value: int, label: str | None = None) -> None:
        if label:
            self.label(label)
        self.code.append((_RET, 0, 0, value))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def bytes(self) -> bytes:
        out = b""
        for at, (op, jt, jf, k) in enumerate(self.code):
            offsets = [self.labels[j] - at - 1 if isinstance(j, str) else j for j in (jt, jf)]
            assert all(0 <= o < 256 for o in offsets), "a jump out of BPF's reach"
            out += struct.pack("<HBBI", op, offsets[0], offsets[1], k)
        return out


def program(machine: str, pid: int) -> bytes:
    """The filter for this architecture; `pid`: the process that may signal itself."""
    arch, nr = _TABLES[machine]
    p = _Program()
    p.load(_ARCH)
    p.jump(_JEQ, arch, 0, "kill")
    p.load(_NR)
    if machine == "x86_64":
        p.jump(_JGE, _X32_BIT, "kill")
    for name in _DENIED:
        if name in nr:
            p.jump(_JEQ, nr[name], "eperm")
    p.jump(_JEQ, nr["clone3"], "enosys")  # its flags are behind a pointer: glibc falls back to clone
    p.jump(_JEQ, nr["clone"], "clone")
    for name in _SELF_ONLY:
        p.jump(_JEQ, nr[name], "self")
    p.jump(_JEQ, nr["prlimit64"], "prlimit")
    p.ret(_ALLOW)
    p.label("clone")  # a thread, in no new namespace
    p.load(_arg(0))
    p.jump(_JSET, _CLONE_NAMESPACES, "eperm")
    p.jump(_JSET, _CLONE_THREAD, "allow", "eperm")
    p.label("self")  # pid_t: the kernel reads the low 32 bits
    p.load(_arg(0))
    p.jump(_JEQ, pid, "allow", "eperm")
    p.label("prlimit")  # glibc's getrlimit: pid 0, no new limit
    p.load(_arg(0))
    p.jump(_JEQ, 0, 0, "eperm")
    p.load(_arg(2))
    p.jump(_JEQ, 0, 0, "eperm")
    p.load(_arg(2, high=True))
    p.jump(_JEQ, 0, "allow", "eperm")
    p.ret(_ALLOW, "allow")
    p.ret(_ERRNO | _EPERM, "eperm")
    p.ret(_ERRNO | _ENOSYS, "enosys")
    p.ret(_KILL_PROCESS, "kill")
    return p.bytes()


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def set_no_new_privs() -> None:
    """prctl(PR_SET_NO_NEW_PRIVS): no exec can give this process more rights (setuid binaries);
    Landlock and an unprivileged seccomp filter need it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(errno)}")


def install() -> str:
    """Install the filter on this process for good (after set_no_new_privs). Returns what it
    does, or raises OSError when the kernel or the architecture refuses it."""
    machine = platform.machine()
    if platform.system() != "Linux" or machine not in _TABLES:
        raise OSError(f"no seccomp filter for {platform.system()} on {machine}")
    code = program(machine, os.getpid())
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.addressof(buffer))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_SECCOMP): {os.strerror(errno)}")
    checked = sum(name in _TABLES[machine][1] for name in _DENIED) + len(_SELF_ONLY) + 3
    return f"{machine}: {checked} calls refused or checked"
