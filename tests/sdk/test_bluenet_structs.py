"""The bytes the SDK writes for each request, and the host for each interrupt, field by field
against bluenet's structs (cs_MicroappStructs.h, as ../shared/reference/bluenet-structs.md sets
them out). The expected offsets and numbers are written out here as literals, not taken from
shared_buffers.protocol: a change there that moves a field away from bluenet's fails here."""
import struct
import textwrap

import pytest

from host.sdk_types import ble, mesh, pin
from host.simulator import Simulation

REQUEST = 0x02

# (SDK call, message type, {buffer offset: expected byte}) from bluenet-structs.md section 1.1.
CASES = [
    # LOG: type@2 (CHAR 1 INT 2 STR 3 ARR 4 FLOAT 5 DOUBLE 6 UINT 7 SHORT 8), flags@3 (NEWLINE 1),
    # size@4, value@5
    ('Serial.println("hi")', 0x01, {2: 3, 3: 1, 4: 2, 5: ord("h"), 6: ord("i")}),
    ('Serial.print("hi")', 0x01, {2: 3, 3: 0, 4: 2}),
    ("Serial.println(-2)", 0x01, {2: 2, 3: 1, 4: 4, 5: 0xFE, 6: 0xFF, 7: 0xFF, 8: 0xFF}),
    ("Serial.println(3000000000)", 0x01, {2: 7, 4: 4, **dict(zip(range(5, 9), struct.pack("<I", 3000000000)))}),
    ("Serial.println(1.5)", 0x01, {2: 5, 4: 4, **dict(zip(range(5, 9), struct.pack("<f", 1.5)))}),
    ("Serial.println(1.5, Serial.DOUBLE)", 0x01, {2: 6, 4: 8, **dict(zip(range(5, 13), struct.pack("<d", 1.5)))}),
    ("Serial.println(-3, Serial.SHORT)", 0x01, {2: 8, 4: 2, 5: 0xFD, 6: 0xFF}),
    ('Serial.println("A", Serial.CHAR)', 0x01, {2: 1, 4: 1, 5: 65}),
    ('Serial.println(b"\\x01\\x02")', 0x01, {2: 4, 4: 2, 5: 1, 6: 2}),
    ('print("x" * 60)', 0x01, {2: 3, 3: 1, 4: 43}),  # the SDK cuts at 43
    # PIN: pin@2, type@3 (INIT 1 ACTION 2), direction@4 (INPUT 1 PULLUP 2 OUTPUT 3),
    # polarity@5 (NO_POLARITY 1 CHANGE 2 RISING 3 FALLING 4), action@6 (READ 1 WRITE 2), value@7
    ("pinMode(LED1_PIN, OUTPUT)", 0x02, {2: 14, 3: 1, 4: 3, 5: 1}),
    ("pinMode(GPIO3_PIN, INPUT_PULLUP)", 0x02, {2: 3, 3: 1, 4: 2, 5: 1}),
    ("digitalWrite(LED2_PIN, HIGH)", 0x02, {2: 15, 3: 2, 6: 2, 7: 1}),
    ("digitalWrite(LED2_PIN, LOW)", 0x02, {2: 15, 3: 2, 6: 2, 7: 0}),
    ("digitalRead(BUTTON1_PIN)", 0x02, {2: 10, 3: 2, 6: 1}),
    ("attachInterrupt(BUTTON4_PIN, lambda: None, FALLING)", 0x02, {2: 13, 3: 1, 4: 2, 5: 4}),
    ("attachInterrupt(GPIO0_PIN, lambda: None, CHANGE)", 0x02, {2: 0, 3: 1, 4: 2, 5: 2}),
    # MESH: type@2 (SEND 1 LISTEN 2 READ_CONFIG 3 READ 4), stoneId@3, options@4 (doNotRelay 1),
    # size@5, data@6
    ('Mesh.sendMeshMsg(b"abc", 5, True)', 0x07, {2: 1, 3: 5, 4: 1, 5: 3, 6: 97, 7: 98, 8: 99}),
    ('Mesh.sendMeshMsg(b"123456789")', 0x07, {2: 1, 3: 0, 4: 0, 5: 7, 12: ord("7")}),
    ("Mesh.listen()", 0x07, {2: 2}),
    ("Mesh.id()", 0x07, {2: 3}),
    # BLE: type@2 (SCAN 2, MAC 5); scan type@3 (REGISTER 1 START 2 STOP 3 FILTER 5);
    # filter type@4 (RSSI 1 MAC 2 NAME 3 SERVICE_16 4), value@5 (name: size@5, name@6)
    ("BLE.begin()", 0x06, {2: 5}),
    ('BLE.begin(); BLE.scanForName("cs")', 0x06, {2: 2, 3: 5, 4: 3, 5: 2, 6: ord("c"), 7: ord("s")}),
    ('BLE.begin(); BLE.scanForAddress("AA:BB:CC:DD:EE:FF")', 0x06, {2: 2, 3: 5, 4: 2, 5: 0xAA, 10: 0xFF}),
    ('BLE.begin(); BLE.scanForUuid("180D")', 0x06, {2: 2, 3: 5, 4: 4, 5: 0x0D, 6: 0x18}),
    ("BLE.begin(); BLE.scanForRssi(-70)", 0x06, {2: 2, 3: 5, 4: 1, 5: (-70) & 0xFF}),
]


def requests_of(call, limits=None):
    """Every request buffer the app wrote (bytes 0..47), in order."""
    seen = []

    def trace(direction, m2b, b2m):
        if direction == "app->host" and m2b[1] == REQUEST:
            seen.append(bytes(m2b[:48]))
    sim = Simulation(textwrap.dedent(f"""
        from microapp import *
        def setup():
            {call}
    """), trace=trace)
    sim.run(3)
    return seen


@pytest.mark.parametrize("call, msg_type, fields", CASES, ids=[c[0] for c in CASES])
def test_each_request_is_bluenets_struct(call, msg_type, fields):
    # the call's own request: the last of its type with the same sub-type byte (a BLE filter is
    # followed by the scan start)
    seen = [b for b in requests_of(call) if b[0] == msg_type and b[2] == fields[2]]
    buf = [b for b in seen if 3 not in fields or b[3] == fields[3]][-1]
    assert {at: buf[at] for at in fields} == fields


def test_a_scan_registers_then_starts():
    seen = requests_of("BLE.begin(); BLE.scan()")
    assert [(b[0], b[2], b[3]) for b in seen] == [(6, 5, seen[0][3]), (6, 2, 1), (6, 2, 2)]


def test_a_yield_is_bluenets_struct():
    seen = []
    sim = Simulation("def loop():\n    pass\n",
                     trace=lambda d, m2b, b2m: seen.append(bytes(m2b[:4])) if d == "app->host" else None)
    sim.run(2)
    # YIELD 0x0B, ack NO_REQUEST 0x01, type@2 (SETUP 1, LOOP 2), empty slots@3 (3: none in use)
    assert seen[:2] == [bytes((0x0B, 0x01, 1, 3)), bytes((0x0B, 0x01, 2, 3))]


# (interrupt builder, {offset: expected byte} from byte 2 on) from bluenet's interrupt handler.
INTERRUPTS = [
    (pin.interrupt(13), 13, {2: 13}),  # PIN: only the pin (IH:154-170)
    (mesh.interrupt(9, b"hey"), 4, {2: 4, 3: 9, 5: 3, 6: ord("h"), 8: ord("y")}),
    (ble.interrupt(bytes.fromhex("AABBCCDDEEFF"), -60, b"\x02\x01\x06"), 2,
     {2: 2, 3: 4, 4: 0, 5: 0xAA, 10: 0xFF, 11: (-60) & 0xFF, 12: 3, 13: 2, 15: 6}),
]


@pytest.mark.parametrize("built, key, fields", INTERRUPTS, ids=["pin", "mesh", "ble"])
def test_each_interrupt_is_bluenets_struct(built, key, fields):
    sub_id, data = built
    assert sub_id == key
    buf = bytes(2) + data
    assert {at: buf[at] for at in fields} == fields


def test_an_advertisement_over_31_bytes_is_dropped_as_bluenet_does():
    assert ble.interrupt(bytes(6), -50, bytes(32)) is None
    assert ble.interrupt(bytes(6), -50, bytes(31)) is not None
