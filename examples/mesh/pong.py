"""Pong: answer every message with the same number."""
from microapp import *


def on_message(msg):
    print("ping from", msg.stoneId, msg.dataPtr.decode())
    Mesh.sendMeshMsg(b"pong" + msg.dataPtr[4:], msg.stoneId)


def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
