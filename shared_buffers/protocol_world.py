# The layouts of the types whose SDK objects a board imports at their first use (BLE in
# firmware/sdk_radio.py; the stone's world in firmware/sdk_world.py): an app that does not use
# them does not pay heap for these names. shared_buffers/protocol.py re-exports all of it under
# CPython (the host imports these from shared_buffers.protocol); each number is defined once,
# here or there, under protocol.py's section titles. Runs under MicroPython.
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):  # type: ignore[misc]
        return x


# -- SWITCH: microapp_sdk_switch_t, 4 bytes (structs.h:274-294, 526-547) ----------------------
OFF_SWITCH_TYPE = const(2)
OFF_SWITCH_VALUE = const(3)  # set: the value below; get: dimmer (bits 0-6) | relay (bit 7)
SWITCH_STRUCT = const(4)
SWITCH_SET = const(1)
SWITCH_GET = const(2)
SWITCH_OFF = const(0)
SWITCH_ON = const(100)
SWITCH_TOGGLE = const(0xFD)
SWITCH_BEHAVIOUR = const(0xFE)
SWITCH_SMART_ON = const(0xFF)

# -- SERVICE_DATA: microapp_sdk_service_data_t, 13 bytes (structs.h:554-565) ------------------
OFF_SERVICE_UUID = const(2)  # u16
OFF_SERVICE_SIZE = const(4)
OFF_SERVICE_DATA = const(5)
SERVICE_DATA_MAX = const(8)

# -- TWI: microapp_sdk_twi_t (structs.h) ------------------------------------------------------
OFF_TWI_TYPE = const(2)
OFF_TWI_ADDRESS = const(3)
OFF_TWI_FLAGS = const(4)
OFF_TWI_SIZE = const(5)
OFF_TWI_BUF = const(6)
TWI_READ = const(1)
TWI_WRITE = const(2)
TWI_INIT = const(3)
TWI_FLAG_STOP = const(1)
TWI_MAX = const(42)

# -- BLE: microapp_sdk_ble_t, two levels (structs.h:596-1001) ---------------------------------
OFF_BLE_TYPE = const(2)
BLE_SCAN = const(2)
BLE_MAC = const(5)
OFF_BLE_SCAN_TYPE = const(3)
BLE_SCAN_REGISTER = const(1)
BLE_SCAN_START = const(2)
BLE_SCAN_STOP = const(3)
BLE_SCAN_EVENT = const(4)
BLE_SCAN_FILTER = const(5)
# scan event: address type@4, MAC@5-10 (big-endian, as printed), rssi i8@11, size@12, data@13
OFF_BLE_ADDR_TYPE = const(4)
OFF_BLE_MAC = const(5)
OFF_BLE_RSSI = const(11)
OFF_BLE_SIZE = const(12)
OFF_BLE_DATA = const(13)
BLE_ADV_MAX = const(31)
# scan filter: type@4, then rssi i8@5 | mac[6]@5 | name size@5, name[31]@6 | service u16@5
OFF_BLE_FILTER_TYPE = const(4)
OFF_BLE_FILTER_VALUE = const(5)
BLE_FILTER_RSSI = const(1)
BLE_FILTER_MAC = const(2)
BLE_FILTER_NAME = const(3)
BLE_FILTER_SERVICE_16 = const(4)
BLE_NAME_MAX = const(31)
# MAC request: address type@3, MAC@4-9
OFF_BLE_OWN_MAC = const(4)

# -- POWER_USAGE (7 bytes), PRESENCE (11 bytes) -----------------------------------------------
OFF_POWER_TYPE = const(2)
OFF_POWER_VALUE = const(3)  # i32, milliwatts
OFF_PRESENCE_PROFILE = const(2)
OFF_PRESENCE_MASK = const(3)  # u64

# -- MESSAGE: type@2, size u16@3, data@5 ------------------------------------------------------
OFF_MESSAGE_TYPE = const(2)
OFF_MESSAGE_SIZE = const(3)
OFF_MESSAGE_DATA = const(5)
MESSAGE_REGISTER = const(1)
MESSAGE_SEND = const(2)
MESSAGE_RECEIVED = const(3)
MESSAGE_MAX = const(43)

# -- BLUENET_EVENT: type@2, event type u16@3, size u16@5, data@7 ------------------------------
OFF_EVENT_TYPE = const(2)
OFF_EVENT_EVENT_TYPE = const(3)
OFF_EVENT_SIZE = const(5)
OFF_EVENT_DATA = const(7)
EVENT_REGISTER = const(1)
EVENT_EVENT = const(2)
EVENT_MAX = const(41)

# -- the world's types: what the blocks above leave out (issue 9) ------------------------------
POWER_USAGE_POWER = const(1)  # the request's type; bluenet answers power in mW whatever it is
EVENT_MAX_TYPES = const(10)  # MICROAPP_MAX_BLUENET_EVENT_INTERRUPT_REGISTRATIONS (Controller.h:110)
