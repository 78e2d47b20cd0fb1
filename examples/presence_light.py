"""A presence light: the light goes on when someone is in the kitchen (room 3) and off two
minutes after the kitchen is empty. bluenet keeps a room occupied for 10 s after the last phone
left it, and knows nothing of presence in its first 30 s of uptime."""
from microapp import *

ROOM = 3
OFF_AFTER_MS = 120_000
last_seen = None  # when the room was last seen occupied (ms); None: not since the light went off


def setup():
    CrownstoneSwitch.turnOff()


def loop():
    global last_seen
    now = millis()
    if Presence.isPresent(0, ROOM):
        if last_seen is None:
            CrownstoneSwitch.turnOn()
            print("someone in the kitchen: light on")
        last_seen = now
    elif last_seen is not None and now - last_seen >= OFF_AFTER_MS:
        CrownstoneSwitch.turnOff()
        print("kitchen empty for two minutes: light off")
        last_seen = None
    delay(1000)
