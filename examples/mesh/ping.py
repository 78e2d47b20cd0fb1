"""Ping: once a second, send a numbered ping to stone 2; log every answer."""
from microapp import *

sent = 0


def on_message(msg):
    print("pong from", msg.stoneId, msg.dataPtr.decode())


def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()


def loop():
    global sent
    if millis() % 1000 == 0:
        sent += 1
        Mesh.sendMeshMsg("ping%d" % sent, 2)
