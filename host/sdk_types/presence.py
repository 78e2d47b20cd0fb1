"""PRESENCE: microapp_sdk_presence_t (handleRequestPresence, RequestHandler.cpp:911-937).
bluenet's CMD_GET_PRESENCE fills only profile 0, with the rooms anyone is in, and 0 for
profiles 1-7 (cs_PresenceHandler.cpp:106-111); limits.presence_per_profile=1 answers each
profile's own rooms instead (ours)."""
from __future__ import annotations

import struct

from shared_buffers import protocol as P

_U64 = struct.Struct("<Q")


class Presence:
    def __init__(self, world, per_profile: bool = False) -> None:
        self.world = world
        self.per_profile = per_profile

    def handle(self, m2b: bytearray) -> int:
        profile = m2b[P.OFF_PRESENCE_PROFILE]
        if profile >= P.PRESENCE_PROFILES:
            return P.ERR_OUT_OF_RANGE
        presence = self.world.presence
        if self.per_profile:
            mask = presence.mask(profile)
        else:
            mask = presence.mask() if profile == 0 else 0
        _U64.pack_into(m2b, P.OFF_PRESENCE_MASK, mask)
        return P.SUCCESS
