"""Microapps the mesh tests share."""

# Logs every message it hears; sends every `every` ms (0: never) to `to` (0: all), with
# doNotRelay when `no_relay`.
CHATTY = """
from microapp import *
TO = {to}
EVERY = {every}
NO_RELAY = {no_relay}
n = 0
def on_message(msg):
    print("got", msg.dataPtr.decode(), "from", msg.stoneId)
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
def loop():
    global n
    t = millis()
    if EVERY and t and t % EVERY == 0:
        n += 1
        Mesh.sendMeshMsg("m%d" % n, TO, NO_RELAY)
"""


def chatty(to=0, every=1000, no_relay=False):
    return CHATTY.format(to=to, every=every, no_relay=no_relay)


LISTENER = chatty(every=0)

CLOCK = """
from microapp import *
def loop():
    if millis() % 1000 == 0:
        print("at", millis())
"""

RAISING = """
from microapp import *
def on_message(msg):
    raise ValueError("bad message")
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
"""

HANGING = """
from microapp import *
def on_message(msg):
    while True:
        pass
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
"""

BROKEN_IMPORT = """
from microapp import *
raise RuntimeError("no config")
"""
