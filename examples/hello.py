"""The smallest microapp: a log line every tick, counting."""
import microapp

count = 0


def setup():
    print("hello from setup, stone", microapp.stone_id())


def loop():
    global count
    count += 1
    print("hello", count)
