"""The host queue (ours, limits.host_queue): events the microapp cannot take yet (no empty slot
after ERR_BUSY) wait on the host, in order, up to a configurable bound; more are refused and
counted, never held. Its default, 0, is bluenet's: such events are dropped (with a signal)."""
import textwrap

import pytest

from host import interrupts as I
from host.limits import Limits
from host.simulator import Simulation
from host.sdk_types import mesh as mesh_type
from shared_buffers import protocol as P

SLOW_HANDLER_APP = """
    import microapp
    def on_message(msg):
        for i in range(6):     # two entries' worth of requests
            print(msg.dataPtr.decode(), i)
    def setup():
        microapp.Mesh.setIncomingMeshMsgHandler(on_message)
        microapp.Mesh.listen()
"""


def sim_of(limits):
    sim = Simulation(textwrap.dedent(SLOW_HANDLER_APP), limits=limits)
    sim.run(2)
    return sim


def mesh(sim, data):
    return sim.controller.interrupt(P.MESH, *mesh_type.interrupt(2, data))


def close_the_gate(sim):
    """One handler open on a stack of one, then an ERR_BUSY: the gate is closed."""
    assert mesh(sim, b"A") == I.DELIVERED
    assert mesh(sim, b"B") == I.BUSY


def test_held_back_events_go_in_oldest_first_once_a_slot_is_free():
    sim = sim_of(Limits(stack_depth=1, interrupts_per_registration=10, host_queue=8))
    close_the_gate(sim)
    assert [mesh(sim, data) for data in (b"C", b"D", b"E")] == [I.QUEUED] * 3
    assert [e[2] for e in sim.controller.queue] == [3, 4, 5]
    sim.run(10)
    starts = [text for _, text in sim.device.log if text.endswith(" 0")]
    assert starts == ["A 0", "C 0", "D 0", "E 0"]
    c = sim.controller
    assert not c.queue and c.interrupts["queued"] == 3 and c.interrupts["delivered"] == 4
    assert c.accounting()["uncounted"] == 0


@pytest.mark.parametrize("size", [0, 1, 4])
def test_a_full_queue_refuses_and_counts_and_never_grows(size):
    sim = sim_of(Limits(stack_depth=1, host_queue=size, interrupts_per_registration=100))
    close_the_gate(sim)
    outcomes = [mesh(sim, b"x") for _ in range(50)]
    assert outcomes == [I.QUEUED] * size + [I.QUEUE_FULL] * (50 - size) if size else [I.GATED] * 50
    c = sim.controller
    assert len(c.queue) == size
    dropped = P.SIG_QUEUE_FULL if size else P.SIG_GATED
    assert c.interrupts["queue_full" if size else "gated"] == 50 - size
    assert c.signals.by_reason[dropped] == 50 - size
    assert c.accounting() == {"generated": 52, "delivered": 1, "signalled": 51 - size, "queued": size,
                              "uncounted": 0}


def test_the_default_is_bluenets_drop_at_the_gate():
    assert Limits().host_queue == 0
    sim = sim_of(Limits(stack_depth=1, interrupts_per_registration=100))
    close_the_gate(sim)
    assert [mesh(sim, b"x") for _ in range(3)] == [I.GATED] * 3
    assert not sim.controller.queue and sim.controller.signals.by_reason[P.SIG_GATED] == 3


def test_a_stopped_app_drops_its_held_back_events_with_signals():
    sim = sim_of(Limits(stack_depth=1, watchdog_ms=100, host_queue=8))
    close_the_gate(sim)
    assert mesh(sim, b"C") == I.QUEUED
    sim.controller.link.runtime.handlers.clear()  # what the app would hold: nothing; then it hangs
    sim.controller.link.runtime.handlers[(P.MESH << 8) | P.MESH_READ] = lambda frame: [None for _ in iter(int, 1)]
    sim.step()  # A ends, the gate opens, C goes in and its handler hangs
    c = sim.controller
    assert not c.enabled and c.did_reboot and not c.queue
    assert c.accounting() == {"generated": 3, "delivered": 1, "signalled": 2, "queued": 0, "uncounted": 0}
    assert (P.SIG_WATCHDOG, 3) in c.signals.pending
