"""POWER_USAGE: microapp_sdk_power_usage_t (handleRequestPowerUsage, RequestHandler.cpp:903-909):
bluenet ignores the requested type and always answers STATE_POWER_USAGE, in mW (int32)."""
from __future__ import annotations

import struct

from shared_buffers import protocol as P

_I32 = struct.Struct("<i")


class PowerUsage:
    def __init__(self, world) -> None:
        self.world = world

    def handle(self, m2b: bytearray) -> int:
        _I32.pack_into(m2b, P.OFF_POWER_VALUE, self.world.load.power_mw())
        return P.SUCCESS
