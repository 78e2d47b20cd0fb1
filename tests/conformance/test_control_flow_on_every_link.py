"""Seed 004's control flow on every link: the same app and the same events give the same switch
by switch sequence of message types and acks, the same log and the same summary, whether the app
runs in a greenlet or on the (virtual) board behind the serial link (conftest.on_both_links).
The diagrams' steps are also checked as written."""
import pytest

from host import interrupts as I
from host.limits import Limits
from host.trace import Step
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
@pytest.mark.parametrize("depth", [3, 2])
def test_interrupts_nest_up_to_the_stack_depth_then_err_busy(on_both_links, depth):
    def scenario(run):
        run.sim.run(2)
        outcomes = [run.mesh(bytes([65 + i])) for i in range(depth)]
        open_contexts = len(run.sim.controller.contexts)
        run.sim.step()  # a new tick resets the throttle; the handlers are still open
        outcomes.append(run.mesh(b"D"))
        run.sim.run(10)
        return outcomes, open_contexts, run.log(), run.sim.controller.contexts

    seen = on_both_links(LONG_HANDLER_APP, scenario, Limits(stack_depth=depth))
    outcomes, open_contexts, log, contexts_after = seen.result
    assert outcomes == [I.DELIVERED] * depth + [I.BUSY]
    assert open_contexts == depth and contexts_after == []
    ends = [t for t in log if t.startswith("end")]
    assert ends == [f"end b'{chr(65 + i)}'" for i in reversed(range(depth))]  # innermost first
    assert not any("D" in t for t in log) and log[-1] == "loop"


# -- throttle ---------------------------------------------------------------------------------
def test_the_throttle_allows_n_interrupts_per_registration_per_tick(on_both_links):
    def scenario(run):
        run.sim.run(2)
        first = [run.mesh() for _ in range(5)]
        pin = run.sim.controller.interrupt(P.PIN, 4, bytes((P.PIN_EVENT, 4, 1)))
        run.sim.step()
        return first, pin, run.mesh()

    seen = on_both_links(MESH_APP, scenario)
    assert seen.result == ([I.DELIVERED] * 3 + [I.THROTTLED] * 2, I.NOT_REGISTERED, I.DELIVERED)
    assert seen.summary["interrupts"]["throttled"] == 2


# -- fuel budget ------------------------------------------------------------------------------
def test_the_budget_stops_the_entry_and_it_resumes_at_the_next_one(on_both_links):
    def scenario(run):
        run.sim.run(3)
        return run.sim.device.log

    seen = on_both_links("""
        def loop():
            for i in range(5):
                print("line", i)
    """, scenario)
    assert seen.result == [(100, "line 0"), (100, "line 1"), (100, "line 2"),
                           (200, "line 3"), (200, "line 4")]


def test_an_interrupt_also_resumes_a_budget_stopped_context_only_at_its_own_entry(on_both_links):
    def scenario(run):
        run.sim.run(2)
        before = len(run.log())
        outcome = run.mesh()
        after_interrupt = len(run.log())
        run.sim.step()
        return before, outcome, after_interrupt, run.log()[-1]

    seen = on_both_links("""
        import microapp
        def setup():
            microapp.on_mesh_message(lambda s, d: None)
            microapp.mesh_listen()
        def loop():
            for i in range(4):
                print("line", i)
    """, scenario)
    assert seen.result == (3, I.DELIVERED, 3, "line 3")


def test_linear_costs_charge_by_payload_bytes(on_both_links):
    def scenario(run):
        run.sim.run(3)
        return run.sim.device.log, run.sim.controller.fuel_used

    seen = on_both_links("""
        def loop():
            print("12345678")
            print("ab")
    """, scenario, Limits(entry_budget=10).with_overrides(["cost.LOG=1,1"]))
    assert seen.result == ([(100, "12345678"), (200, "ab")], 11 + 5)  # 2 + 8 payload bytes: over at once


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
    (P.LOG, b"\x00\x01hi", 49, P.ERR_TOO_LARGE),                    # length past the payload: 54 bytes travel
    (P.LOG, b"\x00\x01hi", 255, P.ERR_TOO_LARGE),
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
def test_malformed_requests_get_an_error_ack_and_the_app_goes_on(on_both_links, msg_type, payload,
                                                                   length, ack):
    def scenario(run):
        run.sim.run(3)
        return run.log()

    seen = on_both_links(RAW_REQUEST_APP.format(n=len(payload), payload=payload, msg_type=msg_type,
                                                length=length), scenario)
    assert f"ack {ack}" in seen.result
    assert seen.summary["faults"] == [] and seen.summary["enabled"] and seen.summary["host_errors"] == 0


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


@pytest.mark.parametrize("handler, ack", [('lambda s, d: "yes"', P.ERROR), ("lambda s, d: 0x0F", P.ERR_WRONG_PARAM)])
def test_what_a_handler_returns_is_its_final_status(on_both_links, handler, ack):
    def scenario(run):
        run.sim.run(2)
        run.mark()
        run.mesh()
        return run.steps()[-1]

    seen = on_both_links(f"""
        import microapp
        def setup():
            microapp.on_mesh_message({handler})
            microapp.mesh_listen()
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
        import microapp
        def setup():
            microapp.mesh_listen()   # registered with the host, no handler in the app
    """, scenario)
    assert seen.steps[-1] == Step("app->host", ("MESH", "ERR_NOT_FOUND"), ("YIELD", "SUCCESS"))
