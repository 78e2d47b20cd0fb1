"""A stone that is a board (here the virtual board) in a mesh of simulated ones: it hears and is
heard through the same radio, and the whole mesh runs in real time."""
import time

import pytest

from tests.mesh.apps import LISTENER, chatty

pytestmark = pytest.mark.slow

SCENARIO = """
[radio]
jitter_ms = 0
[[stone]]
id = 1
app = "sender.py"
[[stone]]
id = 2
app = "listener.py"
port = "{port}"
[[stone]]
id = 3
app = "sender.py"
phase_ms = 500
[[link]]
a = 1
b = 2
[[link]]
a = 2
b = 3
"""


def test_a_board_stone_hears_and_relays_the_simulated_ones(board_under_test, mesh):
    apps = {"sender.py": chatty(to=0, every=1000), "listener.py": LISTENER}
    start = time.monotonic()
    r = mesh(SCENARIO.format(port=board_under_test.port), apps, minutes=2.5 / 60)
    assert time.monotonic() - start >= 2.5  # real time
    board = r.stone_log(2)
    # stones 1 and 3 broadcast at 1 s and 2 s of their clocks (3's is 0.5 s behind), three
    # transmissions each (within one tick: bluenet's 3 interrupts a tick let them all through)
    assert board.count("got m1 from 1") == 3 and board.count("got m1 from 3") == 3
    # and the board's bluenet-side relays them on: 1 hears 3 through it, 3 hears 1
    assert "got m1 from 3" in r.stone_log(1) and "got m1 from 1" in r.stone_log(3)
    assert r.stones[2]["port"] == board_under_test.port and r.stones[2]["faults"] == []
