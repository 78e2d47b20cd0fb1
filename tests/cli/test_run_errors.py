"""What a user sees when something is wrong: a fault line with the app's file:line and the whole
traceback in --json, and one line with exit code 2 for every bad input (with the range)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def microapp(*args, cwd=ROOT, **kw):
    return subprocess.run([sys.executable, "-m", "host.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": ROOT}, timeout=60, **kw)


RAISING = '''\
from microapp import *
n = 0

def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()

def on_message(msg):
    readings = {}
    return readings["sensor"]

def loop():
    global n
    n += 1
    if n == 2:
        raise ValueError("tick two")
'''


def test_a_fault_shows_time_context_and_the_apps_line_and_the_json_has_the_traceback(tmp_path):
    app = tmp_path / "sensor.py"
    app.write_text(RAISING)
    events = tmp_path / "e.events"
    events.write_text("0.35 mesh from=2 data=\"x\"\n")
    out = tmp_path / "out.json"
    r = microapp("run", str(app), "--ticks", "5", "--events", str(events), "--json", str(out),
                 "--state", str(tmp_path / "s.json"))
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert f"t=0.200s fault in loop: {app}:16: ValueError: tick two" in lines
    assert f"t=0.350s fault in MESH handler: {app}:10: KeyError: 'sensor'" in lines
    faults = json.loads(out.read_text())["faults"]
    assert faults[0]["at"] == f"{app}:16"
    assert faults[0]["traceback"].startswith("Traceback (most recent call last):")
    assert f'File "{app}", line 16, in loop' in faults[0]["traceback"]
    assert f'File "{app}", line 10, in on_message' in faults[1]["traceback"]


def test_an_app_that_does_not_import_says_where(tmp_path):
    (tmp_path / "cfg.py").write_text("config = {}\n\nthreshold = config['sensor']\n")
    r = microapp("run", "cfg.py", cwd=str(tmp_path))
    assert r.returncode == 2
    assert r.stderr == "microapp: error: cfg.py:3: does not import: KeyError: 'sensor'\n"


@pytest.mark.parametrize("args, message", [
    (["--limit", "stack_depth=300"], "limit stack_depth=300 is outside 1..16"),
    (["--limit", "tick_ms=0"], "limit tick_ms=0 is outside 1..60000"),
    (["--limit", "cost.LOG=2000000"], "limit cost.LOG=2000000,0 is outside 0..1000000"),
    (["--limit", "signal_budget=9"], "limit signal_budget=9 is over max_signal_budget=8"),
    (["--ticks", "50000000"], "--ticks 50000000: at most 42949672 ticks of 100 ms"),
    (["--json", "/proc/x/out.json"], "/proc/x/out.json: No such file or directory"),
])
def test_values_out_of_range_are_refused_with_the_range(tmp_path, args, message):
    r = microapp("run", "examples/hello.py", "--state", str(tmp_path / "s.json"), *args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("microapp: error: ") and message in r.stderr and r.stderr.count("\n") == 1


@pytest.mark.parametrize("events, message", [
    ("1.0 pin 40 high\n", "e.events:1: pin=40 is outside 0..17"),
    ("5.0 mesh from=2 every=1 until=2\n", "e.events:1: until=2s is before the event's time 5s"),
    ("0 mesh from=2 count=20000000\n", "count=20000000 is outside 1..10000000"),
])
def test_event_fields_out_of_range_are_refused(tmp_path, events, message):
    (tmp_path / "e.events").write_text(events)
    r = microapp("run", os.path.join(ROOT, "examples/hello.py"), "--events", "e.events", cwd=str(tmp_path))
    assert r.returncode == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_non_utf8_files_get_one_line(tmp_path):
    (tmp_path / "latin.py").write_bytes(b"def loop():\n    print('\xe9t\xe9')\n")
    (tmp_path / "latin.events").write_bytes(b"1.0 mesh from=2 data=\"\xe9\"\n")
    r = microapp("run", "latin.py", cwd=str(tmp_path))
    assert (r.returncode, r.stderr) == (2, "microapp: error: latin.py: not UTF-8 text (byte 23)\n")
    r = microapp("run", os.path.join(ROOT, "examples/hello.py"), "--events", "latin.events", cwd=str(tmp_path))
    assert (r.returncode, r.stderr) == (2, "microapp: error: latin.events: not UTF-8 text (byte 22)\n")


def test_a_board_flash_dir_that_cannot_be_made_is_one_line():
    r = microapp("board", "--flash", "/proc/x")
    assert r.returncode == 2 and r.stderr.startswith("microapp: error: --flash /proc/x: ")
    assert r.stderr.count("\n") == 1


def test_a_hung_app_is_shown_where_the_watchdog_stopped_it(tmp_path):
    app = tmp_path / "spin.py"
    app.write_text("def setup():\n    pass\n\ndef loop():\n    n = 0\n    while True:\n        n += 1\n")
    out = tmp_path / "out.json"
    r = microapp("run", str(app), "--ticks", "3", "--limit", "watchdog_ms=200", "--json", str(out),
                 "--state", str(tmp_path / "s.json"))
    assert r.returncode == 0
    line = next(line for line in r.stderr.splitlines() if "fault" in line)
    assert line.startswith(f"t=0.100s fault (watchdog): {app}:") and "no yield within 200 ms" in line
    assert int(line.split(f"{app}:")[1].split(":")[0]) in (6, 7)  # inside the while loop
    assert "Stopped by the watchdog here" in json.loads(out.read_text())["faults"][0]["traceback"]
