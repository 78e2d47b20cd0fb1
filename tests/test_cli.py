"""The `microapp` command as a user runs it: output, the JSON summary, one-line errors."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def microapp(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "host.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": ROOT})


def test_run_prints_log_lines_with_virtual_time_and_writes_the_summary(tmp_path):
    out = tmp_path / "out.json"
    r = microapp("run", "examples/mesh_echo.py", "--ticks", "600", "--events", "examples/mesh_echo.events",
                 "--json", str(out))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "t=0.000s echo ready on stone 1"
    assert "t=1.050s from 2 b'ping'" in lines  # an interrupt's log line carries the event's time
    summary = json.loads(out.read_text())
    assert summary["ticks"] == 600
    assert summary["interrupts"] == {"generated": 17, "delivered": 14, "throttled": 3, "gated": 0, "busy": 0,
                                     "queued": 0, "queue_full": 0, "cpu_busy": 0, "aborted": 0}
    assert summary["requests"]["MESH"] == 2 + 14  # listen, own id, a send-back per delivered message
    assert summary["fuel_used"] == sum(summary["requests"].values())
    assert summary["faults"] == []
    assert [1.05, "from 2 b'ping'"] in summary["log"]
    assert summary["mesh_sent"][0] == [1.05, 2, b"ping".hex(), False]  # (time, to, data, doNotRelay)


def test_run_blink_records_pin_changes_at_tick_times(tmp_path):
    out = tmp_path / "out.json"
    r = microapp("run", "examples/blink.py", "--ticks", "14", "--json", str(out))
    assert r.returncode == 0, r.stderr
    # on at a tick, off 300 ms later, the loop ends 200 ms after that, the next loop a tick later
    assert json.loads(out.read_text())["pins"] == [[0.1, 14, 1], [0.4, 14, 0], [0.7, 14, 1], [1.0, 14, 0],
                                                   [1.3, 14, 1]]  # LED1_PIN is virtual pin 14


def test_nested_example_fills_the_stack_and_gates(tmp_path):
    out = tmp_path / "out.json"
    r = microapp("run", "examples/nested.py", "--ticks", "40", "--events", "examples/nested.events",
                 "--json", str(out), "--quiet")
    assert r.returncode == 0 and r.stdout == ""
    # one refused as busy, then one dropped at the gate (bluenet), each signalled
    summary = json.loads(out.read_text())
    assert summary["interrupts"] == {"generated": 7, "delivered": 5, "throttled": 0, "gated": 1, "busy": 1,
                                     "queued": 0, "queue_full": 0, "cpu_busy": 0, "aborted": 0}
    assert summary["signals"]["by_reason"] == {"BUSY": 1, "GATED": 1}


def test_trace_file_shows_every_switch(tmp_path):
    trace = tmp_path / "trace.txt"
    r = microapp("run", "examples/hello.py", "--ticks", "2", "--trace", str(trace), "--quiet")
    assert r.returncode == 0
    lines = trace.read_text().splitlines()
    assert lines[0] == "t=0.000s host->app b2m=CONTINUE/NO_REQUEST call=1 irq=0 m2b=NONE/SUCCESS call=0"
    assert lines[-1].startswith("t=0.100s app->host b2m=CONTINUE/NO_REQUEST call=2 irq=0 m2b=YIELD/NO_REQUEST")


def test_limit_overrides_change_the_run(tmp_path):
    out = tmp_path / "out.json"
    r = microapp("run", "examples/nested.py", "--ticks", "40", "--events", "examples/nested.events",
                 "--limit", "entry_budget=100", "--json", str(out), "--quiet")
    assert r.returncode == 0
    # with a large budget each handler finishes in its own entry: nothing nests, nothing is refused
    assert json.loads(out.read_text())["interrupts"]["busy"] == 0


@pytest.mark.parametrize("args, message", [
    (["run", "no/such/app.py"], "no/such/app.py: No such file or directory"),
    (["run", "examples/hello.py", "--ticks", "ten"], "argument --ticks: 'ten' is not an integer"),
    (["run", "examples/hello.py", "--ticks", "-1"], "argument --ticks: -1 must not be negative"),
    (["run", "examples/hello.py", "--events", "missing.events"], "missing.events: No such file or directory"),
    (["run", "examples/hello.py", "--limit", "budget"], "limit 'budget': expected NAME=VALUE"),
    (["run", "examples/hello.py", "--limit", "nope=1"], "limit 'nope=1': unknown limit"),
    (["run", "examples/hello.py", "--limit", "cost.FOO=1"], "limit 'cost.FOO=1': no message type FOO"),
    (["run", "examples/hello.py", "--json", "/no/such/dir/out.json"], "/no/such/dir/out.json: No such file or directory"),
    (["fly"], "argument command: invalid choice: 'fly'"),
])
def test_bad_arguments_get_one_line_and_exit_code_2(args, message):
    r = microapp(*args)
    assert r.returncode == 2
    assert r.stdout == "" or args[-1].endswith(".json")
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("microapp: error: ") and message in r.stderr


@pytest.mark.parametrize("source, message", [
    ("def loop(:\n", "bad.py:1: "),
    ("raise ImportError('no module named foo')\n", "bad.py:1: does not import: ImportError: no module named foo"),
    ("import microapp\nmicroapp.log('at import')\n",
     "bad.py:2: does not import: RuntimeError: microapp calls work in setup(), loop() and handlers"),
])
def test_an_app_that_does_not_import_gets_one_line_and_exit_code_2(tmp_path, source, message):
    (tmp_path / "bad.py").write_text(source)
    r = microapp("run", "bad.py", cwd=str(tmp_path))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert message in r.stderr


def test_a_bad_events_file_names_the_line(tmp_path):
    events = tmp_path / "bad.events"
    events.write_text("# ok\n1.0 mesh from=2 data=\"x\"\n2.0 radio from=2\n")
    r = microapp("run", "examples/hello.py", "--events", str(events))
    assert r.returncode == 2
    assert f"{events}:3: unknown event kind 'radio'" in r.stderr
