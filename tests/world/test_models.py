"""The load, presence and I2C models."""
import pytest

from host.clock import VirtualClock
from host.world import presence as PR
from host.world import switch as S
from host.world.history import History
from host.world.i2c import Bus, RegisterDevice, Tmp102
from host.world.load import Load


def test_power_follows_what_the_switch_lets_through():
    clock, history = VirtualClock(), History()
    sw = S.Switch(history, clock, dimmable=True)
    load = Load(history, clock, sw, watts=60.0, standby_mw=300)
    assert load.power_mw() == 300                # off: the meter's standby reading
    sw.command(S.FULLY_ON, "microapp")
    load.pwm = sw.dimmer  # the dimmer at 100 %, its fade done (the world moves the PWM)
    assert load.power_mw() == 60_300
    sw.command(25, "microapp")
    load.pwm = sw.dimmer
    assert load.power_mw() == 15_300
    load.set_watts(2000.0, "timeline")
    clock.set(2000)  # the meter's average has settled
    assert load.power_mw() == 500_300
    assert history.of("load") == [(0, "timeline", {"watts": 2000.0})]


def test_the_reading_follows_a_change_as_bluenets_fast_average_and_drops_at_once_when_off():
    clock, history = VirtualClock(), History()
    sw = S.Switch(history, clock, relay=True)
    load = Load(history, clock, sw, watts=100.0)
    assert load.power_mw() == 100_000
    load.set_watts(200.0, "timeline")
    readings = []
    for t in (0, 20, 40, 100, 400, 2000):
        clock.set(t)
        readings.append(load.power_mw())
    assert readings == [100_000, 120_000, 136_000, round(200_000 - 100_000 * 0.8 ** 5),
                        round(200_000 - 100_000 * 0.8 ** 20), 200_000]
    load.before_change()
    sw.command(S.OFF, "microapp")
    load.after_change()
    assert load.power_mw() == 0


def test_noise_is_seeded_per_sample_and_bounded():
    def readings(seed):
        clock, history = VirtualClock(), History()
        sw = S.Switch(history, clock, relay=True)
        load = Load(history, clock, sw, watts=100.0, noise_mw=500, seed=seed)
        out = []
        for t in range(0, 5000, 50):
            clock.set(t)
            out.append(load.power_mw())
        return out
    a, b, c = readings(1), readings(1), readings(2)
    assert a == b and a != c
    assert all(99_500 <= mw <= 100_500 for mw in a)
    assert a[0] == a[1] and len(set(a)) > 10     # one value per 100 ms sample


def make_presence(uptime_ms=60_000):
    clock, history = VirtualClock(), History()
    events = []
    presence = PR.Presence(history, clock, {"alice": 0, "bob": 2}, uptime_ms,
                           lambda t, d: events.append((t, d)))
    return presence, clock, events


def test_a_room_stays_occupied_until_the_record_times_out():
    presence, clock, events = make_presence()
    clock.set(1000)
    presence.enter("alice", 3)
    assert presence.mask() == 1 << 3 and presence.mask(0) == 1 << 3 and presence.mask(2) == 0
    clock.set(5000)
    until = presence.leave("alice")
    assert until == 5000 + PR.TIMEOUT_MS
    clock.set(until - 1)
    presence.expire()
    assert presence.mask() == 1 << 3
    clock.set(until)
    presence.expire()
    assert presence.mask() == 0
    kinds = [(t, d[0]) for t, d in events if t == PR.EVT_PRESENCE_CHANGE]
    assert kinds == [(PR.EVT_PRESENCE_CHANGE, PR.PROFILE_LOCATION_ENTER),
                     (PR.EVT_PRESENCE_CHANGE, PR.FIRST_SPHERE_ENTER),
                     (PR.EVT_PRESENCE_CHANGE, PR.PROFILE_SPHERE_ENTER),
                     (PR.EVT_PRESENCE_CHANGE, PR.PROFILE_LOCATION_EXIT),
                     (PR.EVT_PRESENCE_CHANGE, PR.LAST_SPHERE_EXIT),
                     (PR.EVT_PRESENCE_CHANGE, PR.PROFILE_SPHERE_EXIT)]
    assert (PR.EVT_PRESENCE_MUTATION, bytes((PR.FIRST_USER_ENTER_SPHERE,))) in events


def test_moving_rooms_keeps_the_old_room_for_the_timeout():
    presence, clock, _ = make_presence()
    presence.enter("bob", 1)
    clock.set(2000)
    until = presence.enter("bob", 5)
    assert until == 12_000 and presence.mask() == (1 << 1) | (1 << 5)
    clock.set(12_000)
    presence.expire()
    assert presence.mask() == 1 << 5 and presence.mask(2) == 1 << 5


def test_presence_is_unknown_for_30_s_after_boot():
    presence, clock, events = make_presence(uptime_ms=0)
    presence.enter("alice", 4)
    clock.set(PR.UNCERTAIN_MS - 1)
    assert presence.mask() == 0
    clock.set(PR.UNCERTAIN_MS)
    assert presence.mask() == 1 << 4
    assert not any(t == PR.EVT_PRESENCE_MUTATION for t, _ in events)


def bus_with(*devices):
    clock, history = VirtualClock(), History()
    bus = Bus(history, clock)
    for address, device in devices:
        bus.attach(address, device)
    return bus, history, clock


def test_register_device_is_written_and_read_from_its_pointer():
    eeprom = RegisterDevice(size=16, data=bytes(range(16)))
    bus, history, _ = bus_with((0x50, eeprom))
    bus.init()
    bus.write(0x50, b"\x04\xaa\xbb", stop=True)   # pointer 4, two bytes
    bus.write(0x50, b"\x03", stop=False)          # pointer 3, then a read (repeated start)
    assert bus.read(0x50, 4) == bytes((3, 0xAA, 0xBB, 6))
    bus.write(0x50, b"\x0f", stop=False)
    assert bus.read(0x50, 3) == bytes((15, 0, 1))  # wraps
    assert [f.get("result") for _, _, f in history.of("i2c")] == [None] + ["ack"] * 5
    assert [f.get("stop") for _, _, f in history.of("i2c") if f["op"] == "write"] == [None, 0, 0]


def test_two_byte_addresses():
    eeprom = RegisterDevice(size=1024, address_bytes=2)
    bus, _, _ = bus_with((0x51, eeprom))
    bus.init()
    bus.write(0x51, b"\x02\x00hi", stop=True)
    bus.write(0x51, b"\x02\x00", stop=False)
    assert bus.read(0x51, 2) == b"hi"


def test_the_bus_answers_as_bluenets_driver_before_init_and_without_a_device():
    bus, history, _ = bus_with((0x50, RegisterDevice()))
    assert bus.read(0x50, 4) == b""        # not initialised: length 0
    bus.write(0x50, b"\x00\x01", stop=True)  # ignored
    bus.init()
    assert bus.read(0x50, 1) == b"\x00"     # the write before init did nothing
    assert bus.read(0x33, 4) is None       # NACK: buffer untouched, length as asked
    bus.write(0x33, b"\x01", stop=True)
    results = [(f["op"], f.get("result")) for _, _, f in history.of("i2c")]
    assert results == [("read", "ignored"), ("write", "ignored"), ("init", None), ("read", "ack"),
                       ("read", "nack"), ("write", "nack")]


@pytest.mark.parametrize("celsius, raw", [(25.0, 0x1900), (-25.0, 0xE700), (0.0625, 0x0010),
                                          (150.0, 0x7FF0), (21.53, 0x1580)])
def test_tmp102_temperature_register(celsius, raw):
    sensor = Tmp102(VirtualClock(), celsius)
    sensor.write(b"\x00", stop=False)
    assert sensor.read(2) == raw.to_bytes(2, "big")


def test_tmp102_extended_mode_and_configuration():
    sensor = Tmp102(VirtualClock(), 130.0)
    sensor.write(b"\x01", stop=False)
    assert sensor.read(2) == b"\x60\xa0"           # power-on configuration
    sensor.write(b"\x01\xff\xbf", stop=True)       # R1 R0 AL read-only, OS reads 0, EM set
    sensor.write(b"\x01", stop=False)
    assert sensor.read(2) == b"\x7f\xb0"
    sensor.write(b"\x00", stop=False)
    assert sensor.read(4) == b"\x41\x01\x41\x01"   # 130 C in 13 bits (EM flag in bit 0), repeated
    sensor.write(b"\x00\x12\x34", stop=True)       # the temperature register is read-only
    assert sensor.read(2) == b"\x41\x01"


def test_tmp102_thresholds_power_on_values():
    sensor = Tmp102(VirtualClock())
    sensor.write(b"\x02", stop=False)
    assert sensor.read(2) == b"\x4b\x00"
    sensor.write(b"\x03", stop=False)
    assert sensor.read(2) == b"\x50\x00"


def test_a_heated_room_warms_while_power_flows_and_cools_back():
    clock = VirtualClock()
    power = [0.0]
    sensor = Tmp102(clock, 18.0, heater=lambda: power[0], heating_c_per_min=1.0, cooling_per_min=0.1)
    clock.set(60_000)
    sensor.advance()
    assert sensor.celsius == pytest.approx(18.0)   # no power: stays at ambient
    power[0] = 1.0
    clock.set(6 * 60_000)
    sensor.advance()
    warm = sensor.celsius
    assert 21.0 < warm < 23.0                      # ~1 C/min minus the loss to the room
    power[0] = 0.0
    clock.set(30 * 60_000)
    sensor.advance()
    assert 18.0 < sensor.celsius < warm - 2
