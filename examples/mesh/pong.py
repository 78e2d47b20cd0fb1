"""Pong: answer every message with the same number."""
import microapp


def on_message(stone_id, data):
    print("ping from", stone_id, data.decode())
    microapp.mesh_send(b"pong" + data[4:], stone_id)


def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()
