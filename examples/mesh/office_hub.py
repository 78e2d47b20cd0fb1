"""The office's hub (stone 1): counts the stones it heard from each minute."""
import microapp

heard = {}


def on_message(stone_id, data):
    heard[stone_id] = True


def setup():
    microapp.on_mesh_message(on_message)
    microapp.mesh_listen()


def loop():
    global heard
    if microapp.millis() % 60000 == 59000:
        print("heard", len(heard), "stones")
        heard = {}
