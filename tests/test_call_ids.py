"""Call ids (seeds 000 and 001) at buffer level: a firmware stand-in that misbehaves in each way
the protocol forbids, and the host's answer. Ids are scoped to their entry; a message naming the
wrong context, or a request where a final status must be, is a protocol violation: the app is
faulted and never resumed again (in the wrong place or anywhere). A request is never taken as a
final status."""
import pytest

from host import interrupts as I
from host.events import Event
from host.sdk_types import mesh
from host.simulator import Simulation
from shared_buffers import protocol as P
from tests.firmware_standin import StandIn, accept, answer, final, log_request, request, setup_done

# A mesh message from stone 2 (bluenet's READ interrupt), and its registration's sub-id.
MESH_READ, MESH_EVENT = mesh.interrupt(2, b"x")


def listen(fw):
    request(fw, P.MESH, bytes((P.MESH_LISTEN,)))


def started(*steps):
    """A stand-in that listens for mesh messages in setup(), then runs `steps`; tick 0 done."""
    fw = StandIn(listen, setup_done, *steps)
    sim = Simulation(None, link=fw)
    sim.step()
    assert sim.controller.enabled and fw.resumes == 2
    return sim, fw


def assert_stopped(sim, fw, error):
    """One protocol fault with this text; the app is never resumed again."""
    c = sim.controller
    assert [(f["where"], f["error"]) for f in c.faults] == [("protocol", error)]
    assert not c.enabled
    resumes, left = fw.resumes, len(fw.steps)
    sim.run(5)
    assert c.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.NOT_REGISTERED
    assert (fw.resumes, len(fw.steps)) == (resumes, left)


# -- ids from another entry -------------------------------------------------------------------
def test_a_request_naming_an_earlier_entrys_id_is_rejected_and_not_executed():
    sim, fw = started(lambda fw: log_request(fw, call_id=fw.entry_ids[-2]), final)
    sim.step()
    old, new = fw.entry_ids[-2], fw.entry_ids[-1]
    assert old != new
    assert_stopped(sim, fw, f"request from call id {old} in entry {new}")
    assert sim.device.log == []  # the LOG was never executed
    assert sim.controller.requests[P.LOG] == 0


def test_a_final_status_naming_an_earlier_entrys_id_is_rejected():
    sim, fw = started(lambda fw: final(fw, call_id=fw.entry_ids[-2]))
    sim.step()
    assert_stopped(sim, fw, f"final status from call id {fw.entry_ids[-2]} in entry {fw.entry_ids[-1]}")


def test_ids_are_fresh_per_entry_and_the_right_one_is_accepted_across_the_wrap():
    # 300 entries: ids run 1..255 and wrap; each message names its own entry and is accepted
    sim, fw = started(*[log_request if i % 2 == 0 else final for i in range(600)])
    sim.run(300)
    assert sim.controller.faults == [] and sim.controller.enabled
    ids = fw.entry_ids[2::2]  # the id each tick's entry carried
    assert all(a % 255 + 1 == b for a, b in zip(ids, ids[1:]))
    assert len(sim.device.log) == 300


# -- the wrong context ------------------------------------------------------------------------
def test_a_handler_speaking_with_the_main_contexts_id_is_rejected():
    # the interrupt is taken, but the request carries the id the main context had in the last tick
    sim, fw = started(lambda fw: (accept(fw), log_request(fw, call_id=fw.entry_ids[-2])))
    sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT)
    assert_stopped(sim, fw, f"request from call id {fw.entry_ids[-2]} in entry {fw.entry_ids[-1]}")
    # the event the app had taken is aborted with a signal, not lost
    assert list(sim.controller.signals.pending) == [(P.SIG_APP_FAULT, 1)]


def test_a_final_status_for_another_interrupt_is_rejected():
    sim, fw = started(lambda fw: answer(fw, P.SUCCESS, irq=7))
    assert sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.ABORTED
    assert_stopped(sim, fw, "final status for interrupt 7, expected 1")


def test_an_interrupt_answer_with_an_earlier_entrys_id_is_rejected():
    sim, fw = started(lambda fw: answer(fw, P.SUCCESS, call_id=fw.entry_ids[-2]))
    sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT)
    assert_stopped(sim, fw, f"interrupt answer from call id {fw.entry_ids[-2]} in entry {fw.entry_ids[-1]}")


def test_loop_ending_where_the_open_handler_should_have_run_is_rejected():
    # bluenet's old bug: with a handler open, the tick must resume the handler; here the main
    # context answers instead (with the right id), as if loop() had run in its place
    # (four requests: bluenet's budget per entry)
    sim, fw = started(lambda fw: (accept(fw), log_request(fw)), log_request, log_request, log_request,
                      lambda fw: final(fw, P.YIELD_LOOP))
    assert sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.DELIVERED
    assert sim.controller.contexts == [1]  # the handler spent the entry's budget: still open
    sim.step()
    assert_stopped(sim, fw, "loop() ended while the handler of interrupt 1 was being serviced")
    assert list(sim.controller.signals.pending) == [(P.SIG_APP_FAULT, 1)]


# -- requests and final statuses --------------------------------------------------------------
def test_a_request_left_where_the_interrupts_final_status_must_be_is_rejected():
    # the app leaves b2m as the host wrote it (ack REQUEST) and sends a request in m2b
    sim, fw = started(log_request)
    assert sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.ABORTED
    assert_stopped(sim, fw, "interrupt answered REQUEST")
    assert sim.device.log == []


def test_a_yield_is_a_final_status_whatever_its_ack():
    # Was: a YIELD with ack REQUEST was answered as a malformed request and the app resumed.
    # bluenet's rule (cs_MicroappController.cpp, handleRequest: YIELD stops the entry whatever
    # the ack) now holds: it is the main context's final status, and the entry ends there.
    acks = []
    sim, fw = started(lambda fw: final(fw, P.YIELD_LOOP, ack=P.REQUEST),
                      lambda fw: (acks.append(fw.m2b[P.OFF_ACK]), log_request(fw)),
                      final)
    sim.step()
    assert fw.resumes == 3  # the YIELD ended the entry
    sim.step()
    assert acks == [P.SUCCESS]  # the host acked the hard yield
    assert fw.resumes == 5
    assert sim.controller.enabled and sim.controller.faults == []
    assert [text for _, text in sim.device.log] == ["hi"]


@pytest.mark.parametrize("ack", [P.IN_PROGRESS, P.SUCCESS, P.ERROR])
def test_a_final_status_with_any_ack_is_taken(ack):
    # Was: "final status with ack IN_PROGRESS" was a protocol violation. bluenet takes a YIELD
    # whatever its ack (and an error ack is not an exception: that is FLAG_RAISED in the trailer).
    sim, fw = started(log_request, lambda fw: final(fw, P.YIELD_LOOP, ack=ack))
    sim.step()
    assert sim.controller.enabled and sim.controller.faults == []


@pytest.mark.parametrize("leave, error", [
    # a stale message: the request the host already acked, left as it was
    (lambda fw: None, "yielded without a request or final status: LOG/SUCCESS call={id} irq=0 used=7"),
    (lambda fw: final(fw, 9), "final status with YIELD sub-type 9"),
])
def test_a_message_that_is_neither_request_nor_final_status_is_rejected(leave, error):
    sim, fw = started(log_request, leave)
    sim.step()
    assert_stopped(sim, fw, error.format(id=fw.entry_ids[-1]))


def test_a_handler_may_delay_but_not_end_the_main_context():
    # delay() inside a handler is a hard yield (ASYNC) of the handler's context: allowed
    sim, fw = started(lambda fw: (accept(fw), final(fw, P.YIELD_ASYNC)), lambda fw: answer(fw, irq=1), final)
    assert sim.controller.interrupt(P.MESH, MESH_READ, MESH_EVENT) == I.DELIVERED
    sim.step()  # the tick resumes the handler, which finishes; then the main context's loop()
    assert sim.controller.faults == [] and sim.controller.contexts == []


def test_the_real_runtime_never_trips_the_checks_with_nesting_busy_and_wrapping_ids():
    app = """
from microapp import *
def on_message(msg):
    for i in range(8):
        Serial.println("step %s %d" % (msg.dataPtr, i))
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
def loop():
    Serial.println("loop")
"""
    events = [Event(t, "mesh", sender, b"m") for t in range(50, 30000, 100) for sender in (2, 3, 4)]
    sim = Simulation(app, events)
    summary = sim.run(300)
    assert summary["faults"] == [] and summary["enabled"]
    assert summary["entries"] > 600  # ids wrapped more than twice
    assert summary["interrupts"]["busy"] > 0 and summary["interrupts"]["gated"] > 0
