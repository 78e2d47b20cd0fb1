"""The control flow of seed 004 in the simulator, checked against the host's and the runtime's
own state: the context stack and the gate around ERR_BUSY, nesting, the throttle per
registration, every malformed request, registrations, raising handlers and loops. The switch by
switch sequences on both links are in tests/conformance."""
import textwrap

import pytest

from host import interrupts as I
from host.limits import Limits
from host.simulator import Simulation
from host.trace import Step, SwitchTrace
from host.sdk_types import mesh as mesh_type
from host.sdk_types import pin as pin_type
from shared_buffers import protocol as P
from tests.apps import BUSY_HANDLER_APP, LONG_HANDLER_APP, MESH_APP, RAISING_HANDLER_APP, RAISING_LOOP_APP


def sim_of(source, limits=None, trace=None):
    return Simulation(textwrap.dedent(source), limits=limits, trace=trace)


def mesh(sim, data=b"x", sender=2):
    return sim.controller.interrupt(P.MESH, *mesh_type.interrupt(sender, data))


def log_texts(sim):
    return [text for _, text in sim.device.log]


# -- seed 004's stack-full branch ---------------------------------------------------------------
def test_full_stack_refuses_with_err_busy_as_the_diagrams_alt_branch():
    trace = SwitchTrace()
    sim = sim_of(BUSY_HANDLER_APP, limits=Limits(stack_depth=1), trace=trace)
    sim.run(2)
    assert mesh(sim) == I.DELIVERED  # the handler uses its 4 requests and stays on the stack
    assert sim.link.runtime.depth == 1
    trace.steps.clear()
    assert mesh(sim) == I.BUSY
    assert trace.steps == [
        Step("host->app", ("MESH", "REQUEST"), ("LOG", "SUCCESS")),
        Step("app->host", ("MESH", "ERR_BUSY"), ("LOG", "SUCCESS")),  # request buffer ignored
    ]
    # no handler ran for the refused interrupt; the gate is closed until a handler finishes
    assert log_texts(sim) == ["working 0", "working 1", "working 2", "working 3"]
    assert sim.controller.registry.slots == 0
    assert mesh(sim) == I.GATED  # bluenet drops it (a GATED signal is recorded)
    assert sim.controller.signals.by_reason[P.SIG_GATED] == 1
    sim.step()  # the tick resumes the open handler: it finishes, and that ends the tick
    assert log_texts(sim)[4:] == ["working 4", "working 5"]
    assert sim.controller.registry.slots == 1 and sim.controller.contexts == []
    assert mesh(sim) == I.DELIVERED


# -- nesting ----------------------------------------------------------------------------------
def test_interrupts_nest_up_to_the_stack_depth_then_err_busy():
    sim = sim_of(LONG_HANDLER_APP, limits=Limits(stack_depth=2))
    sim.run(2)
    outcomes = [mesh(sim, bytes([65 + i])) for i in range(3)]
    assert outcomes == [I.DELIVERED, I.DELIVERED, I.BUSY]
    assert sim.link.runtime.busy_refused == 1
    assert len(sim.controller.contexts) == 2 and sim.link.runtime.depth == 2
    c = sim.controller.interrupts
    assert (c["generated"], c["delivered"], c["busy"]) == (3, 2, 1)
    sim.step()  # one handler finishes per tick: bluenet ends the tick at its final status
    assert len(sim.controller.contexts) == 1
    sim.run(10)
    texts = log_texts(sim)
    # innermost first: B finishes before A, and the refused C never ran
    ends = [t for t in texts if t.startswith("end")]
    assert ends == ["end b'B'", "end b'A'"]
    assert not any("C" in t for t in texts)
    # the main context picks up where it was: loop() runs again once the handlers are done
    assert texts[-1] == "loop"
    assert sim.link.runtime.depth == 0 and sim.controller.contexts == []


# -- throttle ---------------------------------------------------------------------------------
def test_throttle_allows_n_interrupts_per_registration_per_tick():
    sim = sim_of(MESH_APP)
    sim.run(2)
    assert [mesh(sim) for _ in range(5)] == [I.DELIVERED] * 3 + [I.THROTTLED] * 2
    pin_app_outcome = sim.controller.interrupt(P.PIN, *pin_type.interrupt(4))
    assert pin_app_outcome == I.NOT_REGISTERED  # other sources have their own registration
    sim.step()
    assert mesh(sim) == I.DELIVERED  # counters reset every tick
    assert sim.controller.interrupts["throttled"] == 2


def test_throttle_limit_is_configurable_and_per_registration():
    sim = sim_of("""
        from microapp import *
        def setup():
            Mesh.setIncomingMeshMsgHandler(lambda msg: None)
            Mesh.listen()
            attachInterrupt(4, lambda: None, CHANGE)
    """, limits=Limits(interrupts_per_registration=1))
    sim.run(2)
    assert [mesh(sim), mesh(sim)] == [I.DELIVERED, I.THROTTLED]
    assert [sim.controller.interrupt(P.PIN, *pin_type.interrupt(4)) for _ in range(2)] == [
        I.DELIVERED, I.THROTTLED]


# -- registrations ----------------------------------------------------------------------------
def test_registrations_beyond_the_hosts_limit_are_refused():
    sim = sim_of("""
        from microapp import *
        def setup():
            for pin in range(4):
                print("attach", pin, attachInterrupt(pin, lambda: None, RISING))
    """, limits=Limits(max_registrations=2))
    sim.run(3)
    assert log_texts(sim) == ["attach 0 True", "attach 1 True", "attach 2 False", "attach 3 False"]
    assert sorted(sim.link.runtime.handlers) == [(P.PIN << 8) | 0, (P.PIN << 8) | 1]


def test_the_sdk_holds_six_registrations_and_refuses_the_seventh_itself():
    sim = sim_of("""
        from microapp import *
        def setup():
            print(sum([attachInterrupt(pin, lambda: None, RISING) for pin in range(7)]))
    """)
    sim.run(4)
    assert log_texts(sim) == ["6"]
    assert sim.controller.requests[P.PIN] == 6  # the seventh never reached the host
    assert len(sim.controller.registry.counts) == 6


# -- raising code -----------------------------------------------------------------------------
def test_a_raising_handler_restores_its_frame_and_reports_the_failure():
    trace = SwitchTrace()
    sim = sim_of(RAISING_HANDLER_APP, trace=trace)
    sim.run(2)
    trace.steps.clear()
    runtime = sim.link.runtime
    assert mesh(sim) == I.DELIVERED
    # final status with the error class, the request buffer restored to the loop's final
    assert trace.steps[-1] == Step("app->host", ("MESH", "ERROR"), ("YIELD", "SUCCESS"))
    assert sim.controller.faults == [
        {"time_ms": 100, "where": "MESH handler", "error": "ValueError: bad message"}]
    assert runtime.depth == 0 and sim.controller.contexts == []
    assert sim.controller.restarts == 1  # the default fault policy restarts the app
    sim.run(2)  # setup() of the fresh app, then its loop()
    assert log_texts(sim)[-1] == "loop 300"


def test_a_raising_loop_is_a_fault_reported_as_the_entrys_final_status():
    sim = sim_of(RAISING_LOOP_APP)
    sim.run(5)
    assert sim.controller.faults == [{"time_ms": 200, "where": "loop", "error": "RuntimeError: tick two"}]
    # the app was restarted: setup() at t=300, then loop() with a fresh namespace (n from 0)
    assert log_texts(sim) == ["ok 1", "ok 1"]


