"""Signals (seed 003): every event the host drops or aborts reaches the app's signal handler at the
start of a later tick, with its interrupt id and a reason, paid from the app's reserved budget;
without a handler or a reservation it is skipped and counted. generated = delivered + signalled
(+ queued), nothing uncounted, even under a storm."""
import textwrap

import pytest

from host import interrupts as I
from host.events import Event
from host.limits import Limits
from host.simulator import Simulation
from host.sdk_types import mesh as mesh_type
from shared_buffers import protocol as P


SIGNALLED_APP = """
    import microapp
    def on_signal(signal_from, code):
        print("signal", signal_from, microapp.signal_name(code))
    def on_message(msg):
        print("message", msg.dataPtr)
    def setup():
        microapp.on_signal(on_signal)
        {reserve}
        microapp.Mesh.setIncomingMeshMsgHandler(on_message)
        microapp.Mesh.listen()
    def loop():
        print("loop", microapp.millis())
"""


def sim_of(reserve="", limits=None, source=SIGNALLED_APP, events=()):
    sim = Simulation(textwrap.dedent(source.format(reserve=reserve)), events, limits=limits)
    sim.run(2)
    return sim


def mesh(sim, data=b"x"):
    return sim.controller.interrupt(P.MESH, *mesh_type.interrupt(2, data))


def texts(sim):
    return [text for _, text in sim.device.log]


def assert_accounted(sim):
    c = sim.controller
    a = c.accounting()
    assert a["uncounted"] == 0
    assert a["generated"] == a["delivered"] + a["signalled"] + a["queued"]
    s = c.signals.summary()
    assert s["recorded"] == s["delivered"] + s["skipped"] + s["overflowed"] + s["pending"]


def test_throttled_events_are_signalled_at_the_next_tick_with_their_ids():
    sim = sim_of("microapp.reserve_signal_budget(4)")
    assert [mesh(sim) for _ in range(5)] == [I.DELIVERED] * 3 + [I.THROTTLED] * 2
    sim.step()
    assert texts(sim)[-3:] == ["signal 4 THROTTLED", "signal 5 THROTTLED", "loop 200"]
    assert sim.controller.signals.delivered == 2
    assert_accounted(sim)


def test_the_default_reservation_delivers_one_signal_per_tick():
    sim = sim_of()
    for _ in range(6):
        mesh(sim)
    sim.run(3)
    signals = [t for t in texts(sim) if t.startswith("signal")]
    assert signals == ["signal 4 THROTTLED", "signal 5 THROTTLED", "signal 6 THROTTLED"]
    assert [t for t, text in sim.device.log if text.startswith("signal")] == [200, 300, 400]


def test_busy_and_queue_full_are_signalled():
    source = SIGNALLED_APP.replace('print("message", msg.dataPtr)', 'for i in range(8):\n            print("message", msg.dataPtr, i)')
    sim = sim_of("microapp.reserve_signal_budget(8)", Limits(stack_depth=1, host_queue=1), source)
    assert mesh(sim, b"a") == I.DELIVERED  # open: its handler needs three entries
    sim.step()
    assert [mesh(sim, b"b"), mesh(sim, b"c"), mesh(sim, b"d")] == [I.BUSY, I.QUEUED, I.QUEUE_FULL]
    assert sim.controller.queue and len(sim.controller.queue) == 1
    sim.run(8)
    assert "signal 2 BUSY" in texts(sim) and "signal 4 QUEUE_FULL" in texts(sim)
    assert "message b'c' 7" in texts(sim)  # the held-back event ran once a slot was free
    assert_accounted(sim)


def test_a_faulting_handler_is_signalled_to_the_restarted_app():
    source = SIGNALLED_APP.replace('print("message", msg.dataPtr)', 'raise ValueError(msg.dataPtr)')
    sim = sim_of(source=source)
    assert mesh(sim) == I.DELIVERED
    assert sim.controller.restarts == 1
    sim.run(2)  # setup() of the fresh app (it registers its handler again), then the signal
    assert "signal 1 HANDLER_FAULT" in texts(sim)
    assert_accounted(sim)


def test_without_a_handler_signals_are_skipped_and_counted():
    sim = sim_of(source="""
        import microapp
        def setup():
            microapp.Mesh.setIncomingMeshMsgHandler(lambda msg: None)
            microapp.Mesh.listen()
    """)
    for _ in range(5):
        mesh(sim)
    sim.step()
    s = sim.controller.signals.summary()
    assert (s["recorded"], s["delivered"], s["skipped"], s["pending"]) == (2, 0, 2, 0)
    assert_accounted(sim)


def test_a_zero_reservation_skips_them_too():
    sim = sim_of("microapp.reserve_signal_budget(0)")
    for _ in range(5):
        mesh(sim)
    sim.run(3)
    assert not any(t.startswith("signal") for t in texts(sim))
    assert sim.controller.signals.skipped == 2


def test_a_reservation_over_the_limit_is_refused():
    sim = sim_of("try:\n            microapp.reserve_signal_budget(9)\n"
                 "        except microapp.RequestError as e:\n            print(e.ack, e)")
    assert texts(sim)[0].startswith(f"{P.ERR_OUT_OF_RANGE} reserve_signal_budget refused")


def test_signals_waiting_beyond_the_queue_are_counted_as_overflowed():
    sim = sim_of(limits=Limits(signal_queue=2, interrupts_per_registration=0))
    for _ in range(5):
        assert mesh(sim) == I.THROTTLED
    s = sim.controller.signals.summary()
    assert (s["recorded"], s["pending"], s["overflowed"]) == (5, 2, 3)
    assert_accounted(sim)


def test_a_storm_of_mesh_messages_keeps_the_ticks_bounded_and_every_event_counted():
    storm = [Event(1050, "mesh", 2 + i % 200, b"s") for i in range(10000)]
    sim = sim_of("microapp.reserve_signal_budget(2)", events=storm)
    c = sim.controller
    entries_per_tick = []
    for _ in range(30):
        before = c.entry_seq
        sim.step()
        entries_per_tick.append((c.entry_seq - before) // 2)
        assert len(c.queue) <= sim.limits.host_queue
        assert len(c.signals.pending) <= sim.limits.signal_queue
        assert_accounted(sim)
    # the storm's tick (t=1100): 3 interrupts (the throttle), 2 signals (the app's reservation)
    # and the tick itself; then 2 signals and the tick until the 32 waiting signals are through
    assert entries_per_tick == [1] * 9 + [6] + [3] * 15 + [1] * 5
    a = c.accounting()
    assert (a["generated"], a["delivered"], a["signalled"]) == (10000, 3, 9997)
    s = c.signals.summary()
    assert s["recorded"] == 9997 and s["delivered"] == sim.limits.signal_queue
    assert s["overflowed"] == 9997 - sim.limits.signal_queue  # counted, not kept
    # the next ticks run on time: loop() at every tick after the storm
    loops = [t for t, text in sim.device.log if text.startswith("loop")]
    assert loops == list(range(100, 3200, 100))


@pytest.mark.parametrize("n", [1, 100, 10000])
def test_the_storms_host_work_does_not_grow_with_its_size(n):
    sim = sim_of("microapp.reserve_signal_budget(2)", events=[Event(250, "mesh", 2, b"s")] * n)
    sim.run(5)
    c = sim.controller
    assert c.entry_seq // 2 <= 7 + 3 + 2 * 5  # ticks, the 3 admitted events, the signal budget
    assert sum(c.requests) <= 64
    assert_accounted(sim)
