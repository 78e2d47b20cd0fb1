"""Stepped grants: a stone whose app listens to the mesh takes a grant of idle ticks that the
network runs one plain resume at a time, each at its own time, between the other stones' ticks
and the radio's events; whatever reaches the stone ends the grant there. Every figure, line and
count is the same as tick by tick (idle_grant = 1), byte for byte."""
import json

import pytest

from host.limits import Limits
from host.mesh.network import Network
from host.trace.perfetto import Recorder
from tests.mesh.apps import LISTENER, chatty

# A listener whose loop() keeps time of its own (a counter, delay(), a line every 0.7 s) and
# answers what it hears with a targeted message: its ticks and its handler meet in one grant.
BUSY = """
from microapp import *
n = 0
heard = 0
def on_message(msg):
    global heard
    heard += 1
    if heard % 3 == 0:
        Mesh.sendMeshMsg("r%d" % heard, msg.stoneId)
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
def loop():
    global n
    n += 1
    if millis() % 700 == 0:
        print("n", n, "heard", heard, "at", millis())
    if n % 50 == 0:
        delay(300)
"""

# Its loop() raises once in the middle of a grant: the fault policy restarts it.
FLAKY = """
from microapp import *
def on_message(msg):
    print("flaky got", msg.dataPtr.decode())
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
def loop():
    if millis() == 1300:
        raise ValueError("at 1.3 s")
"""

SCENARIO = """
seed = 3
[radio]
range_m = 1.5
jitter_ms = 25
[[stone]]
id = 1
app = "broadcaster.py"
position = [0, 0]
[[stone]]
id = 2
app = "busy.py"
position = [1, 0]
phase_ms = 30
[[stone]]
id = 3
app = "targeter.py"
position = [2, 0]
phase_ms = 55
[[stone]]
id = 4
app = "flaky.py"
position = [3, 0]
phase_ms = 80
[[stone]]
id = 5
app = "listener.py"
position = [4, 0]
phase_ms = 10
drift_ppm = 150
events = '''
0.42 mesh from=9 data="out1"
1.77 mesh from=9 data="out2" every=1.1 until=5
'''
"""

APPS = {"broadcaster.py": chatty(to=0, every=900), "busy.py": BUSY,
        "targeter.py": chatty(to=5, every=600, no_relay=False), "flaky.py": FLAKY,
        "listener.py": LISTENER}


def counted_steps(mesh):
    """Count the entries the network starts through Simulation.step (a stepped grant's idle
    ticks are plain resumes, not steps)."""
    calls = [0]
    original = Network._plan

    def plan(network):
        original(network)
        for i, (offset, first, stone, node, step, bind, controller) in enumerate(network._steady):
            def counting(*args, _step=step):
                calls[0] += 1
                return _step(*args)
            network._steady[i] = (offset, first, stone, node, counting, bind, controller)
    return calls, plan


def test_listening_stones_give_the_same_json_with_stepped_grants_as_tick_by_tick(mesh, monkeypatch):
    calls, plan = counted_steps(mesh)
    monkeypatch.setattr(Network, "_plan", plan)
    granted = mesh(SCENARIO, APPS, minutes=0.1)
    stepped_calls = calls[0]
    calls[0] = 0
    tick_by_tick = mesh(SCENARIO, APPS, minutes=0.1, limits=Limits(idle_grant=1))
    assert json.dumps(granted.to_json()) == json.dumps(tick_by_tick.to_json())
    # what the run did: every stone listened, heard, answered, faulted and logged
    steady_ticks = sum(s["ticks"] for sid, s in granted.stones.items() if sid != 5)
    assert calls[0] == steady_ticks  # tick by tick: one step a tick
    assert stepped_calls * 3 < steady_ticks  # stepped: most ticks were plain resumes
    assert any(line.startswith("n ") for line in granted.stone_log(2))
    assert "got out1 from 9" in granted.stone_log(5) and "got m1 from 3" in granted.stone_log(5)
    assert granted.network["targeted"]["sent"] > 5 and granted.network["broadcast"]["delivered"] > 5
    assert granted.stones[4]["restarts"] == 1 and granted.stones[4]["faults"][0]["time_ms"] == 1300
    assert any(line.startswith("flaky got") for line in granted.stone_log(4))


def test_a_run_in_pieces_gives_what_one_run_gives(mesh):
    whole = mesh(SCENARIO, APPS, minutes=0.1)
    run = mesh.last.__class__(mesh.last.scenario)
    for k in range(1, 7):  # every run() ends the stepped grants open at its end
        run.network.run(k * 1_000_000)
    assert json.dumps(run.result(0.1, 6_000_000).to_json()) == json.dumps(whole.to_json())


def test_a_traced_run_goes_tick_by_tick_and_gives_the_same_json(mesh):
    granted = mesh(SCENARIO, APPS, minutes=0.05)
    traced = mesh(SCENARIO, APPS, minutes=0.05, recorder=Recorder())
    assert json.dumps(granted.to_json()) == json.dumps(traced.to_json())


HANG_IN_LOOP = """
from microapp import *
def on_message(msg):
    print("got", msg.dataPtr.decode())
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
def loop():
    if millis() == 1500:
        while True:
            pass
"""


@pytest.mark.slow
def test_a_hang_in_an_idle_tick_of_a_stepped_grant_is_stopped_as_tick_by_tick(mesh):
    apps = dict(APPS, **{"flaky.py": HANG_IN_LOOP})
    runs = [mesh(SCENARIO, apps, minutes=0.05, limits=Limits(watchdog_ms=200, idle_grant=grant))
            for grant in (255, 1)]
    granted, tick_by_tick = runs
    assert granted.stones[4]["did_reboot"] and not granted.stones[4]["enabled"]
    assert granted.stones[4]["faults"][0]["time_ms"] == 1500
    assert json.dumps(granted.to_json()) == json.dumps(tick_by_tick.to_json())
