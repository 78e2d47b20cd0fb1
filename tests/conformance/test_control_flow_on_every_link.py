"""Seed 004's control flow on every link: the same app and the same events give the same switch
by switch sequence of message types and acks, the same log and the same summary, whether the app
runs in a greenlet or on the (virtual) board behind the serial link (conftest.on_both_links).
The diagrams' steps are also checked as written."""
import pytest

from host import interrupts as I
from host.limits import Limits
from host.trace import Step
from host.sdk_types import pin as pin_type
from shared_buffers import protocol as P
from tests.apps import BUSY_HANDLER_APP, LONG_HANDLER_APP, MESH_APP, RAISING_HANDLER_APP, RAISING_LOOP_APP


# -- seed 004's diagrams ----------------------------------------------------------------------
def test_a_tick_with_one_print_switches_as_the_first_diagram(on_both_links):
    def scenario(run):
        run.sim.run(2)
        run.mark()
        run.sim.step()
        return run.log()

    seen = on_both_links("""
        def loop():
            print("Hello")
    """, scenario)
    assert seen.steps == [
        Step("host->app", ("CONTINUE", "NO_REQUEST"), ("YIELD", "SUCCESS")),
        Step("app->host", ("CONTINUE", "NO_REQUEST"), ("LOG", "REQUEST")),
        Step("host->app", ("CONTINUE", "NO_REQUEST"), ("LOG", "SUCCESS")),
        Step("app->host", ("CONTINUE", "NO_REQUEST"), ("YIELD", "NO_REQUEST")),
    ]
    assert seen.result == ["Hello", "Hello"]


def test_a_mesh_interrupt_with_a_print_switches_as_the_second_diagram(on_both_links):
    def scenario(run):
        run.sim.run(2)
        run.mark()
        return run.mesh(), run.log()

    seen = on_both_links(MESH_APP, scenario)
    assert seen.steps == [
        Step("host->app", ("MESH", "REQUEST"), ("YIELD", "SUCCESS")),
        Step("app->host", ("MESH", "IN_PROGRESS"), ("LOG", "REQUEST")),
        Step("host->app", ("MESH", "IN_PROGRESS"), ("LOG", "SUCCESS")),
        Step("app->host", ("MESH", "SUCCESS"), ("YIELD", "SUCCESS")),
    ]
    assert seen.result == (I.DELIVERED, ["Hello"])


def test_a_full_stack_refuses_with_err_busy_as_the_diagrams_alt_branch(on_both_links):
    def scenario(run):
        run.sim.run(2)
        first = run.mesh()  # its handler uses the budget and stays on the stack
        run.mark()
        refused = run.mesh()
        refusal = run.steps()
        gated = run.mesh()
        run.sim.run(2)
        return first, refused, refusal, gated, run.mesh(), run.log()

    seen = on_both_links(BUSY_HANDLER_APP, scenario, Limits(stack_depth=1))
    first, refused, refusal, gated, later, log = seen.result
    assert (first, refused, gated, later) == (I.DELIVERED, I.BUSY, I.GATED, I.DELIVERED)
    assert refusal == [
        Step("host->app", ("MESH", "REQUEST"), ("LOG", "SUCCESS")),
        Step("app->host", ("MESH", "ERR_BUSY"), ("LOG", "SUCCESS")),  # nothing ran
    ]
    assert log[:3] == ["working 0", "working 1", "working 2"]


# -- nesting ----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [2, 1])
def test_interrupts_nest_up_to_the_stack_depth_then_err_busy(on_both_links, depth):
    def scenario(run):
        run.sim.run(2)
        outcomes = [run.mesh(bytes([65 + i])) for i in range(depth + 1)]
        open_contexts = len(run.sim.controller.contexts)
        run.sim.run(10)
        return outcomes, open_contexts, run.log(), run.sim.controller.contexts

    seen = on_both_links(LONG_HANDLER_APP, scenario, Limits(stack_depth=depth))
    outcomes, open_contexts, log, contexts_after = seen.result
    assert outcomes == [I.DELIVERED] * depth + [I.BUSY]
    assert open_contexts == depth and contexts_after == []
    ends = [t for t in log if t.startswith("end")]
    assert ends == [f"end b'{chr(65 + i)}'" for i in reversed(range(depth))]  # innermost first
    assert not any(chr(65 + depth) in t for t in log) and log[-1] == "loop"


# -- throttle ---------------------------------------------------------------------------------
def test_the_throttle_allows_n_interrupts_per_registration_per_tick(on_both_links):
    def scenario(run):
        run.sim.run(2)
        first = [run.mesh() for _ in range(5)]
        pin = run.sim.controller.interrupt(P.PIN, *pin_type.interrupt(4))
        run.sim.step()
        return first, pin, run.mesh()

    seen = on_both_links(MESH_APP, scenario)
    assert seen.result == ([I.DELIVERED] * 3 + [I.THROTTLED] * 2, I.NOT_REGISTERED, I.DELIVERED)
    assert seen.summary["interrupts"]["throttled"] == 2


# -- bluenet's scheduling rules (issue 8, item 3) ----------------------------------------------
def test_four_requests_are_handled_per_entry_and_the_rest_at_the_next(on_both_links):
    def scenario(run):
        run.sim.run(3)
        return run.sim.device.log

    seen = on_both_links("""
        def loop():
            for i in range(5):
                print("line", i)
    """, scenario)
    assert seen.result == [(100, "line 0"), (100, "line 1"), (100, "line 2"), (100, "line 3"),
                           (200, "line 4")]


def test_an_interrupt_also_resumes_a_budget_stopped_context_only_at_its_own_entry(on_both_links):
    def scenario(run):
        run.sim.run(2)
        before = len(run.log())
        outcome = run.mesh()
        after_interrupt = len(run.log())
        run.sim.step()
        return before, outcome, after_interrupt, run.log()[-1]

    seen = on_both_links("""
        from microapp import *
        def setup():
            Mesh.setIncomingMeshMsgHandler(lambda msg: None)
            Mesh.listen()
        def loop():
            for i in range(5):
                print("line", i)
    """, scenario)
    assert seen.result == (4, I.DELIVERED, 4, "line 4")


def test_an_interrupt_is_served_on_top_of_a_pin_write_that_waits_for_its_entry(on_both_links):
    # digitalWrite inlines the request's wait: the fourth write spends the tick's budget, the
    # mesh entry resumes the app inside it with an interrupt, which is served on top (its print
    # and all); the write returns its own ack at the next tick and the loop goes on.
    def scenario(run):
        run.sim.run(2)
        outcome = run.mesh()
        run.sim.step()
        return outcome, run.log(), list(run.sim.device.pin_changes), run.sim.controller.faults

    seen = on_both_links("""
        from microapp import *
        acks = []
        def setup():
            pinMode(3, OUTPUT)
            Mesh.setIncomingMeshMsgHandler(lambda msg: print("got"))
            Mesh.listen()
        def loop():
            for i in range(5):
                acks.append(digitalWrite(3, i & 1))
            print("acks", acks)
    """, scenario)
    assert seen.result == (I.DELIVERED, ["got", "acks [0, 0, 0, 0, 0]"],
                           [(100, 3, 1), (100, 3, 0), (100, 3, 1), (200, 3, 0)], [])


def test_a_handler_that_finishes_ends_the_tick_and_loop_runs_at_the_next(on_both_links):
    def scenario(run):
        run.sim.run(2)
        run.mesh(b"A")  # 4 of its 6 requests now, the rest at the next tick
        run.sim.run(2)
        return run.sim.device.log

    seen = on_both_links(LONG_HANDLER_APP, scenario)
    log = seen.result
    assert (200, "end b'A'") in log
    assert [t for t, text in log if text == "loop"] == [100, 300]  # not at 200: that tick ended


@pytest.mark.parametrize("ms, period", [(150, 200), (50, 100), (300, 400)])
def test_delay_yields_floor_ms_over_100_times(on_both_links, ms, period):
    seen = on_both_links(f"""
        from microapp import *
        def loop():
            print(millis())
            delay({ms})
    """, lambda run: run.sim.run(12) and None)
    times = [round(t * 1000) for t, _ in seen.summary["log"]]
    assert times[:3] == [100, 100 + period, 100 + 2 * period]


def test_a_second_registration_is_an_error_and_nothing_unregisters(on_both_links):
    def scenario(run):
        run.sim.run(3)
        outcome = run.sim.controller.interrupt(P.PIN, *pin_type.interrupt(3))
        return run.log(), outcome

    seen = on_both_links("""
        from microapp import *
        def setup():
            print("listen", Mesh.listen(), Mesh.listen())
            print("attach", attachInterrupt(3, lambda: print("edge"), RISING),
                  attachInterrupt(3, lambda: print("second"), RISING))
            pinMode(3, INPUT)   # no polarity: bluenet keeps the registration
    """, scenario)
    log, outcome = seen.result
    assert log[:2] == ["listen True False", "attach True False"]
    assert outcome == I.DELIVERED and log[-1] == "edge"
    assert seen.summary["requests"]["PIN"] == 3


def test_enable_resumes_the_app_with_its_registrations(on_both_links):
    def scenario(run):
        c = run.sim.controller
        run.sim.run(2)
        c.disable()
        run.sim.run(2)
        stopped = run.mesh()
        c.enable()
        run.sim.run(1)
        return stopped, run.mesh(), run.log()

    seen = on_both_links("""
        from microapp import *
        def setup():
            print("setup")
            Mesh.setIncomingMeshMsgHandler(lambda msg: print("got", msg.dataPtr))
            Mesh.listen()
        def loop():
            print("loop", millis())
    """, scenario)
    stopped, delivered, log = seen.result
    assert stopped == I.NOT_REGISTERED and delivered == I.DELIVERED
    assert log == ["setup", "loop 100", "loop 400", "got b'x'"]  # setup() did not run again


def test_the_cpu_busy_gate_skips_ticks_and_drops_interrupts(on_both_links):
    def scenario(run):
        c = run.sim.controller
        run.sim.run(2)
        c.cpu_busy = True
        run.sim.run(2)
        dropped = run.mesh()
        c.cpu_busy = False
        run.sim.run(1)
        return dropped, run.log()

    seen = on_both_links(MESH_APP.replace("pass", "print('loop', millis())"), scenario)
    assert seen.result == (I.CPU_BUSY, ["loop 100", "loop 400"])
    assert seen.summary["ticks_skipped_cpu_busy"] == 2
    assert seen.summary["signals"]["by_reason"] == {"CPU_BUSY": 1}


def test_the_sdk_registers_six_and_the_host_ten(on_both_links):
    seen = on_both_links("""
        from microapp import *
        def setup():
            print(sum([attachInterrupt(p, lambda: None, RISING) for p in range(8)]))
    """, lambda run: run.sim.run(4) and None)
    assert seen.summary["log"][0][1] == "6" and seen.summary["requests"]["PIN"] == 6


def test_linear_costs_charge_by_payload_bytes(on_both_links):
    def scenario(run):
        run.sim.run(3)
        return run.sim.device.log, run.sim.controller.fuel_used

    seen = on_both_links("""
        def loop():
            print("12345678")
            print("ab")
    """, scenario, Limits(entry_budget=10).with_overrides(["cost.LOG=1,1"]))
    # the struct's bytes after the header: type, flags, size and the text (11, then 5)
    assert seen.result == ([(100, "12345678"), (200, "ab")], 12 + 6)


# -- malformed requests -----------------------------------------------------------------------
RAW_REQUEST_APP = """
    from microapp import *
    def setup():
        m2b = getOutgoingMessagePayload()
        m2b[0] = {msg_type}
        m2b[1] = 2   # REQUEST
        m2b[2:2 + {n}] = bytes({payload!r})
        print("ack", sendMessage({used}))
"""


@pytest.mark.parametrize("msg_type, payload, ack", [
    (0x30, b"", P.ERR_UNDEFINED),                                   # unknown type
    (P.CONTINUE, b"", P.ERR_UNDEFINED),                             # not a request
    (P.NONE, b"", P.REQUEST),                                       # bluenet writes no ack
    (P.TWI, b"\x09", P.ERR_UNDEFINED),                              # unknown TWI type
    (P.LOG, b"\x09\x01\x02hi", P.ERR_UNDEFINED),                    # unknown value type
    (P.LOG, b"\x03\x01\x00", P.SUCCESS),                            # size 0: an empty line
    (P.LOG, b"\x03\x01\xc8" + b"x" * 43, P.SUCCESS),                 # size 200: cut at 42
    (P.PIN, b"\x13\x02\x00\x00\x02\x01", P.ERR_OUT_OF_RANGE),         # pin 19
    (P.PIN, b"\x12\x02\x00\x00\x02\x01", P.ERR_NOT_FOUND),            # pin 18 passes bluenet's check
    (P.PIN, b"\x01\x09", P.ERR_UNDEFINED),                           # unknown pin request type
    (P.PIN, b"\x01\x01\x07\x01", P.ERR_UNDEFINED),                   # unknown direction
    (P.PIN, b"\x01\x01\x01\x09", P.ERR_UNDEFINED),                   # unknown polarity
    (P.PIN, b"\x01\x02\x00\x00\x05", P.ERR_UNDEFINED),               # unknown action
    (P.PIN, b"\x01\x02\x00\x00\x02\x05", P.ERR_UNDEFINED),           # unknown value
    (P.PIN, b"\x01\x02\x00\x00\x02\x01", P.SUCCESS),                 # a write to an input: no check
    (P.MESH, b"\x01\x00\x00\x08" + b"x" * 8, P.ERR_TOO_LARGE),        # 8 bytes: bluenet takes 7
    (P.MESH, b"\x01\x00\x00\x00", P.ERR_EMPTY),                       # nothing to send
    (P.MESH, b"\x63", P.ERR_UNDEFINED),                              # unknown mesh type
    (P.BLE, b"\x09", P.ERR_UNDEFINED),                               # unknown BLE type
    (P.BLE, b"\x02\x09", P.ERR_UNDEFINED),                           # unknown scan type
    (P.BLE, b"\x02\x05\x03\x28", P.ERR_TOO_LARGE),                    # a 40-byte name filter
    (P.BLE, b"\x03\x01", P.ERR_NOT_IMPLEMENTED),                     # central: not modelled
    (P.YIELD, b"\x02\x03", P.SUCCESS),                               # a YIELD is a final status
    (P.LOG, b"\x03\x01\x02" + "é".encode(), P.SUCCESS),             # control: well formed
])
def test_malformed_requests_get_bluenets_error_ack_and_the_app_goes_on(on_both_links, msg_type,
                                                                      payload, ack):
    def scenario(run):
        run.sim.run(3)
        return run.log()

    seen = on_both_links(RAW_REQUEST_APP.format(n=len(payload), payload=payload, msg_type=msg_type,
                                                used=2 + len(payload)), scenario)
    assert f"ack {ack}" in seen.result
    assert seen.summary["faults"] == [] and seen.summary["enabled"] and seen.summary["host_errors"] == 0


@pytest.mark.parametrize("msg_type", [0x30, P.NONE])
def test_an_unknown_type_or_none_ends_the_entry(on_both_links, msg_type):
    seen = on_both_links(RAW_REQUEST_APP.format(n=0, payload=b"", msg_type=msg_type, used=2),
                         lambda run: run.sim.run(3) and None)
    assert seen.summary["log"][0][0] == 0.1  # resumed only at the next tick


# -- raising code -----------------------------------------------------------------------------
def test_a_raising_handler_restores_its_frame_and_reports_the_failure(on_both_links):
    def scenario(run):
        run.sim.run(2)
        run.mark()
        outcome = run.mesh()
        run.sim.run(2)
        return outcome, run.log()

    seen = on_both_links(RAISING_HANDLER_APP, scenario)
    assert Step("app->host", ("MESH", "ERROR"), ("YIELD", "SUCCESS")) in seen.steps
    assert seen.summary["faults"][0]["error"] == "ValueError: bad message"
    assert seen.result[0] == I.DELIVERED


@pytest.mark.parametrize("handler, ack", [('lambda f: "yes"', P.ERROR), ("lambda f: 0x0F", P.ERR_WRONG_PARAM),
                                            ("lambda f: 0x07", P.ERR_NO_SPACE)])
def test_what_a_handler_returns_is_its_final_status(on_both_links, handler, ack):
    def scenario(run):
        run.sim.run(2)
        run.mark()
        run.mesh()
        return run.steps()[-1]

    seen = on_both_links(f"""
        import microapp
        def setup():
            microapp.Mesh.listen()
            microapp.registerInterrupt(7, 4, {handler})   # bluenet's registerInterrupt()
    """, scenario)
    assert seen.result.b2m == ("MESH", P.ack_name(ack))


def test_a_raising_loop_is_a_fault_of_the_entry_and_the_app_goes_on(on_both_links):
    def scenario(run):
        run.sim.run(5)
        return run.log()

    seen = on_both_links(RAISING_LOOP_APP, scenario)
    assert seen.summary["faults"] == [{"time_ms": 200, "where": "loop", "error": "RuntimeError: tick two"}]
    assert seen.result[0] == "ok 1" and len(seen.result) >= 2  # the app ran on after the fault


def test_a_raising_setup_is_a_setup_fault(on_both_links):
    seen = on_both_links("""
        def setup():
            raise KeyError("config")
    """, lambda run: run.sim.run(1) and None)
    assert seen.summary["faults"][0]["where"] == "setup"
    assert "KeyError" in seen.summary["faults"][0]["error"]


def test_an_interrupt_without_a_handler_is_answered_not_found(on_both_links):
    def scenario(run):
        run.sim.run(2)
        run.mark()
        return run.mesh()

    seen = on_both_links("""
        from microapp import *
        def setup():
            m2b = getOutgoingMessagePayload()   # registered with the host, no handler in the app
            m2b[0], m2b[1], m2b[2] = 7, 2, 2    # MESH, REQUEST, LISTEN
            sendMessage(3)
    """, scenario)
    assert seen.steps[-1] == Step("app->host", ("MESH", "ERR_NOT_FOUND"), ("YIELD", "SUCCESS"))
