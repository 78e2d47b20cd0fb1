"""`microapp run --scenario` and `microapp convert` as a user runs them."""
import json

from tests.test_cli import microapp


def test_run_prints_world_changes_between_log_lines_and_writes_the_history(tmp_path):
    app = tmp_path / "app.py"
    app.write_text("import microapp\ndef loop():\n    print('tick')\n    microapp.delay(1000)\n")
    scenario = tmp_path / "s.toml"
    scenario.write_text('timeline = [\n  { t = 0.45, tap = true },\n]\n[stone]\nid = 9\n[load]\nwatts = 40\n')
    out = tmp_path / "out.json"
    r = microapp("run", str(app), "--ticks", "8", "--scenario", str(scenario), "--json", str(out))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    i = lines.index("t=0.450s [world] switch relay=1 dimmer=0 value=toggle (tap)")
    assert lines[i - 1].startswith("t=0.") and "tick" in lines[i - 1]
    assert lines[i + 1] == "t=0.450s [world] power mw=40000 (tap)"
    world = json.loads(out.read_text())["world"]
    assert world["stone_id"] == 9 and world["switch"] == {"relay": 1, "dimmer": 0, "state": 128}
    assert world["history"][0] == {"t": 0.45, "what": "switch", "source": "tap", "relay": 1,
                                   "dimmer": 0, "value": "toggle"}


def test_quiet_prints_no_world_lines(tmp_path):
    scenario = tmp_path / "s.toml"
    scenario.write_text("timeline = [ { t = 0.1, tap = true } ]\n")
    r = microapp("run", "examples/hello.py", "--ticks", "3", "--scenario", str(scenario), "--quiet")
    assert r.returncode == 0 and r.stdout == ""


def test_a_scenario_mistake_is_one_line_naming_file_and_line_exit_2(tmp_path):
    scenario = tmp_path / "bad.toml"
    scenario.write_text("[load]\nwatts = 10\nvolts = 230\n")
    r = microapp("run", "examples/hello.py", "--scenario", str(scenario))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == f"microapp: error: {scenario}:3: unknown key 'volts' in [load] (known: watts, dimmable, standby_mw, noise_mw)\n"


def test_a_missing_scenario_file(tmp_path):
    r = microapp("run", "examples/hello.py", "--scenario", str(tmp_path / "none.toml"))
    assert r.returncode == 2 and "none.toml: No such file or directory" in r.stderr


def test_convert_writes_a_scenario_that_runs_like_the_events_file(tmp_path):
    scenario = tmp_path / "echo.toml"
    r = microapp("convert", "examples/mesh_echo.events", "-o", str(scenario))
    assert r.returncode == 0, r.stderr
    by_events, by_scenario = tmp_path / "a.json", tmp_path / "b.json"
    for flag, path, out in (("--events", "examples/mesh_echo.events", by_events), ("--scenario", str(scenario), by_scenario)):
        r = microapp("run", "examples/mesh_echo.py", "--ticks", "600", flag, path, "--json", str(out), "--quiet")
        assert r.returncode == 0, r.stderr
    a, b = json.loads(by_events.read_text()), json.loads(by_scenario.read_text())
    assert a["log"] == b["log"] and a["interrupts"] == b["interrupts"] and len(a["log"]) > 10


def test_convert_reports_an_events_mistake(tmp_path):
    events = tmp_path / "bad.events"
    events.write_text("1.0 mesh data=x\n")
    r = microapp("convert", str(events))
    assert r.returncode == 2 and r.stderr == f"microapp: error: {events}:1: mesh needs from=STONE_ID\n"
