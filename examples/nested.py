"""Interrupts that nest: a mesh handler makes more requests than one entry's budget allows, so
it is still running when the next message arrives. Its events file fills the context stack
(ERR_BUSY) and shows the host's gate holding back interrupts until a handler finishes."""
import microapp

depth = 0


def on_message(stone_id, data):
    global depth
    depth += 1
    print("handler", data, "depth", depth)
    for step in range(5):
        print("working on", data, step)
    print("done", data)
    depth -= 1


def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()


def loop():
    pass
