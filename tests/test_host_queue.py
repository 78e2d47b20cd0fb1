"""The host queue: events the microapp cannot take yet (no empty slot after ERR_BUSY) wait on the
host, in order, up to a configurable bound; more are refused and counted, never held."""
import textwrap

import pytest

from host import interrupts as I
from host.limits import Limits
from host.simulator import Simulation
from shared_buffers import protocol as P

SLOW_HANDLER_APP = """
    import microapp
    def on_message(stone_id, data):
        for i in range(5):     # two entries' worth of requests
            print(data.decode(), i)
    def setup():
        microapp.on_mesh_message(on_message)
        microapp.mesh_listen()
"""


def sim_of(limits):
    sim = Simulation(textwrap.dedent(SLOW_HANDLER_APP), limits=limits)
    sim.run(2)
    return sim


def mesh(sim, data):
    return sim.controller.interrupt(P.MESH, 0, bytes((P.MESH_RECEIVED, 2)) + data)


def close_the_gate(sim):
    """One handler open on a stack of one, then an ERR_BUSY: the gate is closed."""
    assert mesh(sim, b"A") == I.DELIVERED
    assert mesh(sim, b"B") == I.BUSY


def test_held_back_events_go_in_oldest_first_once_a_slot_is_free():
    sim = sim_of(Limits(stack_depth=1, interrupts_per_registration=10))
    close_the_gate(sim)
    assert [mesh(sim, data) for data in (b"C", b"D", b"E")] == [I.GATED] * 3
    assert [e[2] for e in sim.controller.queue] == [3, 4, 5]
    sim.run(10)
    starts = [text for _, text in sim.device.log if text.endswith(" 0")]
    assert starts == ["A 0", "C 0", "D 0", "E 0"]
    c = sim.controller
    assert not c.queue and c.interrupts["gated"] == 3 and c.interrupts["delivered"] == 4
    assert c.accounting()["uncounted"] == 0


@pytest.mark.parametrize("size", [0, 1, 4])
def test_a_full_queue_refuses_and_counts_and_never_grows(size):
    sim = sim_of(Limits(stack_depth=1, host_queue=size, interrupts_per_registration=100))
    close_the_gate(sim)
    outcomes = [mesh(sim, b"x") for _ in range(50)]
    assert outcomes == [I.GATED] * size + [I.QUEUE_FULL] * (50 - size)
    c = sim.controller
    assert len(c.queue) == size
    assert c.interrupts["queue_full"] == 50 - size
    assert c.signals.by_reason[P.SIG_QUEUE_FULL] == 50 - size
    assert c.accounting() == {"generated": 52, "delivered": 1, "signalled": 51 - size, "queued": size,
                              "uncounted": 0}


def test_the_default_bound_is_eight():
    assert Limits().host_queue == 8
    sim = sim_of(Limits(stack_depth=1, interrupts_per_registration=100))
    close_the_gate(sim)
    assert [mesh(sim, b"x") for _ in range(9)] == [I.GATED] * 8 + [I.QUEUE_FULL]


def test_a_stopped_app_drops_its_held_back_events_with_signals():
    sim = sim_of(Limits(stack_depth=1, watchdog_ms=100))
    close_the_gate(sim)
    assert mesh(sim, b"C") == I.GATED
    sim.controller.link.runtime.handlers.clear()  # what the app would hold: nothing; then it hangs
    sim.controller.link.runtime.handlers[P.MESH << 8] = lambda frame: [None for _ in iter(int, 1)]
    sim.step()  # A ends, the gate opens, C goes in and its handler hangs
    c = sim.controller
    assert not c.enabled and c.did_reboot and not c.queue
    assert c.accounting() == {"generated": 3, "delivered": 1, "signalled": 2, "queued": 0, "uncounted": 0}
    assert (P.SIG_WATCHDOG, 3) in c.signals.pending
