"""A presence light: a sensor on pin 4 (high: someone is here) switches the light on pin 5 and
tells the neighbouring stones, whose lights come on too."""
import microapp

SENSOR = 4
LIGHT = 5


def light(on, why):
    microapp.digital_write(LIGHT, on)
    print("light", "on" if on else "off", why)


def on_sensor(pin, level):
    light(level, "presence" if level else "nobody here")
    microapp.mesh_send(b"P1" if level else b"P0")


def on_message(stone_id, data):
    if data[:1] == b"P":
        light(data[1:2] == b"1", "neighbour %d" % stone_id)


def setup():
    microapp.pin_mode(LIGHT, microapp.OUTPUT)
    microapp.on_pin_change(SENSOR, on_sensor)
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()
