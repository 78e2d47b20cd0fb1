"""An office stone: once a minute (at second 1 + its id mod 50), tell stone 1 it is alive."""
from microapp import *

me = 0


def setup():
    global me
    me = Mesh.id()


def loop():
    if millis() % 60000 == (1 + me % 50) * 1000:
        Mesh.sendMeshMsg(b"alive", 1)
