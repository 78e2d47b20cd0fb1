# The SDK's Mesh object (Mesh.cpp) but its id(), which microapp.py holds (_Lazy._mesh_id), and MeshMsg:
# re-exported by microapp.py and imported there at their first use, so an app that does not use
# the mesh does not pay its heap. Mesh serves the runtime bound in microapp.py (through its
# _request & co.), whichever app is running. Runs under MicroPython and CPython.
from firmware.microapp import _Lazy, registerInterrupt
from firmware.microapp import getOutgoingMessagePayload as _out
from shared_buffers import protocol as _P
_request, _state = _Lazy._request, _Lazy._state  # the SDK's private helpers (microapp.py)


class MeshMsg:
    def __init__(self, stoneId, data):
        self.stoneId = stoneId
        self.dataPtr = data
        self.dataSize = len(data)


def _mesh_interrupt(buf):
    msg = MeshMsg(buf[_P.OFF_MESH_STONE],
                  bytes(buf[_P.OFF_MESH_DATA:_P.OFF_MESH_DATA + min(buf[_P.OFF_MESH_SIZE], _P.MESH_MAX_DATA)]))
    state = _state()
    handler = state.get("mesh_handler")
    if handler is not None:
        handler(msg)
        return _P.SUCCESS
    buffer = state.setdefault("mesh_buffer", [None, None])  # MESH_MSG_BUFFER_LEN = 2
    for i in range(len(buffer)):
        if buffer[i] is None:
            buffer[i] = msg
            return _P.SUCCESS
    return _P.ERR_NO_SPACE


class Mesh:  # its one instance takes its name
    def listen(self):
        """Register for mesh messages; False if the host refused (a second listen: ERROR)."""
        if registerInterrupt(_P.MESH, _P.MESH_READ, _mesh_interrupt) != _P.SUCCESS:
            return False
        _out()[_P.OFF_MESH_TYPE] = _P.MESH_LISTEN
        return _request(_P.MESH, _P.OFF_MESH_TYPE + 1) == _P.SUCCESS

    def setIncomingMeshMsgHandler(self, handler):
        """handler(MeshMsg) runs for each message; without one they wait for readMeshMsg()."""
        _state()["mesh_handler"] = handler

    def available(self):
        buffer = _state().get("mesh_buffer")
        return bool(buffer) and (buffer[0] is not None or buffer[1] is not None)

    def readMeshMsg(self):
        """The next buffered message (the last slot first, as the SDK reads), or None."""
        buffer = _state().get("mesh_buffer") or ()
        for i in range(len(buffer) - 1, -1, -1):
            if buffer[i] is not None:
                msg, buffer[i] = buffer[i], None
                return msg
        return None

    def sendMeshMsg(self, data, stoneId=0, doNotRelay=False):
        """Send up to 7 bytes (more are cut, as the SDK does) to one stone or to all (0).
        Returns the host's ack (the real one returns nothing)."""
        if isinstance(data, str):
            data = data.encode()
        data = data[:_P.MESH_MAX_DATA]
        m2b = _out()
        m2b[_P.OFF_MESH_TYPE] = _P.MESH_SEND
        m2b[_P.OFF_MESH_STONE] = stoneId
        m2b[_P.OFF_MESH_OPTIONS] = _P.MESH_DO_NOT_RELAY if doNotRelay else 0
        m2b[_P.OFF_MESH_SIZE] = len(data)
        m2b[_P.OFF_MESH_DATA:_P.OFF_MESH_DATA + len(data)] = data
        return _request(_P.MESH, _P.OFF_MESH_DATA + len(data))


Mesh = Mesh()  # type: ignore[misc, assignment]
