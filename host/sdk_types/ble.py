"""BLE: microapp_sdk_ble_t, two levels (handleRequestBle, RequestHandler.cpp:478-575): MAC and
scanning with bluenet's host-side filters (onDeviceScanned, InterruptHandler.cpp:175-280).
UUID_REGISTER, CENTRAL and PERIPHERAL are not modelled (ERR_NOT_IMPLEMENTED)."""
from __future__ import annotations

from host.device import Device
from host.interrupts import Registry, bluenet_result
from shared_buffers import protocol as P

# Advertisement data types (Bluetooth Core Supplement, part A, 1.1-1.2).
_AD_SERVICES_16 = (0x02, 0x03)
_AD_NAMES = (0x08, 0x09)


class Ble:
    def __init__(self, device: Device, registry: Registry) -> None:
        self.device = device
        self.registry = registry

    def handle(self, m2b: bytearray) -> int:
        kind = m2b[P.OFF_BLE_TYPE]
        if kind == P.BLE_SCAN:
            return self._scan(m2b)
        if kind == P.BLE_MAC:
            m2b[P.OFF_BLE_OWN_ADDR_TYPE] = 0  # public
            m2b[P.OFF_BLE_OWN_MAC:P.OFF_BLE_OWN_MAC + 6] = self.device.mac
            return P.SUCCESS
        if kind in (P.BLE_UUID_REGISTER, P.BLE_CENTRAL, P.BLE_PERIPHERAL):
            return P.ERR_NOT_IMPLEMENTED
        return P.ERR_UNDEFINED

    def _scan(self, m2b: bytearray) -> int:
        kind, device = m2b[P.OFF_BLE_SCAN_TYPE], self.device
        if kind == P.BLE_SCAN_REGISTER:
            return bluenet_result(self.registry.register((P.BLE << 8) | P.BLE_SCAN))
        if kind == P.BLE_SCAN_START:
            device.scanning = True
        elif kind == P.BLE_SCAN_STOP:
            device.scanning = False
        elif kind == P.BLE_SCAN_FILTER:
            ftype, v = m2b[P.OFF_BLE_FILTER_TYPE], P.OFF_BLE_FILTER_VALUE
            if ftype == P.BLE_FILTER_NAME:
                size = m2b[v]
                if size > P.BLE_NAME_MAX:
                    return P.ERR_TOO_LARGE
                value = bytes(m2b[P.OFF_BLE_FILTER_NAME:P.OFF_BLE_FILTER_NAME + size])
            elif ftype == P.BLE_FILTER_RSSI:
                value = bytes(m2b[v:v + 1])
            elif ftype == P.BLE_FILTER_MAC:
                value = bytes(m2b[v:v + 6])
            elif ftype == P.BLE_FILTER_SERVICE_16:
                value = bytes(m2b[v:v + 2])
            else:
                value = b""
            device.scan_filter = (ftype, value)
        else:
            return P.ERR_UNDEFINED
        return P.SUCCESS


def _ad_fields(data: bytes):
    i = 0
    while i + 1 < len(data):
        n = data[i]
        if n == 0 or i + 1 + n > len(data):
            return
        yield data[i + 1], data[i + 2:i + 1 + n]
        i += 1 + n


def passes(scan_filter: tuple[int, bytes], mac: bytes, rssi: int, data: bytes) -> bool:
    """bluenet's filter, applied before an advertisement becomes an interrupt."""
    ftype, value = scan_filter
    if ftype == P.BLE_FILTER_RSSI:
        limit = value[0] - 256 if value[0] > 127 else value[0]
        return rssi >= limit
    if ftype == P.BLE_FILTER_MAC:
        return mac == value
    if ftype == P.BLE_FILTER_NAME:
        return any(t in _AD_NAMES and v == value for t, v in _ad_fields(data))
    if ftype == P.BLE_FILTER_SERVICE_16:
        want = value[0] | value[1] << 8
        return any(t in _AD_SERVICES_16 and any(v[i] | v[i + 1] << 8 == want for i in range(0, len(v) - 1, 2))
                   for t, v in _ad_fields(data))
    return True


def interrupt(mac: bytes, rssi: int, data: bytes, address_type: int = 0) -> tuple[int, bytes] | None:
    """(interrupt id byte, bytes 2.. of b2m) for a scanned advertisement; None when bluenet
    drops it (more than 31 bytes of data)."""
    if len(data) > P.BLE_ADV_MAX:
        return None
    return P.BLE_SCAN, bytes((P.BLE_SCAN, P.BLE_SCAN_EVENT, address_type)) + mac[:6] + bytes(
        (rssi & 0xFF, len(data))) + data
