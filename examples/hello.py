"""The smallest microapp: a log line every tick, counting."""
from microapp import *

count = 0


def setup():
    Serial.println("hello from setup, stone %d" % Mesh.id())


def loop():
    global count
    count += 1
    print("hello", count)
