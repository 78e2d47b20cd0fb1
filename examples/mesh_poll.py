"""Mesh send and receive by polling (crownstone-microapp's mesh example): no handler, so the SDK
keeps up to two messages for Mesh.available() / Mesh.readMeshMsg(); a third waiting one is
refused (ERR_NO_SPACE). Every second the app broadcasts its count."""
from microapp import *

sent = 0


def setup():
    Mesh.listen()


def loop():
    global sent
    while Mesh.available():
        msg = Mesh.readMeshMsg()
        print("from", msg.stoneId, msg.dataPtr)
    if millis() % 1000 == 0:
        sent += 1
        Mesh.sendMeshMsg(bytes((sent,)))
