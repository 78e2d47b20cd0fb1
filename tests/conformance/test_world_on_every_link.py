"""The nine world types on every link: each request's fields, sub-types and errors as bluenet's
request handler answers them, and the SDK objects against the world (host/world), with the same
switches, log, summary and world history in the simulator and on the board."""
import pytest

from shared_buffers import protocol as P

RAW_APP = """
    from microapp import *
    def setup():
        m2b = getOutgoingMessagePayload()
        m2b[0] = {msg_type}
        m2b[1] = 2   # REQUEST
        m2b[2:2 + {n}] = bytes({payload!r})
        ack = sendMessage({used})
        print("ack", ack, bytes(m2b[2:{used}]).hex())
"""

WORLD = """
    timeline = [ { t = 0, enter = "hall" } ]
    [stone]
    uptime_s = 60
    [load]
    watts = 100
    standby_mw = 250
    [rooms]
    hall = 40
    [people]
    ann = 2
    [[i2c]]
    address = 0x48
    device = "tmp102"
    celsius = 25
"""


def u16(v):
    return bytes((v & 0xFF, v >> 8))


@pytest.mark.parametrize("msg_type, payload, ack, result, world_change", [
    # SWITCH: set (bluenet's values), get, range, sub-type
    (P.SWITCH, b"\x01\x32", P.SUCCESS, "0132", ("switch", 1, 0)),   # dim on a plain load: relay
    (P.SWITCH, b"\x01\x64", P.SUCCESS, "0164", ("switch", 1, 0)),
    (P.SWITCH, b"\x01\xff", P.SUCCESS, "01ff", ("switch", 1, 0)),   # smart on
    (P.SWITCH, b"\x01\xfd", P.SUCCESS, "01fd", ("switch", 1, 0)),   # toggle from off
    (P.SWITCH, b"\x01\xfe", P.SUCCESS, "01fe", None),               # behaviour: none, no change
    (P.SWITCH, b"\x01\x65", P.ERR_OUT_OF_RANGE, "0165", None),
    (P.SWITCH, b"\x01\xfc", P.ERR_OUT_OF_RANGE, "01fc", None),
    (P.SWITCH, b"\x02\x7f", P.SUCCESS, "0200", None),               # get: off
    (P.SWITCH, b"\x03\x00", P.ERR_UNDEFINED, "0300", None),
    # POWER_USAGE: the type is ignored; mW as int32
    (P.POWER_USAGE, b"\x01\x00\x00\x00\x00", P.SUCCESS, "01fa000000", None),
    (P.POWER_USAGE, b"\x07\x00\x00\x00\x00", P.SUCCESS, "07fa000000", None),
    # PRESENCE: profile 0 has everyone's rooms (room 40), 1-7 nothing, 8 out of range
    (P.PRESENCE, b"\x00" + bytes(8), P.SUCCESS, "000000000000010000", None),
    (P.PRESENCE, b"\x02" + bytes(8), P.SUCCESS, "020000000000000000", None),
    (P.PRESENCE, b"\x08" + bytes(8), P.ERR_OUT_OF_RANGE, "080000000000000000", None),
    # SERVICE_DATA: up to 8 bytes
    (P.SERVICE_DATA, u16(0x1234) + b"\x08" + b"abcdefgh", P.SUCCESS, None, ("advert", "0x1234", b"abcdefgh".hex())),
    (P.SERVICE_DATA, u16(0x1234) + b"\x00", P.SUCCESS, None, ("advert", "0x1234", "")),
    (P.SERVICE_DATA, u16(0x1234) + b"\x09" + b"abcdefghi", P.ERR_TOO_LARGE, None, None),
    # TWI: init, reads before init (0 bytes) and from no device, unknown sub-type
    (P.TWI, b"\x03\x00\x01\x00", P.SUCCESS, None, ("i2c", "init")),
    (P.TWI, b"\x01\x48\x01\x02\xaa\xbb", P.SUCCESS, "014801" + "00" + "aabb", ("i2c", "ignored")),
    (P.TWI, b"\x02\x48\x01\x00", P.SUCCESS, None, ("i2c", "ignored")),
    (P.TWI, b"\x09\x48\x01\x00", P.ERR_UNDEFINED, None, None),
    # CONTROL_COMMAND: empty, too large, protocol, access, unknown, payload length, NOP, switch
    (P.CONTROL_COMMAND, b"\x05" + u16(20) + u16(0), P.ERR_EMPTY, None, None),
    (P.CONTROL_COMMAND, b"\x05" + u16(20) + u16(42) + bytes(39), P.ERR_TOO_LARGE, None, None),
    (P.CONTROL_COMMAND, b"\x04" + u16(20) + u16(1) + b"\x64", P.ERROR, None, ("control", 20, "ERROR")),
    (P.CONTROL_COMMAND, b"\x05" + u16(40) + u16(1) + b"\x01", P.ERROR, None, ("control", 40, "ERROR")),
    (P.CONTROL_COMMAND, b"\x05" + u16(999) + u16(1) + b"\x01", P.ERROR, None, ("control", 999, "ERROR")),
    (P.CONTROL_COMMAND, b"\x05" + u16(20) + u16(2) + b"\x64\x00", P.ERROR, None, ("control", 20, "ERROR")),
    (P.CONTROL_COMMAND, b"\x05" + u16(12) + u16(1) + b"\x00", P.SUCCESS, None, ("control", 12, "SUCCESS")),
    (P.CONTROL_COMMAND, b"\x05" + u16(20) + u16(1) + b"\x64", P.SUCCESS, None, ("switch", 1, 0)),
    (P.CONTROL_COMMAND, b"\x05" + u16(23) + u16(1) + b"\x01", P.SUCCESS, None, ("switch", 1, 0)),
    (P.CONTROL_COMMAND, b"\x05" + u16(22) + u16(1) + b"\x32", P.SUCCESS, None, None),  # PWM, not dimmable
    # MULTI_SWITCH: an item for this stone (id 1) switches it; a count past the items: invalid
    (P.CONTROL_COMMAND, b"\x05" + u16(21) + u16(5) + b"\x02\x05\x00\x01\x64", P.SUCCESS, None, ("switch", 1, 0)),
    (P.CONTROL_COMMAND, b"\x05" + u16(21) + u16(3) + b"\x02\x01\x64", P.ERROR, None, ("control", 21, "ERROR")),
    # SET_TIME, a get (no result buffer), not implemented, setup mode only
    (P.CONTROL_COMMAND, b"\x05" + u16(30) + u16(4) + b"\x00\xf1\x53\x65", P.SUCCESS, None, ("control", 30, "SUCCESS")),
    (P.CONTROL_COMMAND, b"\x05" + u16(35) + u16(1) + b"\x00", P.ERROR, None, ("control", 35, "ERROR")),
    (P.CONTROL_COMMAND, b"\x05" + u16(8) + u16(1) + b"\x00", P.ERR_NOT_IMPLEMENTED, None, ("control", 8, "ERR_NOT_IMPLEMENTED")),
    (P.CONTROL_COMMAND, b"\x05" + u16(0) + u16(1) + b"\x00", P.ERR_DISABLED, None, ("control", 0, "ERR_DISABLED")),
    # MESSAGE: register, send (clipped to 43), unknown sub-type
    (P.MESSAGE, b"\x01", P.SUCCESS, None, None),
    (P.MESSAGE, b"\x02" + u16(300) + b"x" * 43, P.SUCCESS, None, ("message_out", "x" * 43)),
    (P.MESSAGE, b"\x09", P.ERR_NOT_FOUND, None, None),
    # BLUENET_EVENT, ASSETS: register, unknown sub-type
    (P.BLUENET_EVENT, b"\x01" + u16(129), P.SUCCESS, None, None),
    (P.BLUENET_EVENT, b"\x02" + u16(129), P.ERR_NOT_FOUND, None, None),
    (P.ASSETS, b"\x01", P.SUCCESS, None, None),
    (P.ASSETS, b"\x02", P.ERR_NOT_FOUND, None, None),
])
def test_each_request_is_answered_as_bluenet_answers_it(on_both_links, msg_type, payload, ack,
                                                        result, world_change):
    seen = on_both_links(RAW_APP.format(n=len(payload), payload=payload, msg_type=msg_type,
                                        used=2 + len(payload)),
                         lambda run: run.sim.run(2) and None, world=WORLD)
    line = next(text for _, text in seen.summary["log"] if text.startswith("ack"))
    assert line.split()[1] == str(ack)
    if result is not None:
        assert line.split()[2] == result
    history = [h for h in seen.summary["world"]["history"] if h["what"] != "presence"]
    if world_change is None:
        assert [h for h in history if h["what"] in ("switch", "advert", "control", "message_out")] == []
        return
    what = world_change[0]
    h = next(h for h in history if h["what"] == what)
    if what == "switch":
        assert (h["relay"], h["dimmer"]) == world_change[1:]
    elif what == "advert":
        assert (h["uuid"], h["data"]) == world_change[1:]
    elif what == "i2c":
        assert world_change[1] in (h["op"], h.get("result"))
    elif what == "control":
        assert (h["type"], P.ack_name(h["ack"])) == world_change[1:]
    else:
        assert h["text"] == world_change[1]
    assert seen.summary["host_errors"] == 0


@pytest.mark.parametrize("msg_type, payload, ack", [
    (P.CONTROL_COMMAND, b"\x05" + u16(20) + u16(1) + b"\x64", P.ERR_DISABLED),  # no switch here
    (P.CONTROL_COMMAND, b"\x05" + u16(23) + u16(1) + b"\x01", P.ERR_DISABLED),
    (P.CONTROL_COMMAND, b"\x05" + u16(12) + u16(1) + b"\x00", P.SUCCESS),
    (P.CONTROL_COMMAND, b"\x05" + u16(21) + u16(3) + b"\x01\x01\x64", P.SUCCESS),  # multi-switch: no one listens
    (P.SWITCH, b"\x01\x64", P.SUCCESS),  # dispatched; no aggregator listens on a guidestone
    (P.POWER_USAGE, b"\x01\x00\x00\x00\x00", P.SUCCESS),
])
def test_a_guidestone_has_no_switch(on_both_links, msg_type, payload, ack):
    world = '[stone]\ndevice = "guidestone"\n[load]\nwatts = 100\nstandby_mw = 300\n'
    seen = on_both_links(RAW_APP.format(n=len(payload), payload=payload, msg_type=msg_type,
                                        used=2 + len(payload)),
                         lambda run: run.sim.run(2) and None, world=world)
    line = next(text for _, text in seen.summary["log"] if text.startswith("ack"))
    assert line.split()[1] == str(ack)
    assert seen.summary["world"]["switch"] == {"relay": 0, "dimmer": 0, "state": 0}
    assert seen.summary["world"]["power_mw"] == 0
    if msg_type == P.POWER_USAGE:
        assert line.split()[2] == "0100000000"


SWITCH_APP = """
    from microapp import *
    def setup():
        for step in ("on", "dim", "toggle", "toggle", "behaviour", "on_plain", "off", "dim"):
            if step == "on":
                CrownstoneSwitch.turnOn()
            elif step == "on_plain":
                CrownstoneSwitch.turnOn(False)
            elif step == "dim":
                CrownstoneSwitch.dim(30)
            elif step == "toggle":
                CrownstoneSwitch.toggle()
            elif step == "behaviour":
                CrownstoneSwitch.asPerBehaviour()
            else:
                CrownstoneSwitch.turnOff()
            print(step, CrownstoneSwitch.getState(), CrownstoneSwitch.isOn(), CrownstoneSwitch.isOff())
            delay(100)
"""


@pytest.mark.parametrize("dimmable, expected", [
    (True, ["on (0, 60) True False", "dim (0, 30) True False", "toggle (0, 0) False True",
            "toggle (0, 60) True False", "behaviour (0, 60) True False", "on_plain (0, 100) True False",
            "off (0, 0) False True", "dim (0, 30) True False"]),
    (False, ["on (1, 0) True False", "dim (1, 0) True False", "toggle (0, 0) False True",
             "toggle (1, 0) True False", "behaviour (1, 0) True False", "on_plain (1, 0) True False",
             "off (0, 0) False True", "dim (1, 0) True False"]),
])
def test_the_same_switch_sequence_on_every_link(on_both_links, dimmable, expected):
    world = f"[load]\nwatts = 40\ndimmable = {str(dimmable).lower()}\n[switch]\nbehaviour = 60\n"
    seen = on_both_links(SWITCH_APP, lambda run: run.sim.run(20) and None, world=world)
    assert [text for _, text in seen.summary["log"]] == expected
    switches = [(h["t"], h["relay"], h["dimmer"], h["source"]) for h in seen.summary["world"]["history"]
                if h["what"] == "switch"]
    assert switches[0] == ((0.0, 0, 60, "microapp") if dimmable else (0.0, 1, 0, "microapp"))


SENSORS_APP = """
    from microapp import *
    def setup():
        print("before begin", Wire.requestFrom(0x48, 2), Wire.available())
        Wire.begin()
        Wire.beginTransmission(0x48)
        Wire.write(0)
        Wire.requestFrom(0x48, 2)
        raw = Wire.read() << 8 | Wire.read()
        print("tmp102", raw >> 4, Wire.available())
        Wire.beginTransmission(0x50)
        print("eeprom", Wire.write(b"\\x10hello"), Wire.write(0x10))
        Wire.requestFrom(0x50, 5, True)
        print(bytes([Wire.read() for _ in range(Wire.available())]))
        Wire.beginTransmission(0x33)
        Wire.write(0)
        Wire.requestFrom(0x33, 3)
        print("nobody", Wire.available())
        print("power", PowerUsage.getPowerUsageMilliWatts())
        CrownstoneSwitch.turnOn()
        print("power", PowerUsage.getPowerUsageMilliWatts())  # the meter has not seen a cycle yet
        delay(2000)  # settled (bluenet's fast average: 1% left after 420 ms)
        print("power", PowerUsage.getPowerUsageMilliWatts())
        print("presence", Presence.isPresent(0, 40), Presence.isPresent(2, 40), Presence.isPresent(0, 3),
              Presence.isPresent(0, 64))
        print("advert", ServiceData.write(0xBEEF, "a longer text"))
"""


def test_wire_power_presence_and_service_data_on_every_link(on_both_links):
    world = WORLD + '\n[[i2c]]\naddress = 0x50\ndevice = "register"\nsize = 64\n'
    seen = on_both_links(SENSORS_APP, lambda run: run.sim.run(35) and None, world=world)
    assert [text for _, text in seen.summary["log"]] == [
        "before begin None 0", "tmp102 400 0", "eeprom 6 1", "b'hello'",
        "nobody 3",                       # no device: the size asked for, the buffer as it was
        "power 250", "power 250", "power 100250",
        "presence True False False False",
        "advert 0"]
    adverts = [h for h in seen.summary["world"]["history"] if h["what"] == "advert"]
    assert adverts == [{"t": 2.5, "what": "advert", "source": "microapp", "uuid": "0xbeef",
                        "data": b"a longer".hex()}]


EVENTS_APP = """
    from microapp import *
    def on_message(data):
        print("message", data)
        Message.write(b"got " + data)
    def on_event(kind, data):
        print("event", kind, data.hex())
    def on_asset(frame):
        print("asset", bytes(frame[3:6]).hex(), frame[6] - 256, frame[7], bytes(frame[11:17]).hex())
    def setup():
        print("begin", Message.begin(), Message.begin())
        Message.setHandler(on_message)
        print("events", BluenetInternal.setEventHandler(on_event), BluenetInternal.subscribe(129),
              BluenetInternal.subscribe(452), BluenetInternal.subscribe(0))
        registerInterrupt(0x0F, 2, on_asset)
        m2b = getOutgoingMessagePayload()
        m2b[0], m2b[1], m2b[2] = 0x0F, 2, 1
        print("assets", sendMessage(3))
    def loop():
        if PowerUsage.getPowerUsageMilliWatts() < 0:
            print("no power")
"""

EVENTS_WORLD = """
    timeline = [
      { t = 0.25, message = "hi" },
      { t = 0.45, tap = true },
      { t = 0.55, asset = "0a0b0c", rssi = -60, channel = 38, mac = "01:02:03:04:05:06" },
      { t = 0.65, enter = "hall" },
    ]
    [stone]
    uptime_s = 60
    [rooms]
    hall = 4
    [people]
    ann = 1
"""


def test_messages_bluenet_events_and_assets_reach_the_app_on_every_link(on_both_links):
    seen = on_both_links(EVENTS_APP, lambda run: run.sim.run(8) and None, world=EVENTS_WORLD)
    log = [text for _, text in seen.summary["log"]]
    assert log[:3] == ["begin True True", "events True True True False", "assets 0"]
    assert "message b'hi'" in log
    assert "event 129 80" in log                      # the tap switched the relay on
    assert "asset 0a0b0c -60 38 010203040506" in log
    assert "event 452 040104" in log                  # PROFILE_LOCATION_ENTER, profile 1, room 4
    history = seen.summary["world"]["history"]
    assert {"t": 0.25, "what": "message_in", "source": "timeline", "data": b"hi".hex(),
            "result": "SUCCESS"} in history
    assert [h["text"] for h in history if h["what"] == "message_out"] == ["got hi"]


def test_a_message_to_an_app_that_did_not_register_is_refused_to_its_sender(on_both_links):
    world = 'timeline = [ { t = 0.25, message = "hi" } ]\n'
    seen = on_both_links("def loop():\n    pass\n", lambda run: run.sim.run(4) and None, world=world)
    assert [h["result"] for h in seen.summary["world"]["history"]] == ["ERR_NOT_STARTED"]


@pytest.mark.slow
@pytest.mark.parametrize("name, ticks", [("power_guard", 1200), ("presence_light", 3000), ("thermostat", 6000)])
def test_the_world_examples_run_the_same_on_every_link(on_both_links, name, ticks):
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "examples", name + ".py"), encoding="utf-8") as f:
        app = f.read()
    with open(os.path.join(root, "examples", name + ".toml"), encoding="utf-8") as f:
        world = f.read()
    seen = on_both_links(app, lambda run: run.sim.run(ticks) and None, world=world)
    assert seen.summary["faults"] == [] and any(h["what"] == "switch" for h in seen.summary["world"]["history"])


DISPATCHED_APP = """
    from microapp import *
    def control(kind, payload):
        m2b = getOutgoingMessagePayload()
        m2b[0], m2b[1], m2b[2] = 10, 2, 5
        m2b[3:5] = kind.to_bytes(2, "little")
        m2b[5:7] = len(payload).to_bytes(2, "little")
        m2b[7:7 + len(payload)] = payload
        return sendMessage(7 + len(payload))
    def on_event(kind, data):
        print("event", kind, bytes(data).hex())
    def setup():
        BluenetInternal.setEventHandler(on_event)
        for kind in (279, 282, 468, 470, 471):
            BluenetInternal.subscribe(kind)
    def loop():
        if millis() == 200:
            control(21, b"\\x01\\x01\\x64")                    # multi-switch: this stone on
        if millis() == 400:
            control(30, (1700000000).to_bytes(4, "little"))  # set the time
"""


def test_dispatched_commands_time_and_ticks_reach_a_subscribed_app_on_every_link(on_both_links):
    seen = on_both_links(DISPATCHED_APP, lambda run: run.sim.run(6) and None,
                         world="[stone]\nuptime_s = 60\n[load]\nwatts = 10\n")
    events = [(t, text) for t, text in seen.summary["log"] if text.startswith("event")]
    # setup()'s six requests take two entries: EVT_TICK is subscribed at 0.1 s, the first at 0.2 s
    assert events == [(0.2, "event 471 5a020000"),
                      (0.2, "event 279 64"), (0.2, "event 282 0164"),
                      (0.3, "event 471 5b020000"), (0.4, "event 471 5c020000"),
                      (0.4, "event 470 00000000"), (0.4, "event 468 00f15365"),
                      (0.5, "event 471 5d020000")]
