"""The office's hub (stone 1): counts the stones it heard from each minute."""
from microapp import *

heard = {}


def on_message(msg):
    heard[msg.stoneId] = True


def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()


def loop():
    global heard
    if millis() % 60000 == 59000:
        print("heard", len(heard), "stones")
        heard = {}
