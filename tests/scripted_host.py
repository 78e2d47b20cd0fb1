# A scripted host at buffer level, small enough to run inside the MicroPython VM: it drives the
# firmware runtime through ticks and mesh interrupts with bluenet's rules (ack every request,
# stop an entry after BUDGET requests, a YIELD is a final status whatever its ack, an interrupt
# ends with its final status in b2m and that ends the entry) and prints
# the (b2m type, b2m ack, m2b type, m2b ack) at every switch. Run the same script in CPython and
# in MicroPython: the traces must match. (This is a test harness, not the product's host.)
import struct

from firmware import microapp
from firmware.loader import load_app
from firmware.runtime import Runtime
from shared_buffers import protocol as P
from shared_buffers.buffers import new_buffer

APP = """
from microapp import *
def on_message(msg):
    Serial.println("from %d %s" % (msg.stoneId, msg.dataPtr))
    Serial.println("second line")
    Serial.println("third line")
    Serial.println("fourth line")
    Serial.println("fifth line")
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
def loop():
    Serial.println("Hello %d" % millis())
"""
BUDGET = 4  # bluenet's: four requests handled per entry
ENTRIES = ["tick", "tick", "tick", "mesh", "mesh", "tick", "tick", "tick"]


class Done(Exception):
    pass


m2b = new_buffer()
b2m = new_buffer()
trace = []
state = {"entry": -1, "used": 0, "call": 0, "irq": 0}


def show(direction):
    trace.append("%s %s/%s %s/%s" % (direction, P.type_name(b2m[0]), P.ack_name(b2m[1]),
                                     P.type_name(m2b[0]), P.ack_name(m2b[1])))


def next_entry():
    state["entry"] += 1
    if state["entry"] >= len(ENTRIES):
        raise Done()
    state["used"] = 0
    state["call"] += 1
    if ENTRIES[state["entry"]] == "tick":
        b2m[0] = P.CONTINUE
        b2m[1] = P.NO_REQUEST
        struct.pack_into("<BBHIBB", b2m, P.OFF_CALL_ID, state["call"], 2, 0, state["entry"] * 100, 0, 0)
    else:
        # bluenet's mesh READ interrupt: sub-type, stone id, options, size, data
        state["irq"] += 1
        data = b"m%d" % state["irq"]
        b2m[0] = P.MESH
        b2m[1] = P.REQUEST
        b2m[P.OFF_MESH_TYPE] = P.MESH_READ
        b2m[P.OFF_MESH_STONE] = 9
        b2m[P.OFF_MESH_OPTIONS] = 0
        b2m[P.OFF_MESH_SIZE] = len(data)
        b2m[P.OFF_MESH_DATA:P.OFF_MESH_DATA + len(data)] = data
        struct.pack_into("<BBHIBB", b2m, P.OFF_CALL_ID, state["call"], P.OFF_MESH_DATA + len(data),
                         state["irq"], state["entry"] * 100, 0, 0)


def host():
    # The yield primitive: everything the host does between the microapp's yield and its resume.
    show("app->host")
    if b2m[1] not in (P.NO_REQUEST, P.IN_PROGRESS, P.REQUEST):
        next_entry()  # the interrupt's final status (or ERR_BUSY): the entry ends
    elif m2b[0] == P.YIELD:
        m2b[1] = P.SUCCESS  # a hard yield, whatever its ack
        next_entry()
    elif m2b[1] == P.REQUEST:
        if m2b[0] == P.LOG:
            v = P.OFF_LOG_VALUE
            trace.append("  log " + bytes(m2b[v:v + m2b[P.OFF_LOG_SIZE]]).decode())
        if m2b[0] == P.MESH and m2b[P.OFF_MESH_TYPE] == P.MESH_READ_CONFIG:
            m2b[P.OFF_MESH_STONE] = 7
        m2b[1] = P.SUCCESS
        state["used"] += 1
        if state["used"] >= BUDGET:
            next_entry()
    else:
        raise AssertionError("neither a request nor a final status")
    show("host->app")


def main():
    runtime = Runtime(m2b, b2m, host, 1, ())
    setup, loop = load_app(APP)
    microapp.bind(runtime)
    next_entry()
    show("host->app")
    try:
        runtime.run(setup, loop)
    except Done:
        pass
    trace.append("busy_refused %d depth %d" % (runtime.busy_refused, runtime.depth))
    for line in trace:
        print(line)


main()
