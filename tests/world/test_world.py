"""The world moved along by a scenario's timeline."""
import textwrap

from host.clock import VirtualClock
from host.world import presence as PR
from host.world import switch as S
from host.world.scenario import parse_scenario
from host.world.world import EVT_BEHAVIOUR_OVERRIDDEN, NEVER, STATE_SWITCH_STATE, World

SCENARIO = textwrap.dedent("""\
    timeline = [
      { t = 1, enter = "kitchen" },
      { t = 2, load = 100 },
      { t = 3, tap = true },
      { t = 4, mesh = "hi", from = 3 },
      { t = 5, leave = "kitchen" },
      { t = 6, temperature = 30 },
      { t = 7, cpu_busy_until = 9 },
      { t = 8, behaviour = 0 },
    ]
    [stone]
    id = 4
    uptime_s = 100
    [load]
    watts = 60
    [switch]
    behaviour = 100
    [rooms]
    kitchen = 2
    [people]
    ann = 3
    [[i2c]]
    address = 0x48
    device = "tmp102"
    celsius = 20
""")


def make(text=SCENARIO):
    clock = VirtualClock()
    world = World(parse_scenario(text), clock)
    heard, emitted = [], []
    world.outside = heard.append
    world.emitters.append(lambda cs_type, data: emitted.append((clock.now_ms, cs_type, data)))
    return world, clock, heard, emitted


def test_the_timeline_moves_the_world_each_thing_at_its_time():
    world, clock, heard, emitted = make()
    assert world.next_ms == 1000 and world.stone_id == 4
    world.advance(999)
    assert world.presence.mask() == 0
    world.advance(1000)
    assert world.presence.mask() == 1 << 2 and world.presence.mask(3) == 1 << 2
    world.advance(3000)
    assert world.load.watts == 100 and world.switch.relay       # the tap turned it on
    assert world.load.draw_mw() == 100_000
    assert world.load.power_mw() == 0                          # the meter has not seen a cycle yet
    clock.set(3100)
    assert world.load.power_mw() == round(100_000 * (1 - 0.8 ** 5))  # five mains cycles later
    clock.set(4500)
    assert world.load.power_mw() == 100_000                    # settled
    world.advance(4000)
    assert [a.kind for a in heard] == ["mesh"] and heard[0].fields == {"from": 3, "data": b"hi"}
    world.advance(14_999)
    assert world.presence.mask() == 1 << 2                     # left at 5 s, record alive 10 s
    assert world.sensors[0x48].celsius == 30
    assert world.cpu_busy(8999) and not world.cpu_busy(9000)
    assert not world.switch.relay                              # the behaviour went to 0 at 8 s
    world.advance(15_000)
    assert world.presence.mask() == 0 and world.next_ms == NEVER
    states = [(t, d) for t, ty, d in emitted if ty == STATE_SWITCH_STATE]
    assert states == [(3000, b"\x80"), (8000, b"\x00")]
    assert (3000, EVT_BEHAVIOUR_OVERRIDDEN, b"\x01") in emitted
    changes = [(t, ty, d[0]) for t, ty, d in emitted if ty == PR.EVT_PRESENCE_CHANGE]
    assert changes[0] == (1000, PR.EVT_PRESENCE_CHANGE, PR.PROFILE_LOCATION_ENTER)
    assert (15_000, PR.EVT_PRESENCE_CHANGE, PR.PROFILE_LOCATION_EXIT) in changes


def test_every_change_is_in_the_history_with_time_and_source():
    world, clock, _, _ = make()
    world.advance(2000)
    clock.set(2500)
    world.switch_command(S.FULLY_ON, "microapp")
    world.advance(3000)
    history = [(e["t"], e["what"], e["source"]) for e in world.summary()["history"]]
    assert history == [(1.0, "presence", "timeline"), (2.0, "load", "timeline"),
                       (2.0, "power", "timeline"), (2.5, "switch", "microapp"),
                       (2.5, "power", "microapp"), (3.0, "switch", "tap"), (3.0, "power", "tap")]
    assert world.summary()["switch"] == {"relay": 0, "dimmer": 0, "state": 0}


def test_a_heater_warms_the_room_only_while_switched_on():
    text = textwrap.dedent("""\
        [[i2c]]
        address = 0x48
        device = "tmp102"
        celsius = 18
        heater = true
        heating_c_per_min = 1.0
        cooling_per_min = 0.0
    """)
    world, clock, _, _ = make(text)
    sensor = world.sensors[0x48]
    clock.set(120_000)
    world.switch_command(S.FULLY_ON, "microapp")
    clock.set(240_000)
    world.switch_command(S.OFF, "microapp")
    clock.set(600_000)
    sensor.advance()
    assert abs(sensor.celsius - 20.0) < 1e-9   # two minutes of heating at 1 C/min


def test_a_default_world_has_a_stone_and_an_idle_switch():
    world = World(clock=VirtualClock())
    assert world.next_ms == NEVER and world.load.power_mw() == 0 and not world.switch.relay
