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

RAISING_HANDLER_APP = """
    import microapp
    def on_message(stone_id, data):
        print("about to fail")
        raise ValueError("bad message")
    def setup():
        microapp.on_mesh_message(on_message)
        microapp.mesh_listen()
    def loop():
        print("loop", microapp.millis())
"""

RAISING_LOOP_APP = """
    n = 0
    def loop():
        global n
        n += 1
        if n == 2:
            raise RuntimeError("tick two")
        print("ok", n)
"""

# A handler that outlives its entry's budget (5 requests, budget 3): it stays on the stack.
BUSY_HANDLER_APP = """
    import microapp
    def on_message(stone_id, data):
        for i in range(5):
            print("working", i)
    def setup():
        microapp.on_mesh_message(on_message)
        microapp.mesh_listen()
"""
