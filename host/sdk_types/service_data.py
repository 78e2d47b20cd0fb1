"""SERVICE_DATA: microapp_sdk_service_data_t (handleRequestServiceData, RequestHandler.cpp:408-427):
up to 8 bytes advertised under the app's UUID (CMD_MICROAPP_ADVERTISE)."""
from __future__ import annotations

from shared_buffers import protocol as P

_D = P.OFF_SERVICE_DATA


class ServiceData:
    def __init__(self, world) -> None:
        self.world = world

    def handle(self, m2b: bytearray) -> int:
        size = m2b[P.OFF_SERVICE_SIZE]
        if size > P.SERVICE_DATA_MAX:
            return P.ERR_TOO_LARGE
        uuid = m2b[P.OFF_SERVICE_UUID] | m2b[P.OFF_SERVICE_UUID + 1] << 8
        self.world.advertise(uuid, bytes(m2b[_D:_D + size]))
        return P.SUCCESS
