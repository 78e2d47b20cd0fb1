"""Interrupts that nest: a mesh handler makes more requests than one entry allows (bluenet
handles 4), so it is still running when the next message arrives. Its events file fills the
context stack (ERR_BUSY), after which bluenet's gate drops interrupts until a handler finishes
or the app yields (each drop reaches the app as a signal)."""
from microapp import *

depth = 0


def on_message(msg):
    global depth
    depth += 1
    print("handler", msg.dataPtr, "depth", depth)
    for step in range(5):
        print("working on", msg.dataPtr, step)
    print("done", msg.dataPtr)
    depth -= 1


def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()


def loop():
    pass
