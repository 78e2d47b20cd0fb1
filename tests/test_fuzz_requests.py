"""Fuzzing the host's request path: arbitrary bytes in the request buffer (any type, ack, ids,
lengths), and in the interrupt answer, never make the host raise; every request the host
takes is answered with an ack; a disabled app is never resumed."""
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_requests import FuzzLink, fuzz
from host.simulator import Simulation
from host.sdk_types import mesh as mesh_type
from host.sdk_types import pin as pin_type
from shared_buffers import protocol as P

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A request buffer: bluenet's fields and our trailer drawn to reach every handler and check, or
# raw bytes.
structured = st.builds(
    lambda t, ack, a, b, rest, used, irq, flags: bytes((t, ack, a, b)) + rest + bytes((0, used))
    + irq.to_bytes(2, "little") + bytes(4) + flags + bytes(P.BUFFER_SIZE - 58),
    st.sampled_from([P.LOG, P.PIN, P.MESH, P.BLE, P.SIGNAL, P.YIELD] * 3 + list(range(P.TYPE_COUNT + 1)) + [0xFF]),
    st.sampled_from([P.REQUEST] * 8 + list(range(0x12)) + [0xFF]),
    st.integers(0, 6),  # byte 2: a sub-type, a pin, a value type in range, mostly
    st.integers(0, 9),  # byte 3: a sub-type, a stone id, a flag
    st.binary(min_size=P.BLUENET_SIZE - 4, max_size=P.BLUENET_SIZE - 4),
    st.one_of(st.integers(0, 9), st.integers(0, 255)),
    st.integers(0, 0xFFFF),
    st.binary(min_size=2, max_size=2),
)
buffers = st.one_of(structured, st.binary(min_size=P.BUFFER_SIZE, max_size=P.BUFFER_SIZE))
case = st.tuples(
    buffers,
    st.sampled_from([True, True, True, False]),  # name the entry's own call id, or what the bytes say
    st.one_of(st.none(), st.none(), st.none(), st.binary(min_size=5, max_size=5)),  # b2m ack, id, len, irq
)
entry = st.one_of(st.just(None), st.integers(0, 7))  # a tick, or an event for pin/mesh source n


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases=st.lists(case, min_size=1, max_size=40), entries=st.lists(entry, min_size=1, max_size=40))
def test_arbitrary_buffers_never_make_the_host_raise(cases, entries):
    script = iter(cases)
    handled = []  # (request as written, ack byte after the host answered)

    def write(m2b, b2m):
        if handled and handled[-1][1] is None:
            handled[-1][1] = m2b[P.OFF_ACK]  # what the host left in the request we wrote
        raw, own_id, answer = next(script, (bytes(P.BUFFER_SIZE), True, None))
        m2b[:] = raw
        if own_id:
            m2b[P.OFF_CALL_ID] = b2m[P.OFF_CALL_ID]
        if answer is not None:
            b2m[1] = answer[0]
            b2m[P.OFF_CALL_ID:P.OFF_CALL_ID + 4] = answer[1:]
        handled.append([bytes(m2b), None])

    link = FuzzLink(write)
    sim = Simulation(None, link=link)
    c = sim.controller
    c.registry.register((P.MESH << 8) | P.MESH_READ)
    c.registry.register(P.PIN << 8 | 2)
    for e in entries:
        before = link.resumes
        if e is None:
            sim.step()
        else:
            if e & 1:
                c.interrupt(P.MESH, *mesh_type.interrupt(e, bytes(e)))
            else:
                c.interrupt(P.PIN, *pin_type.interrupt(e & 2))
        if not c.enabled:
            resumes = link.resumes
            sim.step()
            assert link.resumes == resumes  # a stopped app is not resumed
            assert c.faults and c.faults[-1]["where"] in ("protocol", "loop", "setup", "handler")
            c.enable()
        assert link.resumes - before <= 4 * (P.DEFAULT_STACK_DEPTH + 2)  # the budget holds
    if handled:
        handled[-1][1] = link.m2b[P.OFF_ACK]
    assert c.host_errors == 0
    assert c.accounting()["uncounted"] == 0
    # every request the host took was answered (its ack is no longer REQUEST) but NONE, which
    # bluenet leaves unanswered; and nothing else was
    answered = [(raw, ack) for raw, ack in handled if raw[P.OFF_ACK] == P.REQUEST and ack != P.REQUEST]
    assert len([a for a in answered if a[0][0] != P.YIELD]) == sum(c.requests) - c.requests[P.NONE]
    # a YIELD is a final status whatever its ack (bluenet): answered SUCCESS, never as a request
    assert all(ack == P.SUCCESS for raw, ack in answered if raw[0] == P.YIELD)


def test_the_fuzzer_runs_clean_and_reaches_every_outcome():
    figures = fuzz(20000, seed=1)
    assert figures["fuzz_cases"] >= 20000
    assert figures["host_exceptions"] == 0, figures["first_exception"]
    assert figures["protocol_faults"] > 0 and figures["requests_handled"] > 0
    assert figures["interrupts_generated"] > 0 and figures["uncounted_events"] == 0


def test_the_fuzz_script_prints_its_figures():
    r = subprocess.run([sys.executable, "benchmarks/fuzz_requests.py", "5000", "--seed", "2"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(": ") for line in r.stdout.splitlines())
    assert int(lines["fuzz_cases"]) >= 5000 and lines["host_exceptions"] == "0"
