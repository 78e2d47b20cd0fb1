"""A finished mesh run lets go of its stones: a seed sweep's worker runs seed after seed in one
process (host/mesh/cli.py, _one_seed), and a stone whose app is paused (a listener in a
stepped grant, a sender waiting in its loop) must not stay alive after its run."""
import gc

import greenlet

from firmware.runtime import Runtime
from host.faults import DEFAULT_POLICY
from host.mesh.cli import _one_seed
from host.simulator import Simulation
from tests.mesh.test_stepped_grants import APPS, SCENARIO


def live(kind) -> int:
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def live_paused_greenlets() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is greenlet.greenlet and o and o is not greenlet.getcurrent())


def test_a_worker_running_seed_after_seed_does_not_grow(tmp_path):
    for name, source in APPS.items():
        (tmp_path / name).write_text(source)
    path = tmp_path / "scenario.toml"
    path.write_text(SCENARIO)
    job = (str(path), 1, 0.03, [], DEFAULT_POLICY, False)
    seed, failures = _one_seed(job)
    assert failures == ["stone 4 faulted at 1.300 s in loop: ValueError: at 1.3 s"]  # it ran
    gc.collect()
    before = (live(Simulation), live(Runtime), live_paused_greenlets())
    for seed in range(2, 6):
        assert _one_seed((job[0], seed) + job[2:])[0] == seed
    gc.collect()
    # the five stones of each run are gone, and their apps' greenlets with them (not compared
    # with zero: other tests of the session may keep simulations of their own)
    after = (live(Simulation), live(Runtime), live_paused_greenlets())
    assert all(a <= b for a, b in zip(after, before)), (before, after)
