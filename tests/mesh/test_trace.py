"""Traces: Chrome trace-event JSON of a mesh run and of `microapp run`, and the Mermaid diagrams."""
import json
import re
import textwrap

from host.cli import main
from host.trace.perfetto import Recorder
from tests.apps import MESH_APP
from tests.mesh.apps import LISTENER, chatty

PAIR = """
[radio]
jitter_ms = 0
[[stone]]
id = 1
app = "sender.py"
[[stone]]
id = 2
app = "listener.py"
phase_ms = 30
[[link]]
a = 1
b = 2
"""


def test_a_mesh_trace_has_a_track_per_stone_slices_instants_and_flows(mesh):
    recorder = Recorder(every_tick=True)
    mesh(PAIR, {"sender.py": chatty(to=2, every=1000), "listener.py": LISTENER},
         minutes=0.05, recorder=recorder)
    events = json.loads(json.dumps(recorder.trace()))["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert names == {1: "stone 1", 2: "stone 2"}
    ticks = [e for e in events if e["ph"] == "X" and e["name"] == "tick"]
    assert {e["tid"] for e in ticks} == {1, 2} and len(ticks) == 60
    assert all(e["args"]["switches"][0][:3] == ["host->app", "CONTINUE", "NO_REQUEST"] for e in ticks)
    sends = [e for e in events if e["ph"] == "i" and e["name"] == "MESH" and e["tid"] == 1]
    assert len(sends) == 1 + 2  # the listen in setup, a send at 1 s and at 2 s
    assert all(e["args"]["ack"] == "SUCCESS" for e in sends)
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    ends = {e["id"]: e for e in events if e["ph"] == "f"}
    assert sorted(starts) == sorted(ends) and len(starts) == 2
    for fid, s in starts.items():
        assert (s["tid"], ends[fid]["tid"]) == (1, 2) and ends[fid]["ts"] - s["ts"] == 20_000
        entry = next(e for e in events if e["ph"] == "X" and e["tid"] == 2 and e["ts"] == ends[fid]["ts"])
        assert entry["name"] == "MESH interrupt"


def test_quiet_ticks_in_a_row_are_one_slice_and_the_diagram_draws_one(mesh, tmp_path, capsys):
    apps = {"sender.py": chatty(to=2, every=1000), "listener.py": LISTENER}
    every, runs = Recorder(every_tick=True), Recorder()
    mesh(PAIR, apps, minutes=0.05, recorder=every)
    mesh(PAIR, apps, minutes=0.05, recorder=runs)
    full, events = every.trace()["traceEvents"], runs.trace()["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    quiet = [e for e in slices if e["name"] == "quiet ticks"]
    assert quiet and len(json.dumps(events)) * 3 < len(json.dumps(full))
    for sid in (1, 2):  # every tick is still there, as a slice of its own or counted in a run
        ticks = [e for e in full if e["ph"] == "X" and e["tid"] == sid and e["name"] == "tick"]
        mine = [e for e in slices if e["tid"] == sid]
        assert sum(e["args"].get("ticks", 1) for e in mine if "tick" in e["name"]) == len(ticks)
        # the entries that are not quiet ticks are all there, as they were
        assert ([e for e in mine if e["name"] != "quiet ticks" and len(e["args"]["switches"]) > 2]
                == [e for e in full if e["ph"] == "X" and e["tid"] == sid and len(e["args"]["switches"]) > 2])
        for run in (e for e in mine if e["name"] == "quiet ticks"):  # a run spans no other entry
            first = next(e for e in ticks if e["ts"] == run["ts"])
            last = next(e for e in ticks if e["args"]["call"] == run["args"]["last_call"] and e["ts"] >= run["ts"])
            inside = [e for e in full if e["ph"] == "X" and e["tid"] == sid and first["ts"] <= e["ts"] <= last["ts"]]
            assert len(inside) == run["args"]["ticks"] and all(e["name"] == "tick" for e in inside)
            assert run["args"]["switches"] == first["args"]["switches"]
            assert run["ts"] + run["dur"] == last["ts"] + last["dur"]
    # the MESH interrupt at 1.02 s ends stone 2's run; a window inside the next run draws it once
    run = next(e for e in quiet if e["tid"] == 2 and e["ts"] > 1_020_000)
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps(runs.trace()))
    mid = (run["ts"] + run["dur"] / 2) / 1e6
    assert main(["diagram", str(trace), "--stone", "2", "--from", str(mid), "--to", str(mid)]) == 0
    out = capsys.readouterr().out
    assert f"{run['args']['ticks']} quiet ticks" in out and out.count("resume the microapp") == 1
    assert notes(out) == [("b2m", "messageType = CONTINUE <br> ack = NO_REQUEST"),
                          ("m2b", "messageType = YIELD <br> ack = NO_REQUEST")]


def notes(diagram: str) -> list[str]:
    return re.findall(r"Note over (m2b|b2m) : (.*)", diagram)


def test_run_writes_a_trace_whose_diagram_is_seed_004s_interrupt_example(tmp_path, capsys):
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent(MESH_APP))
    events = tmp_path / "e.events"
    events.write_text("0.25 mesh from=3 data=\"hi\"\n")
    trace = tmp_path / "t.json"
    assert main(["run", str(app), "--ticks", "5", "--events", str(events), "--trace", str(trace), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["diagram", str(trace), "--from", "0.25", "--to", "0.25"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sequenceDiagram\n    participant b as Bluenet (host)")
    # seed 004, "interrupt stack not full", buffer by buffer (SERIAL is our LOG)
    assert notes(out) == [
        ("b2m", "messageType = MESH <br> ack = REQUEST"),
        ("b2m", "ack = IN_PROGRESS"),
        ("m2b", "messageType = LOG <br> ack = REQUEST"),
        ("m2b", "ack = SUCCESS"),
        ("m2b", "messageType = YIELD <br> ack = SUCCESS"),
        ("b2m", "ack = SUCCESS"),
    ]
    assert main(["diagram", str(trace), "--from", "0.3", "--to", "0.3"]) == 0
    # seed 004, the minimal example: a tick
    assert notes(capsys.readouterr().out) == [
        ("b2m", "messageType = CONTINUE <br> ack = NO_REQUEST"),
        ("m2b", "messageType = YIELD <br> ack = NO_REQUEST"),
    ]


def test_diagram_mistakes_get_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["diagram", str(bad)]) == 2
    assert "not a trace (JSON)" in capsys.readouterr().err
    bad.write_text('{"traceEvents": []}')
    assert main(["diagram", str(bad)]) == 2
    assert capsys.readouterr().err.endswith("the trace has no entries\n")
    assert main(["diagram", str(tmp_path / "none.json")]) == 2


def test_a_trace_window_keeps_only_its_entries(tmp_path, capsys):
    (tmp_path / "sender.py").write_text(textwrap.dedent(chatty(to=2, every=1000)))
    (tmp_path / "listener.py").write_text(textwrap.dedent(LISTENER))
    (tmp_path / "s.toml").write_text(PAIR)
    trace = tmp_path / "t.json"
    assert main(["mesh", str(tmp_path / "s.toml"), "--minutes", "0.05", "--quiet", "--trace", str(trace),
                 "--trace-from", "1.0", "--trace-to", "1.5"]) == 0
    capsys.readouterr()
    events = json.loads(trace.read_text())["traceEvents"]
    slices = [e for e in events if e["ph"] == "X"]
    assert slices and all(1_000_000 <= e["ts"] <= 1_500_000 for e in slices)
    assert len([e for e in events if e["ph"] == "s"]) == 1  # the message sent at 1.0 s
