# A scripted host at buffer level, small enough to run inside the MicroPython VM: it drives the
# firmware runtime through ticks and mesh interrupts with bluenet's rules (ack every request,
# stop an entry after BUDGET requests, an interrupt ends with its final status in b2m) and prints
# the (b2m type, b2m ack, m2b type, m2b ack) at every switch. Run the same script in CPython and
# in MicroPython: the traces must match. (This is a test harness, not the product's host.)
import struct

from firmware import microapp
from firmware.loader import load_app
from firmware.runtime import Runtime
from shared_buffers import protocol as P
from shared_buffers.buffers import new_buffer

APP = """
import microapp
def on_message(stone_id, data):
    print("from", stone_id, data)
    print("second line")
    print("third line")
def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()
def loop():
    print("Hello", microapp.millis())
"""
BUDGET = 2
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
        struct.pack_into("<BBBBHI", b2m, 0, P.CONTINUE, P.NO_REQUEST, state["call"], 4, 0,
                         state["entry"] * 100)
    else:
        state["irq"] += 1
        data = b"m%d" % state["irq"]
        struct.pack_into("<BBBBH", b2m, 0, P.MESH, P.REQUEST, state["call"], 2 + len(data), state["irq"])
        b2m[6] = P.MESH_RECEIVED
        b2m[7] = 9
        b2m[8:8 + len(data)] = data


def host():
    # The yield primitive: everything the host does between the microapp's yield and its resume.
    show("app->host")
    if b2m[1] not in (P.NO_REQUEST, P.IN_PROGRESS, P.REQUEST):
        next_entry()  # the interrupt's final status (or ERR_BUSY): the entry ends
    elif m2b[1] == P.REQUEST:
        if m2b[0] == P.LOG:
            trace.append("  log " + bytes(m2b[8:6 + m2b[3]]).decode())
        if m2b[0] == P.MESH and m2b[6] == P.MESH_OWN_ID:
            m2b[7] = 7
        m2b[1] = P.SUCCESS
        state["used"] += 1
        if state["used"] >= BUDGET:
            next_entry()
    else:
        m2b[1] = P.SUCCESS  # a hard yield
        next_entry()
    show("host->app")


def main():
    runtime = Runtime(m2b, b2m, host, 1)
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
