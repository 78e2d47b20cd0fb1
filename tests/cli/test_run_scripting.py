"""Exit codes and commands a script can rely on."""
import json
import os
import signal
import subprocess
import sys
import time

from tests.cli.test_run_errors import ROOT, microapp

FAULTY = "def loop():\n    raise RuntimeError('no')\n"


def test_fail_on_fault_makes_a_faulty_run_exit_1(tmp_path):
    (tmp_path / "bad.py").write_text(FAULTY)
    r = microapp("run", "bad.py", "--ticks", "3", cwd=str(tmp_path))
    assert r.returncode == 0  # by default a fault is the app's story, not the command's failure
    r = microapp("run", "bad.py", "--ticks", "3", "--fail-on-fault", "--state", "other.json", cwd=str(tmp_path))
    assert r.returncode == 1
    r = microapp("run", os.path.join(ROOT, "examples/hello.py"), "--ticks", "3", "--fail-on-fault", cwd=str(tmp_path))
    assert r.returncode == 0


def test_version():
    r = microapp("--version")
    assert r.returncode == 0 and r.stdout.startswith("microapp 0.") and "microapp-firmware" in r.stdout


def test_disable_then_enable(tmp_path):
    state = str(tmp_path / "s.json")
    assert microapp("run", "examples/hello.py", "--ticks", "1", "--state", state).returncode == 0
    r = microapp("disable", "hello", "--state", state)
    assert r.returncode == 0 and r.stdout == "hello: disabled (`microapp enable hello` lets it run again)\n"
    r = microapp("run", "examples/hello.py", "--ticks", "3", "--state", state, "--fail-on-fault")
    assert r.returncode == 1 and r.stdout == "" and "hello is disabled" in r.stderr
    assert microapp("enable", "hello", "--state", state).returncode == 0
    assert microapp("run", "examples/hello.py", "--ticks", "3", "--state", state).stdout.count("hello") == 3
    assert microapp("disable", "nope", "--state", state).returncode == 2


def test_json_to_stdout_keeps_the_log_out_of_it(tmp_path):
    r = microapp("run", "examples/hello.py", "--ticks", "3", "--json", "-", "--state", str(tmp_path / "s.json"))
    assert r.returncode == 0
    summary = json.loads(r.stdout)
    assert summary["ticks"] == 3 and summary["interrupted"] is None
    assert "t=0.100s hello 1" in r.stderr


def test_warnings_for_nothing_to_run_and_an_app_too_big_for_the_slot(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    r = microapp("run", "empty.py", "--ticks", "1", cwd=str(tmp_path))
    assert r.returncode == 0
    assert "microapp: warning: empty.py defines no setup() and no loop(); nothing of it runs after import" in r.stderr
    (tmp_path / "big.py").write_text("def loop():\n    pass\n" + "# padding\n" * 2000)
    r = microapp("run", "big.py", "--ticks", "1", cwd=str(tmp_path))
    assert "big.py is 20021 bytes, over the board's 16384-byte app slot" in r.stderr
    assert "big.py defines no setup()\n" in r.stderr  # only what is missing is named
    (tmp_path / "noloop.py").write_text("def setup():\n    pass\n")
    assert "noloop.py defines no loop()\n" in microapp("run", "noloop.py", "--ticks", "1", cwd=str(tmp_path)).stderr


def _start_long_run(tmp_path, *extra):
    return subprocess.Popen([sys.executable, "-m", "host.cli", "run", os.path.join(ROOT, "examples/hello.py"),
                             "--ticks", "40000000", "--quiet", "--state", str(tmp_path / "s.json"), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(tmp_path),
                            env={**os.environ, "PYTHONPATH": ROOT})


def _wait_for_ticks(tmp_path):
    deadline = time.monotonic() + 20
    while not (tmp_path / "s.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)


def test_ctrl_c_writes_the_summary_marked_interrupted(tmp_path):
    out = tmp_path / "out.json"
    proc = _start_long_run(tmp_path, "--json", str(out))
    _wait_for_ticks(tmp_path)
    assert not out.exists()  # written whole at the end, never a 0-byte file meanwhile
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    summary = json.loads(out.read_text())
    assert summary["interrupted"] == "Ctrl-C" and summary["ticks"] > 0
    assert err.splitlines()[-1] == (f"microapp: run interrupted after {summary['ticks']} ticks: Ctrl-C; "
                                    f"the summary (marked interrupted) is in {out}")
    assert "Traceback" not in err


def test_a_killed_run_leaves_no_empty_summary(tmp_path):
    out = tmp_path / "out.json"
    proc = _start_long_run(tmp_path, "--json", str(out))
    _wait_for_ticks(tmp_path)
    proc.kill()
    proc.communicate(timeout=20)
    assert not out.exists() and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_a_host_error_mid_run_still_writes_the_summary(tmp_path, monkeypatch, capsys):
    from host import cli
    from host.simulator import Simulation
    step = Simulation.step

    def failing_step(self, most=1):
        if self.controller.ticks == 5:
            raise RuntimeError("a bug in the host")
        return step(self, 1)
    monkeypatch.setattr(Simulation, "step", failing_step)
    out = tmp_path / "out.json"
    code = cli.main(["run", "examples/hello.py", "--ticks", "10", "--json", str(out), "--quiet",
                     "--state", str(tmp_path / "s.json")])
    err = capsys.readouterr().err
    assert code == 1
    assert json.loads(out.read_text())["interrupted"] == "host error: RuntimeError: a bug in the host"
    assert err.splitlines()[-1].startswith("microapp: run interrupted after 5 ticks: host error")
