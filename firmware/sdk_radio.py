# The SDK's BLE objects: BLE and BleDevice (ArduinoBLE.cpp, BleDevice.cpp), re-exported by
# microapp.py and imported there at their first use: an app that does not scan does not pay
# their heap. They serve the runtime bound in microapp.py (through its _request & co.),
# whichever app is running. Runs under MicroPython and CPython.
from firmware.microapp import _Lazy, registerInterrupt
from firmware.microapp import getOutgoingMessagePayload as _out
from shared_buffers import protocol as _P
from shared_buffers import protocol_world as _W
_request, _state = _Lazy._request, _Lazy._state  # the SDK's private helpers (microapp.py)


# -- BleDevice (BleDevice.cpp) -----------------------------------------------------------------
class BleDevice:
    def __init__(self, mac, rssi, data, address_type=0):
        self._mac = mac
        self._rssi = rssi
        self._data = data
        self.addressType = address_type

    def address(self):
        return ":".join(["%02X" % b for b in self._mac])

    def rssi(self):
        return self._rssi

    def _fields(self):
        data, i = self._data, 0
        while i + 1 < len(data) and data[i] and i + 1 + data[i] <= len(data):
            yield data[i + 1], data[i + 2:i + 1 + data[i]]
            i += 1 + data[i]

    def hasLocalName(self):
        return self.localName() != ""

    def localName(self):
        for t, v in self._fields():
            if t == 0x08 or t == 0x09:
                return bytes(v).decode()
        return ""

    def hasAdvertisedServiceUuid(self, uuid):
        want = int(uuid, 16) if isinstance(uuid, str) else uuid
        for t, v in self._fields():
            if t == 0x02 or t == 0x03:
                for i in range(0, len(v) - 1, 2):
                    if v[i] | v[i + 1] << 8 == want:
                        return True
        return False

    def advertisementData(self):
        return bytes(self._data)


# -- BLE (ArduinoBLE.cpp) ---------------------------------------------------------------------
def _mac_text(mac):
    return ":".join(["%02X" % b for b in mac])


def _ble_scan_request(kind, used=_W.OFF_BLE_SCAN_TYPE + 1):
    m2b = _out()
    m2b[_W.OFF_BLE_TYPE] = _W.BLE_SCAN
    m2b[_W.OFF_BLE_SCAN_TYPE] = kind
    return _request(_P.BLE, used)


def _ble_interrupt(frame):
    state = _state()
    if frame[_W.OFF_BLE_SCAN_TYPE] != _W.BLE_SCAN_EVENT:
        return _P.ERR_UNDEFINED
    if not state.get("ble_scanning"):
        return _P.SUCCESS
    rssi = frame[_W.OFF_BLE_RSSI]
    size = min(frame[_W.OFF_BLE_SIZE], _W.BLE_ADV_MAX)
    device = BleDevice(bytes(frame[_W.OFF_BLE_MAC:_W.OFF_BLE_MAC + 6]), rssi - 256 if rssi > 127 else rssi,
                       bytes(frame[_W.OFF_BLE_DATA:_W.OFF_BLE_DATA + size]), frame[_W.OFF_BLE_ADDR_TYPE])
    state["ble_device"] = device
    handler = state.get("ble_handler")
    if handler is not None:
        handler(device)
    return _P.SUCCESS


class _Ble:
    def begin(self):
        """Asks the host for this stone's MAC; False if refused."""
        m2b = _out()
        m2b[_W.OFF_BLE_TYPE] = _W.BLE_MAC
        if _request(_P.BLE, _W.OFF_BLE_OWN_MAC + 6) != _P.SUCCESS:
            return False
        _state()["ble_mac"] = bytes(m2b[_W.OFF_BLE_OWN_MAC:_W.OFF_BLE_OWN_MAC + 6])
        return True

    def end(self):
        self.stopScan()
        _state().pop("ble_mac", None)

    def address(self):
        return _mac_text(_state().get("ble_mac", b""))

    def _register_scan(self):
        state = _state()
        if state.get("ble_registered"):
            return True
        key = (_P.BLE << 8) | _W.BLE_SCAN
        if registerInterrupt(_P.BLE, _W.BLE_SCAN, _ble_interrupt) != _P.SUCCESS:
            return False
        if _ble_scan_request(_W.BLE_SCAN_REGISTER) != _P.SUCCESS:
            del _state(True)[key]
            return False
        state["ble_registered"] = True
        return True

    def setEventHandler(self, event_type, handler):
        """handler(BleDevice) for BLEDeviceScanned (connections are not modelled: False)."""
        if event_type != 1 or not self._register_scan():  # BLEDeviceScanned (host/sdk_constants.py)
            return False
        _state()["ble_handler"] = handler
        return True

    def scan(self, withDuplicates=False):
        state = _state()
        if "ble_mac" not in state:  # BLE.begin() first, as in the real SDK
            return False
        state.pop("ble_device", None)
        if state.get("ble_scanning"):
            return True
        if not self._register_scan() or _ble_scan_request(_W.BLE_SCAN_START) != _P.SUCCESS:
            return False
        state["ble_scanning"] = True
        return True

    def _filter(self, ftype, value, withDuplicates):
        if "ble_mac" not in _state():
            return False
        m2b = _out()
        m2b[_W.OFF_BLE_FILTER_TYPE] = ftype
        m2b[_W.OFF_BLE_FILTER_VALUE:_W.OFF_BLE_FILTER_VALUE + len(value)] = value
        if _ble_scan_request(_W.BLE_SCAN_FILTER, _W.OFF_BLE_FILTER_VALUE + len(value)) != _P.SUCCESS:
            return False
        return self.scan(withDuplicates)

    def scanForName(self, name, withDuplicates=False):
        name = name.encode()[:_W.BLE_NAME_MAX]
        return self._filter(_W.BLE_FILTER_NAME, bytes((len(name),)) + name, withDuplicates)

    def scanForAddress(self, address, withDuplicates=False):
        return self._filter(_W.BLE_FILTER_MAC, bytes.fromhex(address.replace(":", "")), withDuplicates)

    def scanForUuid(self, uuid, withDuplicates=False):
        u = int(uuid, 16) if isinstance(uuid, str) else uuid
        return self._filter(_W.BLE_FILTER_SERVICE_16, bytes((u & 0xFF, u >> 8)), withDuplicates)

    def scanForRssi(self, rssi, withDuplicates=False):
        """Ours: bluenet's RSSI filter, which the real SDK has no wrapper for."""
        return self._filter(_W.BLE_FILTER_RSSI, bytes((rssi & 0xFF,)), withDuplicates)

    def stopScan(self):
        state = _state()
        if "ble_mac" not in state:
            return False
        if not state.get("ble_scanning"):
            return True
        state.pop("ble_device", None)
        if _ble_scan_request(_W.BLE_SCAN_STOP) != _P.SUCCESS:
            return False
        state["ble_scanning"] = False
        return True

    def available(self):
        """The last scanned device (None when none since scan())."""
        return _state().get("ble_device")


BLE = _Ble()
