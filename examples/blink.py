"""Blink LED1 (crownstone-microapp's blink example): on for 300 ms, off for 200 ms, with
bluenet's delay() (one yield per 100 ms tick)."""
from microapp import *


def setup():
    Serial.begin()
    pinMode(LED1_PIN, OUTPUT)


def loop():
    digitalWrite(LED1_PIN, HIGH)
    delay(300)
    digitalWrite(LED1_PIN, LOW)
    delay(200)
