"""A long run on a terminal shows a progress bar (ticks, simulated time, rate); a short one or
one whose stderr is not a terminal shows none."""
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tests.cli.test_run_errors import ROOT


def run_on_a_terminal(*args, limit_s=30):
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "host.cli", "run", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": ROOT, "COLUMNS": "120"})
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if select.select([master], [], [], 0.2)[0]:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
        elif proc.poll() is not None:
            break
    proc.wait(timeout=10)
    os.close(master)
    return proc.returncode, seen.decode("utf-8", "replace")


@pytest.mark.slow
def test_a_long_run_on_a_terminal_shows_a_progress_bar(tmp_path):
    app = tmp_path / "busy.py"  # about a millisecond or two of work a tick: the run takes seconds
    app.write_text("def setup():\n    pass\n\ndef loop():\n    sum(range(100000))\n")
    code, seen = run_on_a_terminal(str(app), "--ticks", "3000", "--quiet", "--state", str(tmp_path / "s.json"))
    assert code == 0
    assert "tick/s" in seen  # the rate
    assert "simulated" in seen and "/3.00k" in seen  # simulated time, ticks done of all
    assert seen.rstrip().endswith("0 faults, 0 restarts")  # the bar is cleared at the end


def test_a_short_run_shows_none(tmp_path):
    code, seen = run_on_a_terminal("examples/hello.py", "--ticks", "20", "--quiet",
                                   "--state", str(tmp_path / "s.json"))
    assert code == 0 and "tick/s" not in seen and "simulated" not in seen
