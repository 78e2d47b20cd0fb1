"""The control flow of seed 004 in the simulator: the two diagrams switch by switch, nesting and
ERR_BUSY, the throttle, the fuel budget, malformed requests, raising handlers and loops."""
import textwrap

import pytest

from host import interrupts as I
from host.limits import Limits
from host.simulator import Simulation
from host.trace import Step, SwitchTrace
from shared_buffers import protocol as P


def sim_of(source, limits=None, trace=None):
    return Simulation(textwrap.dedent(source), limits=limits, trace=trace)


def mesh(sim, data=b"x", sender=2):
    return sim.controller.interrupt(P.MESH, 0, bytes((P.MESH_RECEIVED, sender)) + data)


def log_texts(sim):
    return [text for _, text in sim.device.log]


MESH_APP = """
    import microapp
    def on_message(stone_id, data):
        print("Hello")
    def setup():
        microapp.on_mesh_message(on_message)
        microapp.mesh_listen()
    def loop():
        pass
"""


# -- seed 004's diagrams ----------------------------------------------------------------------
def test_tick_with_one_print_switches_as_the_first_diagram():
    trace = SwitchTrace()
    sim = sim_of("""
        def loop():
            print("Hello")
    """, trace=trace)
    sim.run(2)  # setup, then the first loop() (which runs the second diagram's steps)
    trace.steps.clear()
    sim.step()
    assert trace.steps == [
        # tickMicroapp() wrote CONTINUE/NO_REQUEST; resume in signalLoopEnd() of the last loop()
        Step("host->app", ("CONTINUE", "NO_REQUEST"), ("YIELD", "SUCCESS")),
        Step("app->host", ("CONTINUE", "NO_REQUEST"), ("LOG", "REQUEST")),
        # handleRequest() printed it and wrote SUCCESS; SERIAL does not stop: call again
        Step("host->app", ("CONTINUE", "NO_REQUEST"), ("LOG", "SUCCESS")),
        # loop() returned: signalLoopEnd() writes YIELD/NO_REQUEST
        Step("app->host", ("CONTINUE", "NO_REQUEST"), ("YIELD", "NO_REQUEST")),
    ]
    # handleRequest() acks the YIELD with SUCCESS and the tick ends
    assert (sim.link.m2b[0], sim.link.m2b[1]) == (P.YIELD, P.SUCCESS)
    assert log_texts(sim)[-1] == "Hello"


def test_mesh_interrupt_with_a_print_switches_as_the_second_diagram():
    trace = SwitchTrace()
    sim = sim_of(MESH_APP, trace=trace)
    sim.run(2)
    trace.steps.clear()
    assert mesh(sim) == I.DELIVERED
    assert trace.steps == [
        Step("host->app", ("MESH", "REQUEST"), ("YIELD", "SUCCESS")),
        # accepted (IN_PROGRESS), buffers pushed, the handler's print is a request
        Step("app->host", ("MESH", "IN_PROGRESS"), ("LOG", "REQUEST")),
        Step("host->app", ("MESH", "IN_PROGRESS"), ("LOG", "SUCCESS")),
        # handler done: request buffer restored (the loop's YIELD/SUCCESS), interrupt acked SUCCESS
        Step("app->host", ("MESH", "SUCCESS"), ("YIELD", "SUCCESS")),
    ]
    assert log_texts(sim) == ["Hello"]
    assert sim.controller.contexts == []


def test_full_stack_refuses_with_err_busy_as_the_diagrams_alt_branch():
    trace = SwitchTrace()
    sim = sim_of("""
        import microapp
        def on_message(stone_id, data):
            for i in range(5):
                print("working", i)
        def setup():
            microapp.on_mesh_message(on_message)
            microapp.mesh_listen()
    """, limits=Limits(stack_depth=1), trace=trace)
    sim.run(2)
    assert mesh(sim) == I.DELIVERED  # the handler uses its budget and stays on the stack
    assert sim.link.runtime.depth == 1
    trace.steps.clear()
    assert mesh(sim) == I.BUSY
    assert trace.steps == [
        Step("host->app", ("MESH", "REQUEST"), ("LOG", "SUCCESS")),
        Step("app->host", ("MESH", "ERR_BUSY"), ("LOG", "SUCCESS")),  # request buffer ignored
    ]
    # no handler ran for the refused interrupt; the gate is closed until a handler finishes
    assert log_texts(sim) == ["working 0", "working 1", "working 2"]
    assert mesh(sim) == I.GATED  # held back in the host queue
    sim.step()  # the tick resumes the open handler: it finishes, the gate opens, the held-back
    # event goes in at once
    assert log_texts(sim)[3:] == ["working 3", "working 4", "working 0", "working 1", "working 2"]
    sim.step()
    assert sim.controller.contexts == []
    assert mesh(sim) == I.DELIVERED


# -- nesting ----------------------------------------------------------------------------------
LONG_HANDLER_APP = """
    import microapp
    def on_message(stone_id, data):
        print("start", data)
        for i in range(4):
            print("step", data, i)
        print("end", data)
    def setup():
        microapp.on_mesh_message(on_message)
        microapp.mesh_listen()
    def loop():
        print("loop")
"""


def test_interrupts_nest_up_to_the_stack_depth_then_err_busy():
    sim = sim_of(LONG_HANDLER_APP)
    sim.run(2)
    outcomes = [mesh(sim, bytes([65 + i])) for i in range(3)]
    assert outcomes == [I.DELIVERED] * 3
    assert sim.link.runtime.depth == 3
    assert len(sim.controller.contexts) == 3
    sim.step()  # a new tick resets the throttle; the handlers are still open
    assert mesh(sim, b"D") == I.BUSY
    assert sim.link.runtime.busy_refused == 1
    c = sim.controller.interrupts
    assert (c["generated"], c["delivered"], c["busy"]) == (4, 3, 1)
    sim.run(10)
    texts = log_texts(sim)
    # innermost first: C finishes before B before A, and the refused D never ran
    ends = [t for t in texts if t.startswith("end")]
    assert ends == ["end b'C'", "end b'B'", "end b'A'"]
    assert not any("D" in t for t in texts)
    # the main context picks up where it was: loop() runs again once the handlers are done
    assert texts[-1] == "loop"
    assert sim.link.runtime.depth == 0 and sim.controller.contexts == []


def test_stack_depth_is_configurable():
    sim = sim_of(LONG_HANDLER_APP, limits=Limits(stack_depth=2))
    sim.run(2)
    assert [mesh(sim) for _ in range(2)] == [I.DELIVERED] * 2
    sim.step()
    assert mesh(sim) == I.BUSY


# -- throttle ---------------------------------------------------------------------------------
def test_throttle_allows_n_interrupts_per_registration_per_tick():
    sim = sim_of(MESH_APP)
    sim.run(2)
    assert [mesh(sim) for _ in range(5)] == [I.DELIVERED] * 3 + [I.THROTTLED] * 2
    pin_app_outcome = sim.controller.interrupt(P.PIN, 4, bytes((P.PIN_EVENT, 4, 1)))
    assert pin_app_outcome == I.NOT_REGISTERED  # other sources have their own registration
    sim.step()
    assert mesh(sim) == I.DELIVERED  # counters reset every tick
    assert sim.controller.interrupts["throttled"] == 2


def test_throttle_limit_is_configurable_and_per_registration():
    sim = sim_of("""
        import microapp
        def setup():
            microapp.on_mesh_message(lambda s, d: None)
            microapp.mesh_listen()
            microapp.on_pin_change(4, lambda pin, level: None)
    """, limits=Limits(interrupts_per_registration=1))
    sim.run(2)
    pin_event = bytes((P.PIN_EVENT, 4, 1))
    assert [mesh(sim), mesh(sim)] == [I.DELIVERED, I.THROTTLED]
    assert [sim.controller.interrupt(P.PIN, 4, pin_event) for _ in range(2)] == [I.DELIVERED, I.THROTTLED]


# -- fuel budget ------------------------------------------------------------------------------
def test_budget_stops_the_entry_and_resumes_at_the_next_one():
    sim = sim_of("""
        def loop():
            for i in range(5):
                print("line", i)
    """)
    sim.run(3)  # setup at t=0, loop from t=100
    assert [(t, text) for t, text in sim.device.log] == [
        (100, "line 0"), (100, "line 1"), (100, "line 2"),  # third request spends the budget
        (200, "line 3"), (200, "line 4"),                   # resumed at the next entry
    ]
    assert sim.controller.fuel_used == 5


def test_an_interrupt_is_also_an_entry_that_resumes_the_budget_stopped_context():
    sim = sim_of("""
        import microapp
        def setup():
            microapp.on_mesh_message(lambda s, d: None)
            microapp.mesh_listen()
        def loop():
            for i in range(4):
                print("line", i)
    """)
    sim.run(2)
    assert len(sim.device.log) == 3
    assert mesh(sim) == I.DELIVERED  # the handler runs on top; the loop stays where it was
    assert len(sim.device.log) == 3
    sim.step()
    assert log_texts(sim)[-1] == "line 3"


def test_linear_costs_charge_by_payload_bytes():
    limits = Limits(entry_budget=10).with_overrides(["cost.LOG=1,1"])
    sim = sim_of("""
        def loop():
            print("12345678")   # 2 + 8 payload bytes: cost 11, over the budget at once
            print("ab")
    """, limits=limits)
    sim.run(2)
    assert [(t, text) for t, text in sim.device.log] == [(100, "12345678")]
    sim.step()
    assert log_texts(sim) == ["12345678", "ab"]
    assert sim.controller.fuel_used == 11 + 5


# -- malformed requests -----------------------------------------------------------------------
RAW_REQUEST_APP = """
    import microapp
    def setup():
        rt = microapp._rt
        rt.m2b[6:6 + {n}] = bytes({payload!r})
        ack = rt.request({msg_type}, {length})
        print("ack", ack)
"""


@pytest.mark.parametrize("msg_type, payload, length, ack", [
    (0x30, b"", 0, P.ERR_NOT_IMPLEMENTED),                          # unknown type
    (P.TWI, b"\x01", 1, P.ERR_NOT_IMPLEMENTED),                     # known to bluenet, not here
    (P.LOG, b"\x00\x01hi", 49, P.ERR_TOO_LARGE),                    # length past the payload
    (P.LOG, b"\x00", 1, P.ERR_WRONG_PARAM),                         # too short
    (P.LOG, b"\x07\x01hi", 4, P.ERR_WRONG_PARAM),                   # unknown value kind
    (P.LOG, b"\x01\x01\x01", 3, P.ERR_WRONG_PARAM),                 # int of the wrong size
    (P.PIN, b"\x03\xc8\x01", 3, P.ERR_OUT_OF_RANGE),                # pin 200
    (P.PIN, b"\x09\x01", 2, P.ERR_NOT_IMPLEMENTED),                 # unknown pin op
    (P.PIN, b"\x03\x01\x01", 3, P.ERR_WRONG_PARAM),                 # write to a pin not an output
    (P.PIN, b"\x01\x01\x07\x00", 4, P.ERR_WRONG_PARAM),             # unknown mode
    (P.PIN, b"\x01\x01\x01\x03", 4, P.ERR_WRONG_PARAM),             # an output with an edge
    (P.PIN, b"\x02", 1, P.ERR_WRONG_PARAM),                         # no pin
    (P.MESH, b"\x01\x00" + b"x" * 8, 10, P.ERR_TOO_LARGE),          # 8 bytes: bluenet takes 7
    (P.MESH, b"\x01\x00", 2, P.ERR_EMPTY),                          # nothing to send
    (P.MESH, b"\x03\x00", 2, P.ERR_WRONG_PARAM),                    # own id with a stray byte
    (P.MESH, b"", 0, P.ERR_WRONG_PARAM),                            # no op
    (P.MESH, b"\x63", 1, P.ERR_NOT_IMPLEMENTED),                    # unknown op
    (P.BLE, b"\x01\x02", 2, P.ERR_WRONG_PARAM),
    (P.YIELD, b"\x02\x03", 2, P.ERR_WRONG_PARAM),                   # a YIELD sent as a request
    (P.LOG, b"\x00\x01" + "é".encode(), 4, P.SUCCESS),              # control: well formed
])
def test_malformed_requests_get_an_error_ack_and_the_app_goes_on(msg_type, payload, length, ack):
    source = RAW_REQUEST_APP.format(n=len(payload), payload=payload, msg_type=msg_type, length=length)
    sim = sim_of(source)
    sim.run(3)
    texts = log_texts(sim)
    assert f"ack {ack}" in texts
    assert sim.controller.enabled and sim.controller.faults == [] and sim.controller.host_errors == 0


def test_registrations_beyond_the_limit_are_refused_with_no_space():
    sim = sim_of("""
        import microapp
        def setup():
            for pin in range(4):
                try:
                    microapp.on_pin_change(pin, lambda p, l: None)
                    print("registered", pin)
                except microapp.RequestError as e:
                    print(e)
    """, limits=Limits(max_registrations=2))
    sim.run(3)
    assert log_texts(sim) == ["registered 0", "registered 1", "pin_mode refused: ERR_NO_SPACE",
                              "pin_mode refused: ERR_NO_SPACE"]
    assert sorted(sim.link.runtime.handlers) == [(P.PIN << 8) | 0, (P.PIN << 8) | 1]


# -- raising code -----------------------------------------------------------------------------
def test_a_raising_handler_restores_its_frame_and_reports_the_failure():
    trace = SwitchTrace()
    sim = sim_of("""
        import microapp
        def on_message(stone_id, data):
            print("about to fail")
            raise ValueError("bad message")
        def setup():
            microapp.on_mesh_message(on_message)
            microapp.mesh_listen()
        def loop():
            print("loop", microapp.millis())
    """, trace=trace)
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


def test_a_handler_returning_a_non_ack_is_reported_as_an_error():
    sim = sim_of("""
        import microapp
        def setup():
            microapp.on_mesh_message(lambda s, d: "yes")
            microapp.mesh_listen()
    """)
    sim.run(2)
    mesh(sim)
    assert sim.link.b2m[1] == P.ERROR
    assert "not an ack" in sim.controller.faults[0]["error"]


def test_a_handler_may_return_an_error_ack_as_its_result():
    sim = sim_of("""
        import microapp
        def setup():
            microapp.on_mesh_message(lambda s, d: 0x0F)
            microapp.mesh_listen()
    """)
    sim.run(2)
    assert mesh(sim) == I.DELIVERED
    assert sim.link.b2m[1] == P.ERR_WRONG_PARAM
    assert sim.controller.faults == []


def test_a_raising_loop_is_a_fault_reported_as_the_entrys_final_status():
    sim = sim_of("""
        n = 0
        def loop():
            global n
            n += 1
            if n == 2:
                raise RuntimeError("tick two")
            print("ok", n)
    """)
    sim.run(5)
    assert sim.controller.faults == [{"time_ms": 200, "where": "loop", "error": "RuntimeError: tick two"}]
    # the app was restarted: setup() at t=300, then loop() with a fresh namespace (n from 0)
    assert log_texts(sim) == ["ok 1", "ok 1"]


def test_a_raising_setup_is_reported_as_a_setup_fault():
    sim = sim_of("""
        def setup():
            raise KeyError("config")
    """)
    sim.run(1)
    assert sim.controller.faults[0]["where"] == "setup"
    assert "KeyError" in sim.controller.faults[0]["error"]


def test_an_unhandled_interrupt_type_answers_not_found():
    sim = sim_of(MESH_APP)
    sim.run(2)
    sim.link.runtime.handlers.clear()  # registered with the host, but no handler in the app
    assert mesh(sim) == I.DELIVERED
    assert sim.link.b2m[1] == P.ERR_NOT_FOUND
