"""Microapps the control-flow tests share (indented: the tests dedent them)."""

MESH_APP = """
    import microapp
    def on_message(stone_id, data):
        print("Hello")
    def setup():
        microapp.on_mesh_message(on_message)
        microapp.mesh_listen()
    def loop():
        pass
"""

LONG_HANDLER_APP = """
    import microapp
    def on_message(stone_id, data):
        print("start", data)
        for i in range(4):
            print("step", data, i)
        print("end", data)
    def setup():
        microapp.on_mesh_message(on_message)
        microapp.mesh_listen()
    def loop():
        print("loop")
"""
