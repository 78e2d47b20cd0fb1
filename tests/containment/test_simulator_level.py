"""The simulator's default level of containment, attacked (issue 12): the app sees what a
MicroPython nRF52 board offers and no more, and every BaseException out of it is its own fault.
Each attack runs on the greenlet link; the host finishes the run, the app is flagged, the user's
files are untouched."""
import json
import os
import signal
import textwrap
import threading

import pytest

from host.app_state import StateStore
from host.cli import main
from host.controller import Controller
from host.limits import Limits
from host.sandbox import HostInterrupt
from host.simulator import Simulation

FAST = Limits(watchdog_ms=200)


def sim_of(source, **kw):
    kw.setdefault("limits", FAST)
    return Simulation(textwrap.dedent(source), **kw)


def run_of(source, ticks=6, **kw):
    sim = sim_of(source, **kw)
    return sim, sim.run(ticks)


def errors(summary):
    return [f["error"] for f in summary["faults"]]


def same_error(seen, full):
    """An error text as the app's buffer carried it: cut to what fits its trailer."""
    return len(seen) >= 30 and full.startswith(seen)


# -- imports: only the board's modules ------------------------------------------------------
@pytest.mark.parametrize("module", ["os", "socket", "subprocess", "signal", "atexit", "ctypes",
                                    "builtins", "importlib", "threading", "io", "machine", "inspect",
                                    "firmware.runtime", "host.controller", "greenlet", "json.decoder"])
def test_an_app_importing_what_the_board_has_not_does_not_load(module):
    with pytest.raises(ImportError, match=f"no module named '{module}'"):
        sim_of(f"import {module}\n")


def test_an_import_in_setup_is_a_fault_of_the_app():
    _, summary = run_of("""
        def setup():
            import os
            os.remove("anything")
    """)
    assert "ImportError: no module named 'os'" in errors(summary)
    assert summary["ticks"] == 6 and summary["restarts"] >= 1


def test_the_boards_modules_load_and_show_no_way_back():
    _, summary = run_of("""
        import json, math, struct, time, random, collections, re, gc, sys
        import ustruct, micropython
        X = micropython.const(3)
        def setup():
            print(json.dumps([math.floor(2.5), struct.pack("<H", X).hex(), ustruct.pack is struct.pack]))
            for mod, name in ((gc, "get_referrers"), (gc, "get_objects"), (sys, "modules"),
                              (sys, "settrace"), (sys, "setrecursionlimit"), (json, "decoder"),
                              (random, "_os"), (collections, "_sys")):
                print(name, hasattr(mod, name))
    """, ticks=6)
    log = [text for _, text in summary["log"]]
    assert log[0] == '[2, "0300", true]'
    assert log[1:] == [f"{n} False" for n in ("get_referrers", "get_objects", "modules", "settrace",
                                              "setrecursionlimit", "decoder", "_os", "_sys")]


def test_an_app_cannot_patch_what_the_host_uses_or_what_the_next_app_gets():
    import json
    run_of("""
        import json, errno, microapp, time
        def setup():
            for attack in (lambda: setattr(json.JSONEncoder, "encode", None),
                           lambda: errno.errorcode.clear(),
                           lambda: setattr(json, "dumps", None),
                           lambda: setattr(microapp, "millis", None),
                           lambda: setattr(time, "sleep", None)):
                try:
                    attack()
                except AttributeError as e:
                    print(e)
    """, ticks=3)
    assert json.dumps({"a": 1}) == '{"a": 1}' and os.strerror(2)
    import errno
    assert errno.errorcode[errno.ENOENT] == "ENOENT"
    _, summary = run_of("""
        import json, microapp, time
        def setup():
            print(json.dumps([1]), microapp.millis(), time.sleep is not None, time.ticks_diff(5, 3))
    """, ticks=1)
    assert summary["log"][0][1] == "[1] 0 True 2"


# -- builtins: the board's, without files and code from strings -------------------------------
@pytest.mark.parametrize("name", ["open", "exec", "eval", "compile", "input", "breakpoint", "globals",
                                  "locals", "vars", "help", "exit", "quit"])
def test_withheld_builtins_are_not_there(name):
    _, summary = run_of(f"""
        def setup():
            {name}
    """, ticks=1)
    [seen] = errors(summary)
    assert same_error(seen, f"NameError: name '{name}' is not defined")


def test_an_app_cannot_write_the_users_files_or_the_state_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state.json"
    store = StateStore(str(state))
    run_of("def loop():\n    while True:\n        pass\n", store=store, app_name="other")
    before = state.read_bytes()
    victim = tmp_path / "notes.txt"
    victim.write_text("mine")
    _, summary = run_of(f"""
        def setup():
            try:
                open({str(victim)!r}, "w").write("gone")
            except NameError as e:
                print(e)
        def loop():
            import io
            io.open({str(state)!r}, "w").write("{{}}")
    """, ticks=4, store=store, app_name="app")
    assert victim.read_text() == "mine" and state.read_bytes() != b"{}"
    assert StateStore(str(state)).get("other").did_reboot  # another app's flag stays
    assert json.loads(state.read_text())["apps"]["other"] == json.loads(before)["apps"]["other"]
    assert summary["log"][0][1] == "name 'open' is not defined"
    assert errors(summary)[0] == "ImportError: no module named 'io'"


# -- no reach into the host's objects ---------------------------------------------------------
def test_the_sdk_holds_no_runtime_and_no_bind():
    _, summary = run_of("""
        import microapp
        from microapp import *
        STAR = "bind" in dir() or "_rt" in dir()
        def setup():
            print([hasattr(microapp, name) for name in ("_rt", "bind", "_P", "Mesh", "millis")], STAR)
    """, ticks=1)
    assert summary["log"][0][1] == "[False, False, False, True, True] False"


@pytest.mark.parametrize("reach", [
    "microapp.log.__globals__", "().__class__.__base__.__subclasses__()",
    "(lambda: 0).__code__", "microapp.RequestError.__mro__", "(x for x in ()).gi_frame",
    "type(microapp).__dict__",
])
def test_cpythons_internals_are_refused_by_name(reach):
    with pytest.raises(ImportError, match="which a microapp cannot reach"):
        sim_of(f"import microapp\ndef setup():\n    {reach}\n")


def test_a_computed_name_does_not_reach_the_hidden_ones_either():
    sim, summary = run_of("""
        import microapp
        def setup():
            try:
                getattr(microapp.log, "__glo" + "bals__")["_rt"].handlers.clear()
            except AttributeError as e:
                print(e)
        def loop():
            try:
                raise ValueError()
            except ValueError as e:
                tb = getattr(e, "__trace" + "back__")
                getattr(getattr(tb, "tb_" + "frame"), "f_" + "back")
    """, ticks=4)
    assert summary["log"][0][1] == "'__globals__' is hidden from a microapp"
    assert same_error(errors(summary)[0], "AttributeError: '__traceback__' is hidden from a microapp")
    assert "_fault" not in vars(sim.controller) and Controller._fault.__name__ == "_fault"


def test_top_level_code_that_catches_the_watchdog_still_does_not_load():
    from host.links import AppHung
    with pytest.raises(AppHung, match="no yield within 200 ms"):
        sim_of("""
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
        """)


def test_a_finaliser_that_would_run_unwatched_is_refused():
    with pytest.raises(ImportError, match="__del__"):
        sim_of("""
            class Spin:
                def __del__(self):
                    while True:
                        pass
            keep = Spin()
        """)


# -- every BaseException out of the app is its fault -------------------------------------------
@pytest.mark.parametrize("raise_it", ["raise KeyboardInterrupt", "raise GeneratorExit", "raise SystemExit(3)",
                                      "sys.exit()", "raise Mine('custom')"])
@pytest.mark.parametrize("where", ["setup", "loop", "handler"])
def test_a_base_exception_out_of_the_app_is_a_fault_and_the_run_goes_on(raise_it, where):
    source = f"""
        import microapp, sys
        class Mine(BaseException):
            pass
        def on_mesh(msg):
            {raise_it if where == "handler" else "pass"}
        def setup():
            microapp.Mesh.setIncomingMeshMsgHandler(on_mesh)
            microapp.Mesh.listen()
            {raise_it if where == "setup" else "pass"}
        def loop():
            {raise_it if where == "loop" else "pass"}
    """
    from host.events import Event
    events = [Event(t, "mesh", 2, b"hi") for t in (150, 450)]
    _, summary = run_of(source, ticks=8, events=events)
    assert summary["ticks"] == 8
    kind = raise_it.split()[1].split("(")[0] if raise_it.startswith("raise") else "SystemExit"
    assert errors(summary) and all(e.startswith(f"{kind}:") for e in errors(summary))
    assert summary["restarts"] >= 1 or not summary["enabled"]


@pytest.mark.parametrize("raise_it", ["raise KeyboardInterrupt", "raise SystemExit", "raise GeneratorExit"])
def test_a_base_exception_at_load_is_a_load_fault_of_the_app(raise_it, tmp_path, capsys):
    app = tmp_path / "app.py"
    app.write_text(raise_it + "\n")
    assert main(["run", str(app), "--state", str(tmp_path / "s.json")]) == 2
    assert capsys.readouterr().err.startswith(f"microapp: error: {app}:1: does not import: AppLoadFault: ")


def test_the_users_ctrl_c_still_ends_the_run():
    sim = sim_of("""
        def loop():
            n = 0
            while n < 3_000_000:
                n += 1
    """, limits=Limits(watchdog_ms=10_000))
    sim.run(1)
    timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(HostInterrupt):
            sim.run(50)  # the SIGINT comes while the app's greenlet runs
    finally:
        timer.cancel()
