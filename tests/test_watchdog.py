"""The simulator's watchdog and the per-call limit: an app that never yields, wherever it spins and
however it tries to hold on, is stopped and flagged did-reboot while the host runs on; with
--strict-timing a call over the limit flags exceeded-call-duration. (Limits here are short so
that the tests are quick; nothing asserts how long anything took.)"""
import textwrap

import pytest

from host import interrupts as I
from host.limits import Limits
from host.links import greenlet_link
from host.sdk_types import mesh
from host.simulator import Simulation
from shared_buffers import protocol as P

FAST = Limits(watchdog_ms=100)
# A mesh message from stone 2 (bluenet's READ interrupt), and its registration's sub-id.
MESH_READ, MESH_EVENT = mesh.interrupt(2, b"x")


def sim_of(source, limits=FAST):
    return Simulation(textwrap.dedent(source), limits=limits)


def assert_stopped_by_watchdog(sim, time_ms):
    c = sim.controller
    assert not c.enabled and c.did_reboot and not c.exceeded_call_duration
    assert c.faults == [{"time_ms": time_ms, "where": "watchdog",
                         "error": "no yield within 100 ms: stopped by the watchdog"}]
    entries, ticks = c.entry_seq, c.ticks
    sim.run(5)  # the host goes on ticking; the app is not called again
    assert c.entry_seq == entries and c.ticks == ticks + 5 and sim.clock.now_ms == (ticks + 4) * 100


@pytest.mark.parametrize("source, time_ms", [
    ("""
        def loop():
            while True:
                pass
    """, 100),
    ("""
        def setup():
            while True:
                pass
    """, 0),
    ("""
        def work():
            pass
        def loop():       # catches whatever is raised into it, and goes on spinning
            while True:
                try:
                    while True:
                        work()
                except BaseException:
                    pass
    """, 100),
    ("""
        import time
        def loop():       # blocked in a system call rather than spinning
            time.sleep(3600)
    """, 100),
    ("""
        import microapp
        def loop():       # yields a few times, then spins: the clock starts at its last yield
            for i in range(2):
                print(i)
            while True:
                pass
    """, 100),
], ids=["loop", "setup", "catches-everything", "blocking-sleep", "after-requests"])
def test_an_app_that_never_yields_is_stopped_and_the_host_runs_on(source, time_ms):
    sim = sim_of(source)
    sim.run(3)
    assert_stopped_by_watchdog(sim, time_ms)


def test_a_handler_that_never_yields_is_stopped_and_its_event_signalled():
    sim = sim_of("""
        from microapp import *
        def on_message(msg):
            print("got", msg.dataPtr)
            while True:
                pass
        def setup():
            Mesh.setIncomingMeshMsgHandler(on_message)
            Mesh.listen()
    """)
    sim.run(2)
    assert sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.DELIVERED  # it took the event, then hung
    assert_stopped_by_watchdog(sim, 100)
    assert list(sim.controller.signals.pending) == [(P.SIG_WATCHDOG, 1)]
    assert sim.controller.accounting()["uncounted"] == 0


def test_a_handler_that_hangs_before_any_request_loses_its_event_with_a_signal():
    sim = sim_of("""
        from microapp import *
        def setup():
            Mesh.setIncomingMeshMsgHandler(lambda msg: [None for _ in iter(int, 1)])
            Mesh.listen()
    """)
    sim.run(2)
    # the host never saw the app take the event: it is dropped, and signalled, not lost
    assert sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.ABORTED
    assert_stopped_by_watchdog(sim, 100)
    assert list(sim.controller.signals.pending) == [(P.SIG_WATCHDOG, 1)]
    assert sim.controller.accounting() == {"generated": 1, "delivered": 0, "signalled": 1, "queued": 0,
                                           "uncounted": 0}


def test_top_level_code_that_never_ends_fails_the_load():
    with pytest.raises(Exception, match="stopped by the watchdog"):
        sim_of("""
            while True:
                pass
        """)


def test_an_entry_longer_than_the_limit_is_fine_while_the_app_keeps_yielding():
    # one entry of 30 requests, 10 ms apart: 300 ms in all, but never 100 ms without a yield
    sim = sim_of("""
        import time
        def loop():
            for i in range(30):
                time.sleep(0.01)
                print(i)
    """, Limits(watchdog_ms=100, entry_budget=1000))
    sim.run(2)
    assert sim.controller.enabled and sim.controller.faults == []
    assert len(sim.device.log) == 30


def test_the_limit_is_configurable():
    sim = sim_of("""
        def loop():
            while True:
                pass
    """, Limits(watchdog_ms=150))
    sim.run(2)
    assert sim.controller.faults[0]["error"] == "no yield within 150 ms: stopped by the watchdog"


def test_a_hung_app_restarted_by_enable_runs_afresh_and_gets_its_signal():
    sim = sim_of("""
        import microapp
        from microapp import Mesh
        hang = True
        def on_message(msg):
            print("message", msg.dataPtr)
            while hang:
                pass
        def on_signal(signal_from, code):
            print("signal", signal_from, microapp.signal_name(code))
        def setup():
            microapp.on_signal(on_signal)
            Mesh.setIncomingMeshMsgHandler(on_message)
            Mesh.listen()
    """)
    sim.run(2)
    sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT)
    assert not sim.controller.enabled
    sim.controller.enable()  # what `microapp enable` does to the saved state, in process
    assert sim.controller.enabled and not sim.controller.did_reboot
    sim.run(2)  # setup() of the fresh app, then the pending signal
    assert [text for _, text in sim.device.log] == ["message b'x'", "signal 1 WATCHDOG"]


def test_an_app_that_will_not_unwind_is_set_aside_and_the_host_goes_on():
    before = len(greenlet_link._UNFINISHED)
    sim = sim_of("""
        def work():
            pass
        def loop():
            print("tick")
            while True:
                try:
                    while True:
                        work()
                except BaseException:  # also the GreenletExit that should end it
                    pass
    """)
    sim.run(2)
    assert sim.controller.did_reboot
    # enable() restarts the app: the old greenlet, told to end, spins on; the watchdog stops
    # that too, and it is set aside for good
    sim.controller.enable()
    assert len(greenlet_link._UNFINISHED) == before + 1
    sim.run(2)  # the fresh app runs (and hangs in its turn)
    assert [text for _, text in sim.device.log] == ["tick", "tick"]


def test_a_restarted_app_is_unwound_even_when_its_cleanup_makes_requests():
    before = len(greenlet_link._UNFINISHED)
    sim = sim_of("""
        def loop():
            try:
                print("working")
                raise ValueError("fault")
            finally:
                print("cleanup")
    """)
    sim.run(3)
    assert sim.controller.restarts == 1
    assert len(greenlet_link._UNFINISHED) == before


# -- the per-call limit (--strict-timing) -----------------------------------------------------
SLOW_LOOP = """
    import time
    def loop():
        time.sleep(0.05)
"""


def test_a_call_over_the_per_call_limit_flags_exceeded_call_duration():
    sim = sim_of(SLOW_LOOP, Limits(call_duration_ms=20))
    sim.run(4)
    c = sim.controller
    assert not c.enabled and c.exceeded_call_duration and not c.did_reboot
    assert [f["where"] for f in c.faults] == ["call duration"]
    assert "over the 20 ms limit" in c.faults[0]["error"]


def test_the_per_call_limit_is_off_by_default():
    sim = sim_of(SLOW_LOOP)
    sim.run(4)
    assert sim.controller.enabled and sim.controller.faults == []


# -- --isolate's watchdog: a SIGKILL of the app's process -----------------------------------
def test_the_isolated_watchdog_kills_a_child_that_does_not_answer():
    import os
    import signal
    import subprocess
    import sys

    from host.watchdog import wait_or_kill
    r, w = os.pipe()
    child = subprocess.Popen([sys.executable, "-c", "import signal, time\n"
                              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                              "import os; os.write(int(__import__('sys').argv[1]), b'Y')\n"
                              "while True: pass", str(w)], pass_fds=(w,))
    os.close(w)
    try:
        assert wait_or_kill(r, child.pid, 30) == b"Y"  # it answers once...
        assert wait_or_kill(r, child.pid, 0.2) is None  # ...then spins: killed
        assert child.wait(timeout=10) == -signal.SIGKILL
        assert wait_or_kill(r, child.pid, 1) == b""  # a dead child's pipe says so at once
    finally:
        os.close(r)
        if child.poll() is None:
            child.kill()
