"""host/port_lock.py: one owner per port across processes, re-entrant within one, a dead
owner's lock taken over."""
import os
import subprocess
import sys
import textwrap

import pytest

from host import port_lock

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOLD = textwrap.dedent("""
    import sys, time
    from host import port_lock
    port_lock.acquire(sys.argv[1])
    print("held", flush=True)
    time.sleep(30)
""")


@pytest.fixture
def port(tmp_path, monkeypatch):
    monkeypatch.setattr(port_lock, "LOCK_DIR", str(tmp_path / "locks"))
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(master)
    os.close(slave)


def hold_in_another_process(port, lock_dir):
    code = HOLD.replace("from host import port_lock", f"from host import port_lock\nport_lock.LOCK_DIR = {lock_dir!r}")
    proc = subprocess.Popen([sys.executable, "-c", code, port], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT})
    assert proc.stdout.readline() == "held\n"
    return proc


def test_a_second_process_is_told_who_holds_the_port(port):
    holder = hold_in_another_process(port, port_lock.LOCK_DIR)
    try:
        with pytest.raises(port_lock.PortBusy, match=f"^{port} is in use by PID {holder.pid} "):
            port_lock.acquire(port)
        link = os.path.join(os.path.dirname(port_lock.LOCK_DIR), "by-id-link")
        os.symlink(port, link)  # another name of the same device is the same port
        with pytest.raises(port_lock.PortBusy, match=f"in use by PID {holder.pid}"):
            port_lock.acquire(link)
    finally:
        holder.kill()
        holder.wait()
    key = port_lock.acquire(port)  # the holder died: its lock file is stale and taken over
    try:
        with open(port_lock._lock_path(key)) as f:
            assert f.read().startswith(f"{os.getpid()} ")
    finally:
        port_lock.release(key)


def test_within_one_process_the_lock_is_reentrant(port):
    first = port_lock.acquire(port)
    second = port_lock.acquire(port)
    port_lock.release(second)
    holder_code = HOLD.replace("from host import port_lock",
                               f"from host import port_lock\nport_lock.LOCK_DIR = {port_lock.LOCK_DIR!r}")
    r = subprocess.run([sys.executable, "-c", holder_code, port], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": ROOT}, timeout=20)
    assert "is in use by PID" in r.stderr  # still held after one release of two
    port_lock.release(first)
    assert port_lock.acquire("loop://") is None  # a private port needs no lock
