"""Output and input figures, in thread CPU time over rounds (benchmarks.measure):

- log_1m_lines_record_s: a million log lines recorded as `microapp run --json` records them
  (Device.write_log into a spooled history);
- summary_1m_log_lines_write_s: the summary of that run built and written to a file
  (host.report.write_summary, what `microapp run --json` does at the end);
- summary_1m_log_lines_in_memory_write_s: the same with the history in lists (the default, as
  the pytest plugin keeps it): the summary's rows built, then written;
- events_1m_lines_parse_s: a million-line events file parsed and all its events made
  (host.events; a quarter of the lines quote their data, the rest take the str.split path).
"""
from __future__ import annotations

import os
import tempfile

from benchmarks.measure import spread, timed
from host.clock import VirtualClock
from host.device import Device
from host.events import parse_events
from host.report import History, write_summary
from host.simulator import Simulation

LINES = 1_000_000
ROUNDS = 3
EVENT_LINES = ('{t}ms mesh from=3 data="hi you"', "{t}ms pin 4 high",
               "{t}ms ble mac=AA:BB:CC:DD:EE:FF rssi=-60 hex=0201", "{t}ms mesh from=2 hex=01ff")


def log_round(path: str, history: History) -> tuple[float, float]:
    """(seconds to record LINES log lines, seconds to write the summary) of one run."""
    sim = Simulation("def loop():\n    pass\n", history=history)
    clock: VirtualClock = sim.clock  # type: ignore[assignment]
    device: Device = sim.device

    def record() -> None:
        write, set_time = device.write_log, clock.set
        for i in range(LINES):
            set_time(i * 100)
            write(f"count {i}", True, 200)

    def summarise() -> None:
        with open(path, "w", encoding="utf-8") as f:
            write_summary(sim.summary(), f)
    recorded = timed(record)
    written = timed(summarise)
    sim.device.history.close()
    return recorded, written


def events_text(lines: int = LINES) -> str:
    return "\n".join(EVENT_LINES[i % 4].format(t=i) for i in range(lines))


def parse_s(text: str) -> float:
    def parse() -> None:
        n = sum(1 for _ in parse_events(text))
        assert n == LINES
    return timed(parse)


def figures() -> dict[str, float]:
    text = events_text()
    record, write, in_memory, parse = [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "summary.json")
        for _ in range(ROUNDS):
            r, w = log_round(path, History.spooled())
            record.append(r)
            write.append(w)
            in_memory.append(log_round(path, History())[1])
            parse.append(parse_s(text))
    return {**spread("log_1m_lines_record_s", record), **spread("summary_1m_log_lines_write_s", write),
            **spread("summary_1m_log_lines_in_memory_write_s", in_memory),
            **spread("events_1m_lines_parse_s", parse)}
