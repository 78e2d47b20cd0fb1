"""--isolate, attacked (issue 12): the app runs in a child process; nothing it does, a C-level
hang, os._exit, a segfault, a signal, a memory bomb, reaches the host. The run finishes, the
summary is written, the app is flagged. Apps given `os`, `ctypes` or `signal` stand for one that
escaped the loader through CPython's internals (what the simulator's default level cannot stop)."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from host import sandbox_landlock
from host.cli import main
from host.limits import Limits
from host.links.process_link import ProcessLink
from host.simulator import Simulation

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WATCHDOG_MS = 300
as_root = pytest.mark.skipif(os.getuid() != 0, reason="the child drops to `nobody` only when the host runs as root")


def isolated(source, extra=(), ticks=5, **link_options):
    link = ProcessLink(textwrap.dedent(source), watchdog_ms=WATCHDOG_MS, extra_modules=extra, **link_options)
    sim = Simulation(None, link=link, limits=Limits(watchdog_ms=WATCHDOG_MS))
    try:
        return sim.run(ticks)
    finally:
        link.close()


def stopped_for(summary):
    assert summary["ticks"] == 5 and not summary["enabled"] and summary["did_reboot"]
    [fault] = summary["faults"]
    assert fault["where"] == "watchdog"
    return fault["error"]


def test_an_isolated_app_runs_as_in_the_simulator():
    source = """
        import microapp
        def on_mesh(msg):
            print("from", msg.stoneId, msg.dataPtr)
        def setup():
            microapp.Mesh.setIncomingMeshMsgHandler(on_mesh)
            microapp.Mesh.listen()
        def loop():
            print("t", microapp.millis())
    """
    from host.events import Event
    events = [Event(250, "mesh", 7, b"hi")]
    runs = []
    for isolate in (False, True):
        sim = Simulation(textwrap.dedent(source), events, isolate=isolate)
        runs.append(sim.run(6))
        getattr(sim.link, "close", lambda: None)()
    assert runs[0]["log"] == runs[1]["log"] and runs[1]["faults"] == []
    assert "from 7 b'hi'" in [text for _, text in runs[1]["log"]]


def test_a_long_c_call_is_killed_by_the_watchdog():
    error = stopped_for(isolated("def loop():\n    sum(range(10**12))\n"))
    assert error == f"no yield within {WATCHDOG_MS} ms: its process was killed by the watchdog"


def test_top_level_code_that_never_ends_does_not_load():
    from host.links import AppHung
    with pytest.raises(AppHung, match="while its top-level code ran"):
        ProcessLink("sum(range(10**12))\n", watchdog_ms=WATCHDOG_MS)


@pytest.mark.parametrize("attack, extra, how", [
    ("os._exit(0)", ("os",), "exit code 0"),
    ("ctypes.string_at(0)", ("ctypes",), "killed by SIGSEGV"),
    ("os.kill(os.getpid(), signal.SIGKILL)", ("os", "signal"), "killed by SIGKILL"),
    ("signal.alarm(1)\n    while True: pass", ("signal",), None),  # the watchdog comes first, or SIGALRM
])
def test_a_process_that_ends_itself_is_contained(attack, extra, how):
    imports = "".join(f"import {m}\n" for m in extra)
    error = stopped_for(isolated(f"{imports}def loop():\n    {attack}\n", extra=extra))
    if how is not None:
        assert error == f"the app's process ended ({how})"


def test_blocking_the_watchdogs_signal_does_not_help():
    error = stopped_for(isolated("""
        import signal
        def loop():
            signal.pthread_sigmask(signal.SIG_BLOCK, set(signal.Signals))
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                pass
    """, extra=("signal",)))
    assert "killed by the watchdog" in error


def test_a_memory_bomb_hits_the_childs_limit():
    summary = isolated("""
        def loop():
            hoard = []
            while True:
                hoard.append(bytearray(1 << 24))
    """, memory=256 << 20)
    assert summary["ticks"] == 5 and summary["faults"]
    assert summary["faults"][0]["error"].startswith("MemoryError") or summary["did_reboot"]


@as_root
def test_an_escaped_app_can_neither_signal_the_host_nor_open_the_users_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("mine")
    os.chmod(secret, 0o600)
    summary = isolated(f"""
        import os, signal
        def setup():
            for attack in (lambda: os.kill(os.getppid(), signal.SIGKILL),
                           lambda: os.open({str(secret)!r}, os.O_WRONLY | os.O_TRUNC),
                           lambda: os.listdir(".")):
                try:
                    attack()
                except OSError as e:
                    print(type(e).__name__)
    """, extra=("os", "signal"))
    log = [text for _, text in summary["log"]]
    # its working directory was removed, and as `nobody` it may not even look there
    assert log[:2] == ["PermissionError", "PermissionError"] and log[2] in ("PermissionError", "FileNotFoundError")
    assert secret.read_text() == "mine"


def test_the_board_view_holds_in_the_child_too():
    with pytest.raises(ImportError, match="no module named 'os'"):
        ProcessLink("import os\n")


@pytest.mark.slow
def test_microapp_run_isolate_writes_the_summary_and_flags_the_app(tmp_path):
    app = tmp_path / "hang.py"
    app.write_text("def loop():\n    sum(range(10**12))\n")
    out, state = tmp_path / "out.json", tmp_path / "state.json"
    r = subprocess.run([sys.executable, "-m", "host.cli", "run", str(app), "--isolate", "--ticks", "20",
                        "--json", str(out), "--state", str(state), "--limit", f"watchdog_ms={WATCHDOG_MS}"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    summary = json.loads(out.read_text())
    assert summary["ticks"] == 20 and summary["did_reboot"] and not summary["enabled"]
    assert "hang disabled (did-reboot)" in r.stderr


def test_isolate_does_not_go_with_a_port(tmp_path, capsys):
    app = tmp_path / "app.py"
    app.write_text("def loop():\n    pass\n")
    assert main(["run", str(app), "--isolate", "--port", "loop://", "--state", str(tmp_path / "s.json")]) == 2
    assert "--isolate" in capsys.readouterr().err


def test_the_plugin_fixture_isolates_on_request(microapp_sim):
    sim = microapp_sim("def loop():\n    sum(range(10**12))\n", limits=Limits(watchdog_ms=WATCHDOG_MS), isolate=True)
    assert isinstance(sim.link, ProcessLink)
    summary = sim.run(3)
    assert summary["ticks"] == 3 and summary["did_reboot"]


pytest_plugins = ["pytester"]


def test_the_plugins_option_isolates_every_microapp_sim(pytester):
    pytester.makepyfile(test_suite='''
from host.links.process_link import ProcessLink

def test_isolated(microapp_sim):
    sim = microapp_sim("def loop():\\n    print('hi')\\n")
    assert isinstance(sim.link, ProcessLink)
    assert sim.run(2)["log"] == [[0.1, "hi"]]
''')
    assert pytester.runpytest_inprocess("-p", "no:cacheprovider", "--microapp-isolate").ret == 0
    assert pytester.runpytest_inprocess("-p", "no:cacheprovider").ret == 1  # without it: the greenlet link


def test_the_plugin_warns_when_an_isolated_app_runs_without_a_barrier(pytester, monkeypatch):
    pytester.makepyfile(test_suite='''
def test_isolated(microapp_sim):
    assert microapp_sim("def loop():\\n    pass\\n").run(1)["ticks"] == 1
''')
    monkeypatch.setenv("MICROAPP_ISOLATE_WITHOUT", "seccomp")  # as a kernel without seccomp
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--microapp-isolate")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*IsolateWarning: --isolate runs without seccomp*"])
    monkeypatch.delenv("MICROAPP_ISOLATE_WITHOUT")
    if sandbox_landlock.abi_version() < 6:
        return  # this kernel lacks a barrier: the plugin rightly warns without the variable too
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--microapp-isolate")
    assert result.ret == 0 and "IsolateWarning" not in result.stdout.str()
