"""Chrome trace-event JSON (what ui.perfetto.dev and chrome://tracing open) of a run.

A track per stone (pid 1, tid = stone id); each entry into its app (a tick, an interrupt) is a
slice whose args hold every switch of the entry (direction, then type and ack of b2m and m2b);
each request is an instant event with the host's ack; each mesh message that reaches an app is
a flow arrow from the sender's entry to the receiver's. Times are the network's virtual time in
microseconds; inside an entry virtual time stands still, so each switch is drawn 1 us after the
one before it. host.trace.diagram turns a window of it back into a sequence diagram.

Quiet ticks (a tick whose entry is the resume and the yield alone: no request, no interrupt)
that follow each other with the same switches are one slice, "quiet ticks", from the first's
start to the last's end, its args the first and last call id, the count and the switches of one:
an hour of 100 listening stones is 3.6 million ticks, some 750 MB of JSON written one by one,
which Perfetto's UI can hardly open. every_tick=True (`--trace-every-tick`) writes each.
"""
from __future__ import annotations

import json
from typing import Callable, TextIO

from shared_buffers import protocol as P

PID = 1


class _Track:
    __slots__ = ("cursor", "entry", "pending_flows", "request", "quiet")

    def __init__(self) -> None:
        self.cursor = -1
        self.entry: dict | None = None    # the open slice
        self.pending_flows: list[int] = []  # flow ids that end at this stone's next entry
        self.request: dict | None = None  # the instant waiting for its ack
        self.quiet: dict | None = None  # the last slice written, while it is a quiet tick (or run)


class Recorder:
    def __init__(self, start_us: int = 0, end_us: float = float("inf"), every_tick: bool = False) -> None:
        """Records what happens from start_us to end_us (a long run's trace is large); quiet
        ticks in a row as one slice unless every_tick."""
        self.start_us = start_us
        self.end_us = end_us
        self.every_tick = every_tick
        self.clock: Callable[[], int] = lambda: 0  # virtual time, us
        self.events: list[dict] = []
        self.tracks: dict[int, _Track] = {}
        self._flows = 0

    def switch_trace(self, sid: int) -> Callable[[str, bytearray, bytearray], None]:
        """The link's trace callback for stone `sid`."""
        track = self.tracks[sid] = _Track()
        self.events.append({"ph": "M", "name": "thread_name", "pid": PID, "tid": sid,
                            "args": {"name": f"stone {sid}"}})
        events, type_name, ack_name = self.events, P.type_name, P.ack_name

        def on_switch(direction: str, m2b: bytearray, b2m: bytearray) -> None:
            now = self.clock()
            if now < self.start_us or now > self.end_us:
                return
            ts = track.cursor = max(now, track.cursor + 1)
            switch = [direction, type_name(b2m[0]), ack_name(b2m[1]), type_name(m2b[0]), ack_name(m2b[1])]
            entry = track.entry
            call = b2m[P.OFF_CALL_ID]
            if direction == "host->app":
                if track.request is not None:
                    track.request["args"]["ack"] = switch[4]
                    track.request = None
                if entry is None or entry["args"]["call"] != call:
                    self._close(track)
                    name = "tick" if b2m[0] == P.CONTINUE else f"{switch[1]} interrupt"
                    entry = track.entry = {"ph": "X", "name": name, "pid": PID, "tid": sid, "ts": ts,
                                           "dur": 1, "args": {"call": call, "switches": []}}
                    for flow in track.pending_flows:
                        events.append({"ph": "f", "bp": "e", "id": flow, "name": "mesh", "cat": "mesh",
                                       "pid": PID, "tid": sid, "ts": ts})
                    track.pending_flows.clear()
            elif m2b[1] == P.REQUEST:
                track.request = {"ph": "i", "s": "t", "name": switch[3], "pid": PID, "tid": sid, "ts": ts,
                                 "args": {"call": m2b[P.OFF_CALL_ID]}}
                events.append(track.request)
            if entry is not None:
                entry["args"]["switches"].append(switch)
                entry["dur"] = ts - entry["ts"] + 1
        return on_switch

    def flow(self, msg, receiver: int, t_us: int) -> None:
        """A mesh message reached `receiver` (host.mesh.radio's on_flow)."""
        if msg.kind == "reply" or receiver not in self.tracks or msg.sent_us < self.start_us or t_us > self.end_us:
            return
        self._flows += 1
        self.events.append({"ph": "s", "id": self._flows, "name": "mesh", "cat": "mesh", "pid": PID,
                            "tid": msg.src, "ts": msg.sent_us,
                            "args": {"kind": msg.kind, "from": msg.src, "to": receiver, "data": msg.data.hex()}})
        self.tracks[receiver].pending_flows.append(self._flows)

    def _close(self, track: _Track) -> None:
        entry = track.entry
        if entry is None:
            return
        track.entry = None
        args = entry["args"]
        if entry["name"] != "tick" or len(args["switches"]) != 2 or self.every_tick:
            track.quiet = None
        elif track.quiet is not None and track.quiet["args"]["switches"] == args["switches"]:
            run = track.quiet  # one more quiet tick of the run
            run["name"] = "quiet ticks"
            run["args"]["ticks"] = run["args"].get("ticks", 1) + 1
            run["args"]["last_call"] = args["call"]
            run["dur"] = entry["ts"] + entry["dur"] - run["ts"]
            return
        else:
            track.quiet = entry
        self.events.append(entry)

    def finish(self) -> None:
        """Close the open slices (and flows into stones that never ran again)."""
        for sid, track in self.tracks.items():
            self._close(track)
            for flow in track.pending_flows:
                self.events.append({"ph": "f", "bp": "e", "id": flow, "name": "mesh", "cat": "mesh",
                                    "pid": PID, "tid": sid, "ts": max(track.cursor, 0)})
            track.pending_flows.clear()

    def trace(self) -> dict:
        events = [{"ph": "M", "name": "process_name", "pid": PID, "args": {"name": "microapp mesh"}}]
        events += sorted(self.events, key=lambda e: (e["ph"] != "M", e.get("ts", 0)))
        return {"traceEvents": events, "displayTimeUnit": "ms"}

    def one_stone(self, out: TextIO) -> "OneStone":
        """The trace callback of `microapp run --trace FILE.json` (one stone, id 1)."""
        return OneStone(self, out)

    def write(self, out: TextIO) -> None:
        json.dump(self.trace(), out, separators=(",", ":"))
        out.write("\n")


class OneStone:
    """A link's trace callback for a single-stone run; `clock` is the run's clock; save() writes."""

    def __init__(self, recorder: Recorder, out: TextIO) -> None:
        self.recorder = recorder
        self.out = out
        self._switch = recorder.switch_trace(1)

    def __call__(self, direction: str, m2b: bytearray, b2m: bytearray) -> None:
        self._switch(direction, m2b, b2m)

    @property
    def clock(self):
        return None

    @clock.setter
    def clock(self, clock) -> None:
        self.recorder.clock = lambda: clock.now_ms * 1000

    def save(self) -> None:
        self.recorder.finish()
        self.recorder.write(self.out)
