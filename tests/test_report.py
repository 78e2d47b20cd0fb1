"""The run's report: history kept in memory, spooled or bounded, and the summary JSON written
with the C encoder, one row a line."""
import io
import json
import os

import pytest

from host import report
from host.clock import VirtualClock
from host.device import Device
from host.events import load_events
from host.report import History, Spool, write_summary
from host.simulator import Simulation, read_app
from host.world.history import History as WorldHistory
from host.world.scenario import load_scenario

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(f for f in os.listdir(os.path.join(ROOT, "examples")) if f.endswith(".py"))


def written(summary: dict) -> str:
    out = io.StringIO()
    write_summary(summary, out)
    return out.getvalue()


def run_example(name: str, history: History | None) -> dict:
    path = os.path.join(ROOT, "examples", name)
    events_path = path[:-3] + ".events"
    events = load_events(events_path) if os.path.exists(events_path) else []
    scenario_path = path[:-3] + ".toml"
    scenario = load_scenario(scenario_path) if os.path.exists(scenario_path) else None
    return Simulation(read_app(path), events, history=history, scenario=scenario).run(3000)


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_writes_the_same_summary_spooled_as_in_memory(name):
    in_memory = run_example(name, None)
    spooled = run_example(name, History.spooled())
    if os.path.exists(os.path.join(ROOT, "examples", name[:-3] + ".toml")):  # the world's too
        assert isinstance(spooled["world"]["history"], Spool) and in_memory["world"]["history"]
    # the reference: the in-memory summary through the standard library's encoder
    assert json.loads(written(spooled)) == json.loads(json.dumps(in_memory))
    assert json.loads(written(in_memory)) == json.loads(json.dumps(in_memory))


TRICKY = ["tab\there", "], [", '"],\t["', "ünïcødé ☃", "new\nline", "back\\slash", "", "#"]


@pytest.mark.parametrize("rows", [3, report.CHUNK, report.CHUNK + 7, 3 * report.CHUNK + 1])
def test_spooled_rows_round_trip_across_chunks_one_a_line(rows):
    clock = VirtualClock()
    spooled, in_memory = Device(clock, history=History.spooled()), Device(clock)
    for i in range(rows):
        clock.set(i * 100)
        for d in (spooled, in_memory):
            d.write_log(TRICKY[i % len(TRICKY)] + str(i), True, 200)
            if i % 3 == 0:  # as the pin handler records an output's change
                d.pin_changes.append((clock.now_ms, i % 4, (i >> 2) & 1))
            d.send_mesh(i % 255, bytes([i & 0xFF, 7]), bool(i & 1))
    expected = in_memory.history.columns()
    columns = spooled.history.columns()
    assert all(isinstance(c, Spool) for c in columns.values())
    assert {k: list(c) for k, c in columns.items()} == expected  # read back row by row
    text = written({"ticks": rows, **columns})
    assert json.loads(text) == {"ticks": rows, **expected}
    lines = text.splitlines()
    start = lines.index('"log": [')
    assert json.loads(lines[start + 1].rstrip(",")) == expected["log"][0]  # one row a line
    assert len(lines) == 3 + sum(len(c) + 2 if c else 1 for c in expected.values())  # {, ticks, }; key [, rows, ]
    spooled.history.close()


@pytest.mark.parametrize("rows", [1, report.CHUNK + 7])
def test_the_world_history_spooled_is_written_as_in_memory_one_row_a_line(rows):
    spooled, in_memory = WorldHistory(Spool), WorldHistory()
    for i in range(rows):
        for h in (spooled, in_memory):
            h.record(i * 100, "message_out", "microapp", data="0a", text=TRICKY[i % len(TRICKY)])
            h.record(i * 100, "power", "timeline", mw=i)
    expected = {"ticks": rows, "world": {"stone_id": 1, "history": in_memory.as_json()}}
    text = written({"ticks": rows, "world": {"stone_id": 1, "history": spooled.as_json()}})
    assert json.loads(text) == expected == json.loads(written(expected))
    lines = text.splitlines()
    assert lines[2] == '"world": {"stone_id": 1, "history": ['
    assert [json.loads(line.rstrip(",")) for line in lines[3:3 + 2 * rows]] == expected["world"]["history"]
    spooled.entries.close()


def test_the_summary_is_written_by_the_c_encoder(monkeypatch):
    summary = Simulation(read_app(os.path.join(ROOT, "examples", "mesh_echo.py")),
                         load_events(os.path.join(ROOT, "examples", "mesh_echo.events"))).run(100)
    expected = json.loads(json.dumps(summary))

    def python_encoder(*args, **kwargs):
        raise AssertionError("the pure-Python JSON encoder was used")
    monkeypatch.setattr(json.encoder, "_make_iterencode", python_encoder)
    assert json.encoder.c_make_encoder is not None
    assert json.loads(written(summary)) == expected
    with pytest.raises(AssertionError):  # the attack works: json.dump would take that path
        json.dump(summary, io.StringIO(), indent=1)


def test_a_bounded_history_keeps_only_the_last_rows():
    clock = VirtualClock()
    device = Device(clock, history=History.bounded(2))
    for i in range(5):
        clock.set(i * 100)
        device.write_log(f"line {i}", True, 200)
    assert device.history.columns()["log"] == [[0.3, "line 3"], [0.4, "line 4"]]
    assert History.bounded(0).columns() == {"log": [], "pins": [], "mesh_sent": []}


def test_a_spool_holds_at_most_a_chunk_in_memory():
    spool = Spool(report.LOG)
    for i in range(report.CHUNK * 3 + 5):
        spool.append((i, "x"))
        assert len(spool._pending) < report.CHUNK
    assert len(spool) == report.CHUNK * 3 + 5
    spool.close()
