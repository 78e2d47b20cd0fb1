"""--isolate's kernel barriers, attacked (issue 12): Landlock (host/sandbox_landlock.py) and
seccomp (host/sandbox_seccomp.py) in the app's child process. As in test_isolate.py, an app given
`os`, `socket` or `ctypes` stands for one that escaped the loader through CPython's internals.

Each target is one the child's own user could reach: a file in a directory anyone may write, a
process of that user (`nobody` when the tests run as root, the user otherwise), a listening socket
on localhost. So what stops each attack is the barrier, not the user id: with the barriers left
out (MICROAPP_ISOLATE_WITHOUT=landlock,seccomp) 9 of these 15 fail. Run as root the others still
pass: `nobody` may start no process (RLIMIT_NPROC: os.system, subprocess, posix_spawn) nor mount,
the memfd's seals are no barrier of the kernel's, and the CLI test sets the variable itself. Each
one: the host finishes the run, the attack has no effect."""
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from host import sandbox_landlock
from host.limits import Limits
from host.links.process_link import ProcessLink
from host.sandbox import NOBODY
from host.simulator import Simulation

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WATCHDOG_MS = 1000
TICKS = 4
pytestmark = pytest.mark.skipif(sandbox_landlock.abi_version() < 6 or platform.machine() not in ("x86_64", "aarch64"),
                                reason="the kernel has no Landlock with signal scopes (ABI 6), or no seccomp table here")


def isolated(source, extra, ticks=TICKS):
    """The app's summary after `ticks` ticks in its child process, and the link (still open)."""
    link = ProcessLink(textwrap.dedent(source), watchdog_ms=WATCHDOG_MS, extra_modules=extra)
    sim = Simulation(None, link=link, limits=Limits(watchdog_ms=WATCHDOG_MS))
    return sim.run(ticks), link


def ran(summary):
    assert summary["ticks"] == TICKS
    return [text for _, text in summary["log"]]


@pytest.fixture
def open_dir():
    """A directory anyone may write in (the child's user too, whoever it is)."""
    path = tempfile.mkdtemp(prefix="microapp-barriers-")
    os.chmod(path, 0o777)
    yield path
    subprocess.run(["rm", "-rf", path], check=True)


@pytest.fixture
def victim():
    """A process of the child's user: `nobody` when the host runs as root."""
    user = dict(user=NOBODY, group=NOBODY, extra_groups=[]) if os.getuid() == 0 else {}
    process = subprocess.Popen(["sleep", "60"], **user)
    yield process
    process.kill()
    process.wait()


def tracer_of(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("TracerPid:"))


def test_the_app_writes_no_file(open_dir):
    target = os.path.join(open_dir, "mine.txt")
    with open(target, "w") as f:
        f.write("mine")
    os.chmod(target, 0o666)
    summary, link = isolated(f"""
        import os
        def setup():
            for path, flags in (({target!r}, os.O_WRONLY | os.O_TRUNC), ({open_dir + '/new.txt'!r}, os.O_WRONLY | os.O_CREAT)):
                try:
                    os.write(os.open(path, flags, 0o666), b"pwned")
                    print("wrote", path)
                except OSError as e:
                    print(type(e).__name__)
    """, ("os",))
    link.close()
    assert ran(summary) == ["PermissionError", "PermissionError"]
    assert open(target).read() == "mine" and os.listdir(open_dir) == ["mine.txt"]


def test_the_app_reads_no_file_outside_pythons_and_the_projects(open_dir):
    secret = os.path.join(open_dir, "secret.txt")
    with open(secret, "w") as f:
        f.write("the user's secret")
    os.chmod(secret, 0o644)
    summary, link = isolated(f"""
        import os
        def setup():
            for path in ({secret!r}, {ROOT + '/README.md'!r}):
                try:
                    print(os.read(os.open(path, os.O_RDONLY), 100))
                except OSError as e:
                    print(type(e).__name__)
            try:
                print(os.listdir({open_dir!r}))
            except OSError as e:
                print(type(e).__name__)
    """, ("os",))
    link.close()
    assert ran(summary) == ["PermissionError"] * 3  # not even the project's README: only its packages


@pytest.mark.parametrize("attack, extra", [
    ('os.execv("/bin/sh", ["sh", "-c", SHELL])', ("os",)),
    ("os.system(SHELL)", ("os",)),
    ('subprocess.run(["/bin/sh", "-c", SHELL])', ("subprocess",)),
    ("os.posix_spawn('/bin/sh', ['sh', '-c', SHELL], {})", ("os",)),
])
def test_the_app_starts_no_program(open_dir, attack, extra):
    marker = os.path.join(open_dir, "ran")
    summary, link = isolated(f"""
        import {extra[0]}
        SHELL = "echo pwned > {marker}"
        def setup():
            try:
                print("returned", {attack})
            except OSError as e:
                print(type(e).__name__)
    """, extra)
    link.close()
    time.sleep(0.2)  # a shell that did start has had its time
    assert not os.path.exists(marker)
    # glibc's system() says 127 << 8 when it could not start the shell
    assert ran(summary)[0] in ("PermissionError", "BlockingIOError", f"returned {127 << 8}")


def test_the_app_connects_to_no_socket():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    summary, link = isolated(f"""
        import socket
        def setup():
            for family in (socket.AF_INET, socket.AF_UNIX):
                try:
                    s = socket.socket(family)
                    s.connect(("127.0.0.1", {port}) if family == socket.AF_INET else "\\0x11-x")
                    print("connected")
                except OSError as e:
                    print(type(e).__name__)
    """, ("socket",))
    link.close()
    assert ran(summary) == ["PermissionError", "PermissionError"]
    with pytest.raises(BlockingIOError):
        listener.accept()  # no connection came
    listener.close()


def test_the_app_signals_neither_the_host_nor_its_users_processes(victim):
    summary, link = isolated(f"""
        import os, signal
        def setup():
            for pid in (os.getppid(), {victim.pid}):
                try:
                    os.kill(pid, signal.SIGKILL)
                    print("killed", pid)
                except OSError as e:
                    print(type(e).__name__)
    """, ("os", "signal"))
    link.close()
    assert ran(summary) == ["PermissionError"] * 2
    assert victim.poll() is None  # and the host is here to tell


def test_the_app_traces_no_process(victim):
    summary, link = isolated(f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        def setup():
            print(libc.ptrace(16, {victim.pid}, 0, 0), ctypes.get_errno())  # PTRACE_ATTACH
    """, ("ctypes",))
    try:
        assert ran(summary) == ["-1 1"]  # EPERM
        assert tracer_of(victim.pid) == 0  # while the child still lives
    finally:
        link.close()


def test_the_app_cannot_shrink_the_shared_buffers():
    summary, link = isolated("""
        import os
        def setup():
            refused = 0
            for fd in range(3, 64):
                try:
                    os.ftruncate(fd, 0)
                except OSError:
                    refused += 1
            print("refused", refused)
    """, ("os",))
    link.close()
    assert ran(summary) == ["refused 61"]  # the host's next read of them would have been a SIGBUS


@pytest.mark.parametrize("call", [
    "libc.unshare(0x10000000)",  # a user namespace: root in it
    "libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)",
    "libc.syscall(321, 0, 0, 0)",  # bpf
])
def test_the_app_makes_no_namespace_mount_or_bpf(call):
    summary, link = isolated(f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        def setup():
            print({call}, ctypes.get_errno())
    """, ("ctypes",))
    link.close()
    assert ran(summary) == ["-1 1"]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x32 numbers are x86_64's")
def test_a_system_call_of_another_abi_kills_the_app():
    summary, link = isolated("""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        def setup():
            print(libc.syscall(0x40000000 | 39))  # x32's getpid: past a filter that knew only x86_64's numbers
    """, ("ctypes",))
    link.close()
    assert summary["ticks"] == TICKS and summary["did_reboot"] and summary["log"] == []
    assert summary["faults"][0]["error"] == "the app's process ended (killed by SIGSYS)"


@pytest.mark.slow
def test_microapp_run_isolate_records_its_barriers_and_warns_when_one_is_missing(tmp_path):
    app = tmp_path / "app.py"
    app.write_text("def setup():\n    pass\ndef loop():\n    pass\n")
    outs = []
    for without in ("", "seccomp"):
        out = tmp_path / f"out{without}.json"
        env = {**os.environ, "MICROAPP_ISOLATE_WITHOUT": without}
        r = subprocess.run([sys.executable, "-m", "host.cli", "run", str(app), "--isolate", "--ticks", "3", "--quiet",
                            "--json", str(out), "--state", str(tmp_path / "state.json")],
                           cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
        assert r.returncode == 0, r.stderr
        outs.append((json.loads(out.read_text())["isolate"], [line for line in r.stderr.splitlines() if "--isolate" in line]))
    (full, no_warning), (partial, warning) = outs
    assert set(full["barriers"]) == {"landlock", "seccomp"} and full["missing"] == {} and no_warning == []
    assert set(partial["barriers"]) == {"landlock"} and set(partial["missing"]) == {"seccomp"}
    assert warning == ["microapp: warning: --isolate runs without seccomp (seccomp: left out (MICROAPP_ISOLATE_WITHOUT))"]
