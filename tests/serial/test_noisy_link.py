"""A noisy line: 1% of the bytes either way flipped, dropped or doubled. A run of 1000 requests on
the virtual board completes, every request is handled exactly once and in order, and no corrupt
frame is taken for a good one (the app's numbers and the board's own count say so)."""
import pytest
import serial

from host.limits import Limits
from host.links.serial_link import SerialLink
from host.simulator import Simulation
from tests.serial.noisy_port import NoisyPort

REQUESTS = 1000
APP = """
    from microapp import *
    sent = 0
    def loop():
        global sent
        if sent == %d:
            return
        for _ in range(50):
            print("n", sent)
            sent += 1
        if sent == %d:
            Mesh.sendMeshMsg(b"%%d" %% sent)   # the board's own count of requests made
""" % (REQUESTS, REQUESTS)


@pytest.mark.slow
def test_a_thousand_requests_over_a_noisy_line_are_each_handled_once(board_under_test):
    path = board_under_test.install_app(APP)
    noisy = NoisyPort(serial.serial_for_url(board_under_test.port), rate=0.01, seed=4)
    with SerialLink(noisy, path, resend_ms=20, watchdog_ms=5000) as link:
        sim = Simulation(None, limits=Limits(entry_budget=10**6), link=link)
        summary = sim.run(REQUESTS // 50 + 2)
    assert summary["faults"] == []
    assert [text for _, text in summary["log"]] == [f"n {i}" for i in range(REQUESTS)]
    assert summary["requests"] == {"LOG": REQUESTS, "MESH": 1}
    assert [data for _, _, data, _ in summary["mesh_sent"]] == [str(REQUESTS).encode().hex()]
    # the line was noisy both ways, and the link noticed
    assert min(noisy.damaged.values()) > 50
    assert link.stats["corrupt"] > 0 and link.stats["naks"] > 0 and link.stats["resent"] > 100
