"""MESH: microapp_sdk_mesh_t (handleRequestMesh, RequestHandler.cpp:831-901) and the READ
interrupt (onReceivedMeshMessage, InterruptHandler.cpp:286-318)."""
from __future__ import annotations

from host.device import Device
from host.interrupts import Registry, bluenet_result
from shared_buffers import protocol as P

_D = P.OFF_MESH_DATA


class Mesh:
    def __init__(self, device: Device, registry: Registry) -> None:
        self.device = device
        self.registry = registry

    def handle(self, m2b: bytearray) -> int:
        kind = m2b[P.OFF_MESH_TYPE]
        if kind == P.MESH_SEND:
            size = m2b[P.OFF_MESH_SIZE]
            if size == 0:
                return P.ERR_EMPTY
            if size > P.MESH_MAX_DATA:
                return P.ERR_TOO_LARGE
            queued = self.device.send_mesh(m2b[P.OFF_MESH_STONE], bytes(m2b[_D:_D + size]),
                                           bool(m2b[P.OFF_MESH_OPTIONS] & P.MESH_DO_NOT_RELAY))
            return P.ERR_BUSY if queued is False else P.SUCCESS  # a mesh's full queue: ERR_BUSY
        if kind == P.MESH_LISTEN:
            return bluenet_result(self.registry.register((P.MESH << 8) | P.MESH_READ))
        if kind == P.MESH_READ_CONFIG:
            m2b[P.OFF_MESH_STONE] = self.device.stone_id
            return P.SUCCESS
        return P.ERR_UNDEFINED


def interrupt(sender: int, data: bytes) -> tuple[int, bytes]:
    """(interrupt id byte, bytes 2.. of b2m) for a received message; options are not written."""
    data = data[:P.MESH_MAX_DATA]
    return P.MESH_READ, bytes((P.MESH_READ, sender & 0xFF, 0, len(data))) + data
