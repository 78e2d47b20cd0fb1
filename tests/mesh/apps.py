"""Microapps the mesh tests share."""

# Logs every message it hears; sends `SEND_EVERY` ms (0: never) to `TO` (0: all).
CHATTY = """
import microapp
TO = {to}
EVERY = {every}
n = 0
def on_message(sender, data):
    print("got", data.decode(), "from", sender)
def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()
def loop():
    global n
    t = microapp.millis()
    if EVERY and t and t % EVERY == 0:
        n += 1
        microapp.mesh_send("m%d" % n, TO)
"""

LISTENER = CHATTY.format(to=0, every=0)

CLOCK = """
import microapp
def loop():
    if microapp.millis() % 1000 == 0:
        print("at", microapp.millis())
"""

RAISING = """
import microapp
def on_message(sender, data):
    raise ValueError("bad message")
def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()
"""

HANGING = """
import microapp
def on_message(sender, data):
    while True:
        pass
def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()
"""

BROKEN_IMPORT = """
import microapp
raise RuntimeError("no config")
"""


def stones(*specs: str) -> str:
    return "\\n".join(specs)
