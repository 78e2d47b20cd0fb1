"""ASSETS: microapp_sdk_asset_t (handleRequestAsset, RequestHandler.cpp:1020-1035) and the EVENT
interrupt (onAssetAccepted, InterruptHandler.cpp:552-571), for an asset the timeline passes by."""
from __future__ import annotations

from host.interrupts import Registry, bluenet_result
from shared_buffers import protocol as P

KEY = (P.ASSETS << 8) | P.ASSET_EVENT


class Assets:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def handle(self, m2b: bytearray) -> int:
        if m2b[P.OFF_ASSET_TYPE] == P.ASSET_REGISTER:
            return bluenet_result(self.registry.register(KEY))
        return P.ERR_NOT_FOUND


def interrupt(f: dict) -> tuple[int, bytes]:
    """(interrupt id byte, bytes 2.. of b2m): type@2, asset id[3]@3, rssi@6, channel@7,
    profile@8, filter@9, address type@10, MAC[6]@11 (in the order it is written, as BLE's)."""
    out = bytearray(P.ASSET_STRUCT - 2)
    out[0] = P.ASSET_EVENT
    out[P.OFF_ASSET_ID - 2:P.OFF_ASSET_ID + 1] = f["id"]
    out[P.OFF_ASSET_RSSI - 2] = f["rssi"] & 0xFF
    out[P.OFF_ASSET_CHANNEL - 2] = f["channel"]
    out[P.OFF_ASSET_PROFILE - 2] = f["profile"]
    out[P.OFF_ASSET_FILTER - 2] = f["filter"]
    out[P.OFF_ASSET_ADDR_TYPE - 2] = f["address_type"]
    out[P.OFF_ASSET_MAC - 2:P.OFF_ASSET_MAC + 4] = f["mac"]
    return P.ASSET_EVENT, bytes(out)
