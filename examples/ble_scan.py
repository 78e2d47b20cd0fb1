"""A BLE scan with a name filter (crownstone-microapp's BLE example): bluenet applies the filter,
the app sees only advertisements with the local name "crownstone"."""
from microapp import *

seen = 0


def scanned(device):
    global seen
    seen += 1
    print(device.address(), device.rssi(), device.localName())


def setup():
    BLE.begin()
    BLE.setEventHandler(BLEDeviceScanned, scanned)
    print("scanning", BLE.scanForName("crownstone"))


def loop():
    if millis() == 3000:
        BLE.stopScan()
        print("seen", seen)
