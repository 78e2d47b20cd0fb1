# The part of the contract only the host reads: shared_buffers/protocol.py re-exports all of it
# under CPython, so host code imports these from shared_buffers.protocol like every other name.
# The board never loads this module (its heap would pay for every name); the firmware's numbers
# stay in protocol.py. Each number is defined once, here or there, under the same section titles.

from shared_buffers.protocol import TYPE_COUNT

# -- message types (byte 0) and acks (byte 1), structs.h:82-163 -----------------------------
NONE = 0x00
CONTROL_COMMAND = 0x0A
ERR_NOT_IMPLEMENTED = 0x08
ERR_OUT_OF_RANGE = 0x0A
ERR_DISABLED = 0x0B
ERR_EMPTY = 0x0C
ERR_TOO_LARGE = 0x0D
ERR_ALREADY_EXISTS = 0x0E
ERR_WRONG_PARAM = 0x0F
ERR_TIMEOUT = 0x10

# -- PIN: microapp_sdk_pin_t, 8 bytes (structs.h:225-272, 499-522) ----------------------------
PIN_GPIO0 = 0
PIN_BUTTON1 = 10
PIN_LED1 = 14

# -- BLE: microapp_sdk_ble_t, two levels (structs.h:596-1001) ---------------------------------
BLE_NONE = 0
BLE_UUID_REGISTER = 1
BLE_CENTRAL = 3
BLE_PERIPHERAL = 4
OFF_BLE_FILTER_NAME = 6
BLE_FILTER_NONE = 0
OFF_BLE_OWN_ADDR_TYPE = 3

# -- POWER_USAGE (7 bytes), PRESENCE (11 bytes) -----------------------------------------------
PRESENCE_PROFILES = 8

# -- CONTROL_COMMAND: protocol@2, type u16@3, size u16@5, payload@7 ---------------------------
OFF_CONTROL_PROTOCOL = 2
OFF_CONTROL_TYPE = 3
OFF_CONTROL_SIZE = 5
OFF_CONTROL_PAYLOAD = 7
CONTROL_MAX = 41

# -- ASSETS: type@2, asset id[3]@3, rssi@6, channel@7, profile@8, filter@9, addr type@10, MAC@11
OFF_ASSET_TYPE = 2
ASSET_REGISTER = 1
ASSET_EVENT = 2
ASSET_STRUCT = 17

# -- the world's types: what the blocks above leave out (issue 9) ------------------------------
POWER_USAGE_CURRENT = 2
POWER_USAGE_VOLTAGE = 3
POWER_STRUCT = 7
PRESENCE_STRUCT = 11
SERVICE_DATA_STRUCT = 13
CONTROL_PROTOCOL = 5  # CS_CONNECTION_PROTOCOL_VERSION (cs_Config.h:23)
OFF_ASSET_ID = 3      # u8[3]
OFF_ASSET_RSSI = 6    # i8
OFF_ASSET_CHANNEL = 7
OFF_ASSET_PROFILE = 8
OFF_ASSET_FILTER = 9
OFF_ASSET_ADDR_TYPE = 10
OFF_ASSET_MAC = 11

# -- SIGNAL (ours): op@2; request: value@3; interrupt (op EVENT): code@3, source id u16@4 -----
SIGNAL_ID_BIT = 0x8000

# The message types' names, for traces (the board spells only acks).
TYPE_NAMES = (
    "NONE", "LOG", "PIN", "SWITCH", "SERVICE_DATA", "TWI", "BLE", "MESH", "POWER_USAGE",
    "PRESENCE", "CONTROL_COMMAND", "YIELD", "CONTINUE", "MESSAGE", "BLUENET_EVENT", "ASSETS",
    "SIGNAL",
)


def type_name(t):
    return TYPE_NAMES[t] if 0 <= t < TYPE_COUNT else "0x%02X" % t
