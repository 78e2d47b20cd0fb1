"""A Mermaid sequence diagram of one stone's entries in a window of a trace (host.trace.perfetto),
in the form of seed 004's: the host, the runtime and both buffers, with messageType and ack
written at each switch."""
from __future__ import annotations

HEADER = """sequenceDiagram
    participant b as Bluenet (host)
    participant m as Microapp (runtime)
    participant m2b as MicroappToBluenetBuffer
    participant b2m as BluenetToMicroappBuffer
"""


class DiagramError(ValueError):
    pass


def diagram(trace: dict, stone: int | None, start_s: float, end_s: float) -> str:
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    if not isinstance(events, list):
        raise DiagramError("no traceEvents: not a trace written by microapp")
    slices = [e for e in events if isinstance(e, dict) and e.get("ph") == "X" and "switches" in e.get("args", {})]
    stones = sorted({e["tid"] for e in slices})
    if not stones:
        raise DiagramError("the trace has no entries")
    if stone is None:
        stone = stones[0]
    elif stone not in stones:
        raise DiagramError(f"no stone {stone} in the trace (stones: {', '.join(map(str, stones))})")
    lo, hi = start_s * 1e6, end_s * 1e6
    # an entry that starts in the window, or a run of quiet ticks that reaches into it
    chosen = sorted((e for e in slices if e["tid"] == stone and e["ts"] <= hi
                     and (lo <= e["ts"] or "ticks" in e["args"] and e["ts"] + e["dur"] >= lo)),
                    key=lambda e: e["ts"])
    flows_in: dict[int, dict] = {}
    for e in events:
        if isinstance(e, dict) and e.get("ph") == "s" and e.get("args", {}).get("to") == stone:
            flows_in.setdefault(e["id"], e)
    ends = {e["ts"]: flows_in[e["id"]] for e in events
            if isinstance(e, dict) and e.get("ph") == "f" and e.get("tid") == stone and e.get("id") in flows_in}
    out = [HEADER]
    if not chosen:
        out.append(f"    Note over b : stone {stone} has no entry between {start_s} s and {end_s} s\n")
    for entry in chosen:
        out.extend(_entry(entry, ends.get(entry["ts"])))
    return "".join(out)


def _entry(entry: dict, flow: dict | None) -> list[str]:
    t = entry["ts"] / 1e6
    args = entry["args"]
    if "ticks" in args:  # host.trace.perfetto's run of quiet ticks: one drawn for all
        what = (f"{args['ticks']} quiet ticks to t={(entry['ts'] + entry['dur']) / 1e6:.6f} s, "
                f"call id {args['call']} first, {args['last_call']} last, each")
    else:
        what = ("a tick" if entry["name"] == "tick" else f"an interrupt ({entry['name'].split()[0]})")
        what += f", call id {args['call']}"
    lines = [f"\n    Note over b : t={t:.6f} s: {what}\n"]
    if flow is not None:
        a = flow["args"]
        lines.append(f"    Note over b : a {a['kind']} mesh message from stone {a['from']} (data {a['data']})\n")
    b2m = m2b = None  # what the diagram last showed of each buffer (None: nothing yet)
    held = None  # m2b as the entry found it: the host did not write it
    for direction, b_type, b_ack, m_type, m_ack in entry["args"]["switches"]:
        if direction == "host->app":
            if (b_type, b_ack) != b2m:
                lines += _write("b", "b2m", (b_type, b_ack), b2m)
                b2m = (b_type, b_ack)
            if held is None and m2b is None:
                held = (m_type, m_ack)
            elif (m_type, m_ack) != (m2b or held):
                lines += _write("b", "m2b", (m_type, m_ack), m2b)
                m2b = (m_type, m_ack)
            lines.append("    b ->> m : resume the microapp\n")
        else:
            # The runtime takes an interrupt (IN_PROGRESS) before its handler makes a request,
            # and restores m2b before it reports the handler's final status.
            writes = [("m2b", (m_type, m_ack)), ("b2m", (b_type, b_ack))]
            if b_ack == "IN_PROGRESS":
                writes.reverse()
            for buf, now in writes:
                before = m2b if buf == "m2b" else b2m
                if now != before:
                    lines += _write("m", buf, now, before)
                    if buf == "m2b":
                        m2b = now
                    else:
                        b2m = now
            lines.append("    m ->> b : yield to the host\n")
    lines.append("    Note over b : the entry ends\n")
    return lines


def _write(who: str, buf: str, now: tuple[str, str], before: tuple[str, str] | None) -> list[str]:
    new_message = before is None or before[0] != now[0] or now[1] == "REQUEST"
    note = f"messageType = {now[0]} <br> ack = {now[1]}" if new_message else f"ack = {now[1]}"
    return [f"    {who} -->> {buf} : Write to shared buffer\n", f"    Note over {buf} : {note}\n"]
