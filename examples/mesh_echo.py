"""Answer every mesh message: send the same bytes back to the stone that sent them."""
import microapp

received = 0


def on_message(stone_id, data):
    global received
    received += 1
    print("from", stone_id, data)
    microapp.mesh_send(data, stone_id)


def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()
    print("echo ready on stone", microapp.stone_id())


def loop():
    if microapp.millis() % 10000 == 0:
        print("echoed", received, "so far")
