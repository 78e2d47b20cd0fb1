"""Microapps the control-flow tests share (indented: the tests dedent them)."""

MESH_APP = """
    from microapp import *
    def on_message(msg):
        print("Hello")
    def setup():
        Mesh.setIncomingMeshMsgHandler(on_message)
        Mesh.listen()
    def loop():
        pass
"""

# A handler of 6 requests: two entries (bluenet handles 4 an entry), so it stays open a tick.
LONG_HANDLER_APP = """
    from microapp import *
    def on_message(msg):
        print("start", msg.dataPtr)
        for i in range(4):
            print("step", msg.dataPtr, i)
        print("end", msg.dataPtr)
    def setup():
        Mesh.setIncomingMeshMsgHandler(on_message)
        Mesh.listen()
    def loop():
        print("loop")
"""

RAISING_HANDLER_APP = """
    from microapp import *
    def on_message(msg):
        print("about to fail")
        raise ValueError("bad message")
    def setup():
        Mesh.setIncomingMeshMsgHandler(on_message)
        Mesh.listen()
    def loop():
        print("loop", millis())
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

# A handler that outlives its entry's budget (6 requests, 4 an entry): it stays on the stack.
BUSY_HANDLER_APP = """
    from microapp import *
    def on_message(msg):
        for i in range(6):
            print("working", i)
    def setup():
        Mesh.setIncomingMeshMsgHandler(on_message)
        Mesh.listen()
"""
