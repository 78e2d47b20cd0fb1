"""Answer every mesh message: send the same bytes back to the stone that sent them."""
from microapp import *

received = 0


def on_message(msg):
    global received
    received += 1
    print("from", msg.stoneId, msg.dataPtr)
    Mesh.sendMeshMsg(msg.dataPtr, msg.stoneId)


def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
    print("echo ready on stone", Mesh.id())


def loop():
    if millis() % 10000 == 0:
        print("echoed", received, "so far")
