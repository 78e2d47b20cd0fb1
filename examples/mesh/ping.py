"""Ping: once a second, send a numbered ping to stone 2; log every answer."""
import microapp

sent = 0


def on_message(stone_id, data):
    print("pong from", stone_id, data.decode())


def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()


def loop():
    global sent
    if microapp.millis() % 1000 == 0:
        sent += 1
        microapp.mesh_send("ping%d" % sent, 2)
