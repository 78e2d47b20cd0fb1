"""An I2C thermostat: a TMP102 at 0x48 reads the room; the heater on the outlet keeps it
between 20.5 and 21.5 degrees C. The TMP102's temperature register holds 12 bits of 1/16 C."""
from microapp import *

SENSOR = 0x48
LOW, HIGH = 20.5, 21.5


def celsius():
    Wire.beginTransmission(SENSOR)
    Wire.write(0)  # the pointer register: temperature
    Wire.requestFrom(SENSOR, 2)
    raw = (Wire.read() << 8 | Wire.read()) >> 4
    return (raw - 4096 if raw & 0x800 else raw) / 16


def setup():
    Wire.begin()


def loop():
    t = celsius()
    if t < LOW and CrownstoneSwitch.isOff():
        CrownstoneSwitch.turnOn(False)
        print("heating at", t)
    elif t > HIGH and CrownstoneSwitch.isOn():
        CrownstoneSwitch.turnOff()
        print("warm enough at", t)
    delay(5000)
