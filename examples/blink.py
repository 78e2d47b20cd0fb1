"""Blink an LED on pin 17: on for 300 ms, off for 200 ms, with delay()."""
import microapp

LED = 17


def setup():
    microapp.pin_mode(LED, microapp.OUTPUT)


def loop():
    microapp.digital_write(LED, microapp.HIGH)
    microapp.delay(300)
    microapp.digital_write(LED, microapp.LOW)
    microapp.delay(200)
