"""A button interrupt (crownstone-microapp's interrupt example): each press of BUTTON1 toggles
LED1. attachInterrupt() makes the pin an INPUT_PULLUP, so a press pulls it low: FALLING.
bluenet latches a pin's edges and delivers at most one interrupt per pin per tick."""
from microapp import *

presses = 0


def pressed():
    global presses
    presses += 1
    digitalWrite(LED1_PIN, presses % 2)
    print("press", presses)


def setup():
    pinMode(LED1_PIN, OUTPUT)
    if not attachInterrupt(digitalPinToInterrupt(BUTTON1_PIN), pressed, FALLING):
        print("no interrupt for the button")


def loop():
    pass
