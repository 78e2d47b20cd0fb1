"""The examples in examples/mesh/ run, and what their scenarios expect holds."""
import pytest

from host.mesh.runner import MeshRun
from host.mesh.scenario import load


def run(name, minutes=None):
    return MeshRun(load(f"examples/mesh/{name}.toml")).run(minutes)


def test_ping_pong():
    r = run("ping_pong", 0.5)
    assert r.failures == []
    assert r.stone_log(1)[0] == "pong from 2 pong1"
    assert r.network["targeted"]["retries"] > 0  # its link loses one PDU in ten


def test_presence_light_tells_the_neighbours():
    r = run("presence")
    assert r.failures == []
    for sid in (1, 3):
        pins = r.stones[sid]["pins"]
        assert [level for _, pin, level in pins if pin == 14] == [1, 0]  # LED1
    assert r.network["broadcast_no_relay"]["relayed"] == 0


@pytest.mark.slow
def test_the_office_hub_hears_all_99_stones_within_a_minute():
    r = run("office", 1)
    assert r.failures == []
    assert r.network["targeted"]["hops_max"] >= 6
