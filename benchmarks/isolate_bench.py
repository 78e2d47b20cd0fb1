"""--isolate figures: one switch through the process link (the host hands both buffers to the
app's process and waits for its yield) against the same through the greenlet link, in
interleaved rounds; the median of the rounds (and their min and max)."""
from __future__ import annotations

import statistics
import time

from host.links.greenlet_link import GreenletLink
from host.links.process_link import ProcessLink

ROUNDS = 7
SWITCHES = 5000
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


def _per_switch_s(link, n: int) -> float:
    resume = link.resume
    t = time.perf_counter()
    for _ in range(n):
        resume()
    return (time.perf_counter() - t) / n


def figures() -> dict[str, float]:
    greenlet_link = GreenletLink(SPINNER, watchdog_ms=0)
    process_link = ProcessLink(SPINNER, watchdog_ms=0)
    try:
        for link in (greenlet_link, process_link):
            _per_switch_s(link, 100)  # warm up: setup() started
        isolate, ratio = [], []
        for _ in range(ROUNDS):
            g = _per_switch_s(greenlet_link, SWITCHES)
            p = _per_switch_s(process_link, SWITCHES)
            isolate.append(p * 1e6)
            ratio.append(p / g)
    finally:
        process_link.close()
    return {
        "isolate_switch_us": statistics.median(isolate),
        "isolate_switch_us_min": min(isolate),
        "isolate_switch_us_max": max(isolate),
        "isolate_over_greenlet_link_ratio": statistics.median(ratio),
        "isolate_over_greenlet_link_ratio_min": min(ratio),
        "isolate_over_greenlet_link_ratio_max": max(ratio),
    }
