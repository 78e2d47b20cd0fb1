"""Every SDK call on every link: the app calls it in the simulator and on the (virtual) board, and
both give the same results, the same log and the same summary (conftest.on_both_links)."""
import pytest

from host import interrupts as I
from host.sdk_types import ble, mesh, pin
from shared_buffers import protocol as P

SERIAL_APP = """
    from microapp import *
    def setup():
        Serial.begin()
        sizes = [Serial.print("a"), Serial.println("b"), Serial.write("c"), Serial.println(7),
                 Serial.println(-1.25), Serial.println(3, Serial.SHORT), Serial.println("x" * 50),
                 Serial.println(b"\\x01\\xff"), Serial.println(4000000000), Serial.println("Z", Serial.CHAR),
                 Serial.println(2.5, Serial.DOUBLE), Serial.println(9, Serial.UINT)]
        print("sizes", sizes[:6])
        print("sizes", sizes[6:])
"""


def test_serial_prints_every_value_type(on_both_links):
    seen = on_both_links(SERIAL_APP, lambda run: run.sim.run(6) and None)
    log = [text for _, text in seen.summary["log"]]
    assert log[:10] == ["ab", "c7", "-1.250", "3", "x" * 42, "[1, 255]", "4000000000", "90",
                        "2.500", "9"]
    assert log[10:] == ["sizes [1, 1, 1, 4, 4, 2]", "sizes [43, 2, 4, 1, 8, 4]"]


PINS_APP = """
    from microapp import *
    def edge():
        print("edge", digitalRead(BUTTON2_PIN))
    def setup():
        print(pinMode(LED3_PIN, OUTPUT), digitalWrite(LED3_PIN, HIGH), digitalRead(LED3_PIN))
        print(analogWrite(LED3_PIN, LOW), analogRead(LED3_PIN), digitalRead(40), pinMode(40, INPUT))
        print(attachInterrupt(digitalPinToInterrupt(BUTTON2_PIN), edge, CHANGE))
"""


def test_pins_read_write_and_interrupts(on_both_links):
    def scenario(run):
        run.sim.run(4)
        run.sim.device.set_input(11, 0)  # BUTTON2 (pulled up) pressed
        run.sim.step()
        return run.log(), run.sim.device.pin_changes

    seen = on_both_links(PINS_APP, scenario)
    log, changes = seen.result
    assert log == ["0 0 1", "0 0 -1 None", "True", "edge 0"]
    assert [(p, level) for _, p, level in changes] == [(16, 1), (16, 0)]


MESH_APP = """
    from microapp import *
    def setup():
        print("id", Mesh.id(), Mesh.id(), Mesh.listen(), Mesh.available(), Mesh.readMeshMsg())
        print("send", Mesh.sendMeshMsg("hello", 3), Mesh.sendMeshMsg(b"12345678", 0, True))
    def loop():
        while Mesh.available():
            msg = Mesh.readMeshMsg()
            print("got", msg.stoneId, msg.dataPtr, msg.dataSize)
"""


def test_mesh_id_send_listen_and_the_poll_buffer(on_both_links):
    def scenario(run):
        run.sim.run(3)
        outcomes = [run.sim.controller.interrupt(P.MESH, *mesh.interrupt(s, b"m%d" % s)) for s in (4, 5, 6)]
        run.sim.run(2)
        return outcomes, run.log()

    seen = on_both_links(MESH_APP, scenario)
    outcomes, log = seen.result
    assert outcomes == [I.DELIVERED] * 3
    assert log[:2] == ["id 1 1 True False None", "send 0 0"]
    assert log[2:] == ["got 5 b'm5' 2", "got 4 b'm4' 2"]  # the third was refused: two slots
    assert seen.summary["requests"]["MESH"] == 4  # the id is asked once
    assert [s[1:] for s in seen.summary["mesh_sent"]] == [[3, "68656c6c6f", False], [0, "31323334353637", True]]


BLE_APP = """
    from microapp import *
    def scanned(device):
        print(device.address(), device.rssi(), device.localName(), device.hasLocalName(),
              device.hasAdvertisedServiceUuid("180D"), device.hasAdvertisedServiceUuid(0x180F))
    def setup():
        print("before begin", BLE.scan(), BLE.stopScan())
        print("begin", BLE.begin(), BLE.address(), BLE.setEventHandler(BLEConnected, scanned))
        print("scan", BLE.setEventHandler(BLEDeviceScanned, scanned), BLE.scanForUuid("180D"))
    def loop():
        if millis() == 1000:
            d = BLE.available()
            print("last", d.address() if d else None, BLE.stopScan(), BLE.stopScan())
"""
ADVERT = bytes.fromhex("0201060303 0D18 05096E616D65".replace(" ", ""))


def test_ble_begin_filters_scans_and_devices(on_both_links):
    def scenario(run):
        run.sim.run(3)
        for mac, data in ((b"\xAA" * 6, ADVERT), (b"\xBB" * 6, bytes.fromhex("020106"))):
            scanned = ble.interrupt(mac, -55, data)
            if ble.passes(run.sim.device.scan_filter, mac, -55, data):
                run.sim.controller.interrupt(P.BLE, *scanned)
        run.sim.run(8)
        return run.log()

    seen = on_both_links(BLE_APP, scenario)
    assert seen.result == [
        "before begin False False", "begin True C0:5E:00:00:00:01 False", "scan True True",
        "AA:AA:AA:AA:AA:AA -55 name True True False", "last AA:AA:AA:AA:AA:AA True True"]


RAW_AND_SIGNALS_APP = """
    import microapp
    from microapp import *
    def setup():
        out, inc = getOutgoingMessagePayload(), getIncomingMessagePayload()
        out[0], out[1], out[2], out[3], out[4], out[5] = 2, 2, 15, 2, 0, 0   # PIN read LED2, raw
        out[6] = 1
        print("raw", sendMessage(8), out[7], inc[0], millis())
        try:
            reserve_signal_budget(99)
        except RequestError as e:
            print("refused", e.ack, isinstance(e, Exception))
        on_signal(lambda source, code: print("signal", source, signal_name(code)))
        reserve_signal_budget(2)
        Mesh.setIncomingMeshMsgHandler(lambda msg: None)
        Mesh.listen()
    def loop():
        delay(250)
        print("after delay", millis())
"""


def test_raw_requests_signals_errors_and_time(on_both_links):
    def scenario(run):
        run.sim.run(3)
        outcomes = [run.sim.controller.interrupt(P.MESH, *mesh.interrupt(2, b"x")) for _ in range(4)]
        run.sim.run(4)
        return outcomes, run.log()

    seen = on_both_links(RAW_AND_SIGNALS_APP, scenario)
    outcomes, log = seen.result
    assert outcomes == [I.DELIVERED] * 3 + [I.THROTTLED]
    assert log[:2] == ["raw 0 0 12 0", f"refused {P.ERR_OUT_OF_RANGE} True"]  # RequestError on MicroPython too
    assert "signal 4 THROTTLED" in log
    assert [t for t in log if t.startswith("after delay")][:1] == ["after delay 400"]  # two yields


FILTER_APP = """
    from microapp import *
    def setup():
        BLE.begin()
        BLE.setEventHandler(BLEDeviceScanned, lambda d: print(d.address(), d.rssi()))
        print(BLE.{call})
    def loop():
        if millis() == 800:
            BLE.end()
"""



@pytest.mark.parametrize("call, passing", [
    ('scanForName("name")', [0xAA]), ('scanForAddress("BB:BB:BB:BB:BB:BB")', [0xBB]),
    ("scanForRssi(-60)", [0xBB]), ('scanForUuid("180D")', [0xAA]), ("scan()", [0xAA, 0xBB]),
])
def test_each_scan_filter_is_applied_by_the_host(on_both_links, call, passing):
    adverts = [(b"\xAA" * 6, -70, ADVERT), (b"\xBB" * 6, -50, bytes.fromhex("020106"))]

    def scenario(run):
        run.sim.run(3)
        for mac, rssi, data in adverts * 2:
            if run.sim.device.scanning and ble.passes(run.sim.device.scan_filter, mac, rssi, data):
                run.sim.controller.interrupt(P.BLE, *ble.interrupt(mac, rssi, data))
            run.sim.run(4)  # the second round comes after BLE.end(): not scanning
        return run.log()

    seen = on_both_links(FILTER_APP.format(call=call), scenario)
    assert seen.result[0] == "True"
    assert [int(line[:2], 16) for line in seen.result[1:]] == passing
