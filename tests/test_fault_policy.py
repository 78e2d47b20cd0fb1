"""Faults and the restart policy (Tock's): an exception out of setup(), loop() or a handler
restarts the app (a fresh namespace, setup() at the next tick) up to a threshold, then stops it;
`stop` and `restart` are the other policies."""
import textwrap

import pytest

from host import interrupts as I
from host.cli import main
from host.faults import FaultPolicy
from host.limits import Limits
from host.sdk_types import mesh
from host.simulator import Simulation
from shared_buffers import protocol as P

# A mesh message from stone 2 (bluenet's READ interrupt), and its registration's sub-id.
MESH_READ, MESH_EVENT = mesh.interrupt(2, b"x")

ALWAYS_RAISES = """
    runs = 0
    def loop():
        global runs
        runs += 1
        print("run", runs)
        raise RuntimeError("broken")
"""


def sim_of(source, policy=None, limits=None):
    return Simulation(textwrap.dedent(source), policy=policy, limits=limits)


def texts(sim):
    return [text for _, text in sim.device.log]


def test_default_policy_restarts_three_times_then_stops_the_app():
    sim = sim_of(ALWAYS_RAISES)
    summary = sim.run(20)
    # each incarnation: setup() at one tick, loop() (which raises) at the next
    assert texts(sim) == ["run 1"] * 4  # the first run and three restarts, each from a fresh namespace
    assert summary["restarts"] == 3 and len(summary["faults"]) == 4
    assert [f["time_ms"] for f in summary["faults"]] == [100, 300, 500, 700]
    assert not summary["enabled"] and not summary["did_reboot"]
    assert summary["fault_policy"] == "restart-up-to-3"


@pytest.mark.parametrize("policy, faults, restarts, enabled", [
    ("stop", 1, 0, False),
    ("restart-up-to-1", 2, 1, False),
    ("restart", 10, 10, True),  # a fault every other tick, each followed by a restart
])
def test_the_policy_decides_how_many_restarts(policy, faults, restarts, enabled):
    sim = sim_of(ALWAYS_RAISES, FaultPolicy.parse(policy))
    summary = sim.run(20)
    assert summary["restarts"] == restarts and summary["enabled"] == enabled
    assert len(summary["faults"]) == faults
    assert summary["fault_policy"] == policy


def test_a_raising_setup_is_a_fault_too():
    sim = sim_of("""
        def setup():
            raise KeyError("config")
        def loop():
            print("never")
    """)
    summary = sim.run(10)
    assert [f["where"] for f in summary["faults"]] == ["setup"] * 4
    assert summary["restarts"] == 3 and not summary["enabled"]
    assert texts(sim) == []


def test_a_raising_handler_restarts_the_app_which_registers_afresh():
    sim = sim_of("""
        from microapp import *
        def on_message(msg):
            raise ValueError("bad message")
        def setup():
            print("setup")
            Mesh.setIncomingMeshMsgHandler(on_message)
            Mesh.listen()
    """)
    sim.run(2)
    c = sim.controller
    assert c.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.DELIVERED
    assert c.restarts == 1 and c.enabled
    # until the fresh app's setup() has run, nothing is registered: no event is generated for it
    assert c.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.NOT_REGISTERED
    sim.step()
    assert texts(sim) == ["setup", "setup"]
    assert c.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.DELIVERED  # registered again; raises again
    assert c.restarts == 2
    assert c.signals.by_reason[P.SIG_HANDLER_FAULT] == 2
    assert c.accounting() == {"generated": 2, "delivered": 2, "signalled": 0, "queued": 0, "uncounted": 0}


def test_a_fault_aborts_the_open_handlers_and_the_held_back_events_with_signals():
    # Held-back events exist only with our host queue (limits.host_queue > 0): bluenet drops an
    # event while the app reports no empty slot (GATED), so this test turns the queue on.
    sim = sim_of("""
        from microapp import *
        def on_message(msg):
            for i in range(9):   # three entries' worth of requests (4 an entry, bluenet's)
                print(msg.dataPtr, i)
            if msg.dataPtr == b"boom":
                raise ValueError("boom")
        def setup():
            Mesh.setIncomingMeshMsgHandler(on_message)
            Mesh.listen()
    """, limits=Limits(host_queue=4))
    sim.run(2)
    c = sim.controller

    def message(data):
        return c.interrupt(P.MESH, *mesh.interrupt(2, data))
    outcomes = [message(data) for data in (b"a", b"b", b"boom")]
    assert outcomes == [I.DELIVERED] * 3 and c.contexts == [1, 2, 3]
    sim.step()  # resumes "boom", the innermost: still not done
    assert message(b"d") == I.BUSY
    assert message(b"e") == I.QUEUED  # no empty slot: held back in the host queue
    sim.step()  # "boom" ends first: it raises; a, b and the held-back e are aborted
    assert c.restarts == 1 and c.contexts == [] and len(c.queue) == 0
    assert sorted(c.signals.pending) == [(P.SIG_HANDLER_FAULT, 3), (P.SIG_APP_FAULT, 1), (P.SIG_APP_FAULT, 2),
                                         (P.SIG_APP_FAULT, 5)]
    assert c.signals.skipped == 1  # d's BUSY signal, at the tick's start: this app has no signal handler
    assert c.accounting() == {"generated": 5, "delivered": 3, "signalled": 2, "queued": 0, "uncounted": 0}
    assert c.interrupts["aborted"] == 1


def test_enable_starts_the_count_again():
    sim = sim_of(ALWAYS_RAISES, FaultPolicy.parse("restart-up-to-1"))
    sim.run(10)
    assert not sim.controller.enabled and sim.controller.restarts == 1
    sim.controller.enable()
    sim.run(10)
    assert sim.controller.restarts == 2 and not sim.controller.enabled
    assert len(sim.controller.faults) == 4


@pytest.mark.parametrize("text", ["", "sometimes", "restart-up-to-", "restart-up-to--1", "restart-up-to-x"])
def test_a_bad_policy_is_refused(text):
    with pytest.raises(ValueError, match="expected stop, restart or restart-up-to-N"):
        FaultPolicy.parse(text)


def test_the_cli_takes_the_policy_and_refuses_a_bad_one(tmp_path, capsys):
    app = tmp_path / "flaky.py"
    app.write_text(textwrap.dedent(ALWAYS_RAISES))
    out = tmp_path / "out.json"
    state = str(tmp_path / "state.json")
    assert main(["run", str(app), "--ticks", "10", "--quiet", "--fault-policy", "stop", "--json", str(out),
                 "--state", state]) == 0
    assert '"restarts": 0' in out.read_text() and '"enabled": false' in out.read_text()
    capsys.readouterr()
    assert main(["run", str(app), "--fault-policy", "sometimes", "--state", state]) == 2
    err = capsys.readouterr().err
    assert err.startswith("microapp: error: fault policy 'sometimes'") and err.count("\n") == 1
