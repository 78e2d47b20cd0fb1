"""--isolate figures: one switch through the process link (the host hands both buffers to the
app's process and waits for its yield) against the same through the greenlet link, interleaved
rounds (benchmarks/measure.py), wall time: the switch waits on another process."""
from __future__ import annotations

from benchmarks.measure import ROUNDS, interleaved, ratio, spread, timed, wall_clock
from host.links.greenlet_link import GreenletLink
from host.links.process_link import ProcessLink
from host.simulator import Simulation

SWITCHES = 5000
TICKS = 20_000
# One request per soft yield; the benchmark resumes the link directly (no controller), so each
# resume() is one switch to the app and back.
SPINNER = """
from microapp import *
def setup():
    m2b = getOutgoingMessagePayload()
    while True:
        m2b[0] = 0x30  # a type the host does not know: answered at once
        m2b[1] = 2     # REQUEST
        sendMessage(2)
"""


def _per_switch(link):
    resume = link.resume

    def run() -> float:
        def switches() -> None:
            for _ in range(SWITCHES):
                resume()
        return timed(switches, wall_clock) / SWITCHES
    return run


def empty_tick_s(n: int = TICKS) -> float:
    """Seconds per tick (wall time) of n ticks with an empty loop() through Simulation.run on
    --isolate's link, idle ticks granted as a run grants them."""
    sim = Simulation("def loop():\n    pass\n", isolate=True)
    try:
        sim.run(2)
        seconds = timed(lambda: sim.run(n), wall_clock)
        assert sim.controller.ticks == n + 2 and not sim.controller.faults
    finally:
        sim.link.close()
    return seconds / n


def figures() -> dict[str, float]:
    greenlet_link = GreenletLink(SPINNER, watchdog_ms=0)
    process_link = ProcessLink(SPINNER, watchdog_ms=0)
    try:
        for link in (greenlet_link, process_link):
            for _ in range(100):  # warm up: setup() started
                link.resume()
        isolate, greenlet = interleaved(_per_switch(process_link), _per_switch(greenlet_link))
    finally:
        process_link.close()
    return {**spread("isolate_switch_us", [s * 1e6 for s in isolate]),
            **ratio("isolate_over_greenlet_link_ratio", isolate, greenlet),
            **spread("isolate_empty_ticks_per_s", [1 / empty_tick_s() for _ in range(ROUNDS)])}
