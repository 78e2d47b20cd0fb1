"""Persisted app state: flags and counters survive a restart of the host, the state file is
never left half-written, `microapp status` shows it and `microapp enable` clears the flags."""
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from host.app_state import AppState, StateFileError, StateStore, app_key, app_name
from host.cli import main
from host.limits import Limits
from host.sdk_types import mesh
from host.simulator import Simulation
from shared_buffers import protocol as P

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HANGS = "def loop():\n    while True:\n        pass\n"
RAISES = "def loop():\n    raise RuntimeError('broken')\n"
FAST = Limits(watchdog_ms=100)


def run_app(source, store, name="app", ticks=5, limits=FAST, **kw):
    sim = Simulation(source, limits=limits, store=store, app_name=name, **kw)
    return sim, sim.run(ticks)


def test_flags_and_counters_survive_a_new_host(tmp_path):
    store = StateStore(str(tmp_path / "state.json"))
    run_app(HANGS, store)
    # a new host process would build a new store on the same file
    saved = StateStore(store.path).get("app")
    assert (saved.enabled, saved.did_reboot, saved.exceeded_call_duration) == (False, True, False)
    assert saved.faults == 1 and saved.last_fault.startswith("watchdog: no yield within 100 ms")
    # the app stays disabled: the next host does not call it at all
    sim, summary = run_app(HANGS, StateStore(store.path))
    assert not summary["enabled"] and summary["did_reboot"] and summary["entries"] == 0


def test_the_flag_is_saved_the_moment_it_is_set(tmp_path):
    store = StateStore(str(tmp_path / "state.json"))
    sim = Simulation(HANGS, limits=FAST, store=store, app_name="app")
    sim.step()
    sim.step()  # the watchdog stops it here; the run has not ended
    assert store.get("app").did_reboot


def test_counters_add_up_over_runs(tmp_path):
    store = StateStore(str(tmp_path / "state.json"))
    source = textwrap.dedent("""
        from microapp import *
        def setup():
            Mesh.setIncomingMeshMsgHandler(lambda msg: None)
            Mesh.listen()
        n = 0
        def loop():
            global n
            n += 1
            if n == 2:
                raise RuntimeError("broken")
    """)
    for _ in range(2):
        sim = Simulation(source, limits=FAST, store=store, app_name="app")
        sim.run(2)
        for _ in range(4):  # 3 delivered, 1 throttled
            sim.controller.interrupt(P.MESH, *mesh.interrupt(2, b""))
        sim.run(1)  # loop() raises: one restart per run
    saved = store.get("app")
    assert (saved.faults, saved.restarts) == (2, 2)
    assert (saved.generated, saved.delivered, saved.signalled, saved.queued, saved.uncounted) == (8, 6, 2, 0, 0)
    assert saved.enabled


def test_enable_clears_the_flags_and_keeps_the_history(tmp_path):
    store = StateStore(str(tmp_path / "state.json"))
    run_app(HANGS, store)
    state = store.enable("app")
    assert state.enabled and not state.did_reboot and state.faults == 1
    assert store.get("app") == state
    sim, summary = run_app(HANGS, store)  # it runs (and hangs) again
    assert summary["entries"] > 0 and store.get("app").faults == 2


def test_a_call_duration_flag_persists_too(tmp_path):
    store = StateStore(str(tmp_path / "state.json"))
    run_app("import time\ndef loop():\n    time.sleep(0.05)\n", store, limits=Limits(call_duration_ms=20))
    saved = store.get("app")
    assert saved.exceeded_call_duration and not saved.did_reboot and not saved.enabled


@pytest.mark.parametrize("text, why", [
    ("{not json", "Expecting property name"),
    ('{"format": 2, "apps": {}}', 'expected {"format": 1'),
    ('{"format": 1, "apps": {"a": {"enabled": "yes"}}}', "app 'a': enabled='yes'"),
    ('{"format": 1, "apps": {"a": {"colour": 1}}}', "app 'a': colour=1"),
    ('{"format": 1, "apps": {"a": 3}}', "app 'a' is not an object"),
])
def test_a_corrupt_state_file_is_refused_and_left_as_it_is(tmp_path, capsys, text, why):
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(StateFileError, match="not a microapp state file"):
        StateStore(str(path)).load()
    app = tmp_path / "app.py"
    app.write_text(RAISES)
    for argv in (["status"], ["enable", "app"], ["run", str(app), "--ticks", "1"]):
        assert main([*argv, "--state", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and why in err
    assert path.read_text() == text  # nothing lost


def _touches_files(fn):
    """A built-in of the os or io modules, or a method of a file object."""
    owner = getattr(fn, "__self__", None)
    return getattr(fn, "__module__", None) in ("posix", "io") or type(owner).__module__ in ("_io", "io")


def _put_dying_at(store, name, state, k):
    """store.put() in a forked child that is SIGKILLed just before its k-th call that touches
    the file system (open, write, flush, fsync, replace, close, ...): a crash at that point."""
    pid = os.fork()
    if pid == 0:  # the child: no return from here
        calls = 0

        def crash(frame, event, arg):
            nonlocal calls
            if event == "c_call" and _touches_files(arg):
                calls += 1
                if calls == k:
                    os.kill(os.getpid(), signal.SIGKILL)
        sys.setprofile(crash)
        store.put(name, state)
        sys.setprofile(None)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status)


def test_a_crash_at_any_point_of_a_save_leaves_the_old_file_or_the_new_one(tmp_path):
    store = StateStore(str(tmp_path / "state.json"))
    old = AppState(faults=1, last_fault="old " * 50)
    new = AppState(enabled=False, did_reboot=True, faults=2, last_fault="new " * 50)
    store.put("other", AppState(restarts=7))
    store.put("app", old)
    seen = []
    k = 1
    while _put_dying_at(store, "app", new, k):  # until the save runs to its end
        apps = store.load()  # never raises: the file is whole
        assert apps["other"] == AppState(restarts=7) and apps["app"] in (old, new)
        seen.append(apps["app"])
        store.put("app", old)
        k += 1
    assert store.get("app") == new
    assert old in seen and new in seen and k > 8  # crashes before and after the rename


def test_app_names_are_file_names_without_py():
    assert app_name("examples/runaway.py") == "runaway" == app_name("runaway")


# -- the CLI ----------------------------------------------------------------------------------
def test_status_prints_a_table_of_flags_and_counters(tmp_path, capsys):
    state = str(tmp_path / "state.json")
    StateStore(state).put("blink", AppState(generated=5, delivered=3, signalled=2))
    StateStore(state).put("runaway", AppState(enabled=False, did_reboot=True, faults=1, last_fault="watchdog: x"))
    assert main(["status", "--state", state]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["APP", "STATE", "FLAGS", "FAULTS", "RESTARTS", "GENERATED", "DELIVERED",
                                "SIGNALLED", "QUEUED", "UNCOUNTED", "LAST", "FAULT", "PATH"]
    assert lines[1].split() == ["blink", "enabled", "-", "0", "0", "5", "3", "2", "0", "0", "-", "-"]
    assert lines[2].split() == ["runaway", "disabled", "did-reboot", "1", "0", "0", "0", "0", "0", "0",
                                "watchdog:", "x", "-"]
    assert main(["status", "examples/runaway.py", "--state", state]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["APP", "runaway"]


def test_status_and_enable_of_an_unknown_app_say_so(tmp_path, capsys):
    state = str(tmp_path / "state.json")
    assert main(["status", "--state", state]) == 0
    assert capsys.readouterr().out == f"no apps in {state} yet\n"
    StateStore(state).put("blink", AppState())
    for argv in (["status", "blinky"], ["enable", "blinky"]):
        assert main([*argv, "--state", state]) == 2
        assert capsys.readouterr().err == f"microapp: error: no app 'blinky' in {state} (known: blink)\n"


def test_runaway_example_is_disabled_with_did_reboot_then_enabled_again(tmp_path, capsys):
    state, out = str(tmp_path / "state.json"), tmp_path / "out.json"
    argv = ["run", os.path.join(ROOT, "examples", "runaway.py"), "--ticks", "50", "--json", str(out),
            "--state", state, "--limit", "watchdog_ms=100"]
    assert main(argv) == 0
    summary = json.loads(out.read_text())
    assert summary["ticks"] == 50 and not summary["enabled"] and summary["did_reboot"]
    assert capsys.readouterr().err.endswith("1 faults, 0 restarts; runaway disabled (did-reboot)\n")
    # the next host: still disabled, and says how to enable it
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.startswith("microapp: runaway is disabled (did-reboot); `microapp enable runaway`")
    assert json.loads(out.read_text())["entries"] == 0
    assert main(["enable", "runaway", "--state", state]) == 0
    assert main(["status", "runaway", "--state", state]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[:4] == ["runaway", "enabled", "-", "1"]


@pytest.mark.slow
def test_the_issues_runaway_command_with_the_default_one_second_watchdog(tmp_path):
    r = subprocess.run([sys.executable, "-m", "host.cli", "run", os.path.join(ROOT, "examples", "runaway.py"),
                        "--ticks", "50", "--json", "out.json"], cwd=tmp_path, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": ROOT}, timeout=60)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "out.json").read_text())
    assert summary["ticks"] == 50 and not summary["enabled"] and summary["did_reboot"]
    assert summary["faults"][0]["error"] == "no yield within 1000 ms: stopped by the watchdog"
    assert StateStore(str(tmp_path / ".microapp" / "state.json")).get(
        app_key(os.path.join(ROOT, "examples", "runaway.py"))).did_reboot


def test_strict_timing_turns_on_bluenets_call_limit(tmp_path):
    app = tmp_path / "slow.py"
    app.write_text("import time\ndef loop():\n    time.sleep(0.05)\n")
    out, state = tmp_path / "out.json", str(tmp_path / "state.json")
    assert main(["run", str(app), "--ticks", "3", "--quiet", "--json", str(out), "--state", state]) == 0
    assert json.loads(out.read_text())["enabled"]
    assert main(["run", str(app), "--ticks", "3", "--quiet", "--json", str(out), "--state", state,
                 "--strict-timing"]) == 0
    summary = json.loads(out.read_text())
    assert summary["exceeded_call_duration"] and not summary["enabled"]
    assert "over the 20 ms limit" in summary["faults"][0]["error"]


# -- one app, many runs -----------------------------------------------------------------------
CONCURRENT_APP = """
import time
def setup():
    time.sleep(1.5)  # every run holds its state while the others start: they overlap
n = 0
def loop():
    global n
    n += 1
    if n % 3 == 0:
        raise ValueError("every third loop")
"""


@pytest.mark.slow
def test_six_concurrent_runs_of_one_app_add_up(tmp_path):
    app = tmp_path / "busy.py"
    app.write_text(CONCURRENT_APP)
    state = str(tmp_path / "state.json")
    argv = [sys.executable, "-m", "host.cli", "run", str(app), "--ticks", "40", "--quiet", "--state", state,
            "--fault-policy", "restart", "--limit", "watchdog_ms=10000"]
    single = tmp_path / "single.json"
    subprocess.run(argv[:-4] + ["--state", str(tmp_path / "alone.json"), "--json", str(single),
                                "--fault-policy", "restart", "--limit", "watchdog_ms=10000"],
                   cwd=ROOT, check=True, capture_output=True)
    one = json.loads(single.read_text())
    assert one["restarts"] > 2  # the runs have something to add up
    runs = [subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(6)]
    for run in runs:
        assert run.wait(timeout=60) == 0, run.stderr.read()  # type: ignore[union-attr]
    saved = StateStore(state).get(app_key(str(app)))
    assert (saved.faults, saved.restarts) == (6 * len(one["faults"]), 6 * one["restarts"])


def test_a_clean_run_keeps_the_flag_a_concurrent_run_set(tmp_path):
    store = StateStore(str(tmp_path / "state.json"))
    clean = Simulation("def loop():\n    pass\n", limits=FAST, store=store, app_name="app")  # loads: enabled
    run_app(HANGS, store)  # meanwhile another run of the app hangs: did-reboot, disabled
    clean.run(3)
    saved = store.get("app")
    assert saved.did_reboot and not saved.enabled and saved.faults == 1


def test_a_run_adds_to_what_another_run_saved_meanwhile(tmp_path):
    store = StateStore(str(tmp_path / "state.json"))
    first = Simulation(RAISES, limits=FAST, store=store, app_name="app")
    second = Simulation(RAISES, limits=FAST, store=store, app_name="app")
    a, b = first.run(2), second.run(4)
    first.run(2)  # a second save of the same run adds only what it counted since its first
    assert store.get("app").faults == len(b["faults"]) + len(first.summary()["faults"])
    assert len(a["faults"]) < len(first.summary()["faults"])


def test_two_apps_of_one_file_name_are_two_apps(tmp_path, capsys):
    state = str(tmp_path / "state.json")
    for folder, source in (("a", HANGS), ("b", "def loop():\n    pass\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "app.py").write_text(source)
        assert main(["run", str(tmp_path / folder / "app.py"), "--ticks", "3", "--quiet", "--state", state,
                     "--limit", "watchdog_ms=100"]) == 0
    apps = StateStore(state).load()
    hung, clean = apps[str(tmp_path / "a" / "app.py")], apps[str(tmp_path / "b" / "app.py")]
    assert hung.did_reboot and not hung.enabled and clean.enabled and not clean.did_reboot
    # the same file by another path is the same app
    assert app_key(str(tmp_path / "b" / ".." / "a" / "app.py")) == str(tmp_path / "a" / "app.py")
    capsys.readouterr()
    assert main(["enable", "app", "--state", state]) == 2  # a bare name that is two apps: say so
    assert "names 2 apps" in capsys.readouterr().err
    assert main(["enable", str(tmp_path / "a" / "app.py"), "--state", state]) == 0
    assert StateStore(state).load()[str(tmp_path / "a" / "app.py")].enabled
