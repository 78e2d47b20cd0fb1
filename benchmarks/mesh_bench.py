"""Mesh figures: a 100-stone office for one simulated hour with every stone sending a message a
second (wall and thread CPU seconds), the node ticks per second of a quiet 100-stone mesh against
one stone's empty ticks (interleaved rounds, benchmarks.measure), memory per stone, and a quiet
1000-stone mesh."""
from __future__ import annotations

import gc
import math
import os
import tempfile
import tracemalloc
from dataclasses import replace

from benchmarks.measure import cpu_clock, interleaved, ratio, spread, timed, wall_clock
from benchmarks.sim_bench import empty_tick_s
from host.limits import Limits
from host.mesh.runner import MeshRun
from host.mesh.scenario import Scenario, StoneSpec, load
from host.simulator import Simulation

# Each stone tells one neighbour (the next in its row, the last the one before it) something once
# a second, with doNotRelay: the message stays between neighbours (a relayed one would flood all
# the stones, each relaying it once). The handler counts.
OFFICE_APP = """
from microapp import *
heard = 0
me = 0
def on_message(msg):
    global heard
    heard += 1
def setup():
    global me
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
    me = Mesh.id()
def loop():
    if millis() % 1000 == 0:
        Mesh.sendMeshMsg(b"hi", me + 1 if me % {side} else me - 1, True)
"""
QUIET_APP = "def loop():\n    pass\n"


def _grid(tmp: str, side: int, app: str) -> str:
    with open(os.path.join(tmp, "app.py"), "w") as f:
        f.write(app.format(side=side))
    lines = ["[radio]\nrange_m = 2.5\n"]
    for i in range(side * side):
        lines.append(f'[[stone]]\nid = {i + 1}\napp = "app.py"\nposition = [{2 * (i % side)}, {2 * (i // side)}]\n'
                     f"phase_ms = {(i * 37) % 100}\n")
    path = os.path.join(tmp, f"grid{side}.toml")
    with open(path, "w") as f:
        f.write("".join(lines))
    return path


def office_s(side: int, minutes: float) -> tuple[float, float, int, dict]:
    """Wall and CPU seconds of the office run (CPU time shows what a loaded machine hides)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = MeshRun(load(_grid(tmp, side, OFFICE_APP)), seed=1)
        gc.collect()
        gc.freeze()  # as `microapp mesh` does: the stones' objects out of the collector's way
        t, cpu = wall_clock(), cpu_clock()
        result = run.run(minutes)
        took, cpu = wall_clock() - t, cpu_clock() - cpu
        gc.unfreeze()
    ticks = sum(s["ticks"] for s in result.stones.values())
    return took, cpu, ticks, result.network


def quiet_ticks_per_s(run: MeshRun, minutes: float) -> float:
    """Node ticks per CPU second of `minutes` more of the run."""
    before = sum(s.sim.controller.ticks for s in run.network.stones.values())
    took = timed(lambda: run.network.run(run.network.now_us + int(minutes * 60e6)))
    return (sum(s.sim.controller.ticks for s in run.network.stones.values()) - before) / took


def one_stone_tick_by_tick_per_s(n: int = 30_000) -> float:
    """sim_bench's empty_ticks_per_s with every tick its own entry (idle_grant 1): the other
    side of mesh_efficiency_tick_by_tick, the scheduler's own cost without grants."""
    sim = Simulation("def loop():\n    pass\n", limits=Limits(idle_grant=1))
    sim.run(2)
    return n / timed(lambda: sim.run(n))


def efficiency() -> dict[str, float]:
    """Node ticks/s of the quiet 100-stone mesh over one stone's empty ticks/s as sim_bench
    measures it (both take idle grants: these stones do not listen), and the same with grants
    off on both sides (the scheduler itself); per round, interleaved."""
    with tempfile.TemporaryDirectory() as tmp:
        scenario = load(_grid(tmp, 10, QUIET_APP))
        run = MeshRun(scenario, seed=1)
        slow = MeshRun(scenario, seed=1, limits=Limits(idle_grant=1))
        run.network.run(1_000_000)
        slow.network.run(1_000_000)
        gc.collect()
        gc.freeze()
        mesh, granted = interleaved(lambda: quiet_ticks_per_s(run, 5), lambda: 1 / empty_tick_s())
        mesh_1, single = interleaved(lambda: quiet_ticks_per_s(slow, 0.5), one_stone_tick_by_tick_per_s)
        gc.unfreeze()
    return {**spread("mesh_node_ticks_per_s", mesh),
            **ratio("mesh_efficiency", mesh, granted),
            **spread("mesh_node_ticks_per_s_tick_by_tick", mesh_1),
            **ratio("mesh_efficiency_tick_by_tick", mesh_1, single)}


def _big_quiet(tmp: str, count: int) -> Scenario:
    """`count` quiet stones in a grid. Beyond 255 stones this is no longer one sphere (bluenet's
    stone id is a byte): the scenario is built here, without the file's id check, and no stone
    may send or ask its id."""
    small = load(_grid(tmp, 1, QUIET_APP))
    side = math.ceil(math.sqrt(count))
    stones = [StoneSpec(i + 1, small.stones[0].app, 0, (2.0 * (i % side), 2.0 * (i // side)), (i * 37) % 100)
              for i in range(count)]
    links = [(a, b, 0.0) for a in range(1, count + 1) for b in (a + 1, a + side)
             if b <= count and (b != a + 1 or a % side)]
    return replace(small, stones=stones, links=links)


def memory_per_stone_kib(side: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        scenario = load(_grid(tmp, side, OFFICE_APP))
        gc.collect()
        tracemalloc.start()
        run = MeshRun(scenario, seed=1)
        run.network.run(200_000)  # setup done: handlers registered
        size, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del run
    return size / (side * side) / 1024


def big_quiet(count: int) -> tuple[float, float]:
    """Node ticks per second of `count` quiet stones over one simulated minute; KiB per stone."""
    with tempfile.TemporaryDirectory() as tmp:
        scenario = _big_quiet(tmp, count)
        gc.collect()
        tracemalloc.start()
        run = MeshRun(scenario, seed=1)
        size, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        gc.freeze()
        rate = quiet_ticks_per_s(run, 1)  # CPU time
        gc.unfreeze()
    return rate, size / count / 1024


def figures() -> dict[str, float]:
    took, cpu, ticks, network = office_s(10, 60)
    rate_1000, kib_1000 = big_quiet(1000)
    return {
        "mesh_100x1h_s": took,
        "mesh_100x1h_cpu_s": cpu,
        "mesh_100x1h_messages": network["targeted_no_relay"]["sent"],
        "mesh_100x1h_node_ticks_per_s": ticks / took,
        **efficiency(),
        "mesh_memory_per_stone_kib": memory_per_stone_kib(10),
        "mesh_1000_quiet_node_ticks_per_s": rate_1000,
        "mesh_1000_memory_per_stone_kib": kib_1000,
    }
