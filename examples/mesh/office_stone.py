"""An office stone: once a minute (at second 1 + its id mod 50), tell stone 1 it is alive."""
import microapp

me = 0


def setup():
    global me
    me = microapp.stone_id()


def loop():
    if microapp.millis() % 60000 == (1 + me % 50) * 1000:
        microapp.mesh_send(b"alive", 1)
