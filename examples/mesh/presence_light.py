"""A presence light: a sensor on BUTTON1 (attachInterrupt makes it a pull-up input; the sensor
pulls it low while someone is here) switches LED1 and tells the neighbouring stones (doNotRelay:
the ones in earshot only), whose lights follow."""
from microapp import *

SENSOR = BUTTON1_PIN
LIGHT = LED1_PIN


def light(on, why):
    digitalWrite(LIGHT, HIGH if on else LOW)
    print("light", "on" if on else "off", why)


def on_sensor():
    here = digitalRead(SENSOR) == LOW
    light(here, "presence" if here else "nobody here")
    Mesh.sendMeshMsg(b"P1" if here else b"P0", 0, True)


def on_message(msg):
    if msg.dataPtr[:1] == b"P":
        light(msg.dataPtr[1:2] == b"1", "neighbour %d" % msg.stoneId)


def setup():
    pinMode(LIGHT, OUTPUT)
    attachInterrupt(digitalPinToInterrupt(SENSOR), on_sensor, CHANGE)
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
