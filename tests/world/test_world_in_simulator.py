"""The world inside a simulation: the CPU-busy stretch, bluenet events raised by the app's own
request, per-profile presence, and the advertisement other stones would see."""
import textwrap

from host.limits import Limits
from host.simulator import Simulation
from host.world.scenario import parse_scenario


def sim(app, world, limits=None):
    return Simulation(textwrap.dedent(app), scenario=parse_scenario(textwrap.dedent(world)), limits=limits)


def test_a_cpu_busy_stretch_skips_ticks_and_drops_interrupts():
    s = sim("""
        from microapp import *
        def on_message(data):
            print("message", data)
        def setup():
            Message.begin()
            Message.setHandler(on_message)
        def loop():
            print("loop")
    """, """
        timeline = [
          { t = 1, cpu_busy_until = 2 },
          { t = 1.5, message = "lost" },
          { t = 2.5, message = "kept" },
        ]
    """)
    summary = s.run(30)
    loops = [t for t, text in summary["log"] if text == "loop"]
    assert 0.9 in loops and 2.0 in loops and not any(1.0 <= t < 2.0 for t in loops)
    assert summary["ticks_skipped_cpu_busy"] == 10
    assert [text for _, text in summary["log"] if text.startswith("message")] == ["message b'kept'"]
    assert summary["interrupts"]["cpu_busy"] == 1
    results = [h["result"] for h in summary["world"]["history"] if h["what"] == "message_in"]
    assert results == ["ERR_BUSY", "SUCCESS"]   # what the sender was told


def test_an_event_raised_by_the_apps_own_request_comes_after_that_entry_at_its_time():
    s = sim("""
        from microapp import *
        def on_event(kind, data):
            print("event", kind, data.hex())
        def setup():
            BluenetInternal.setEventHandler(on_event)
            BluenetInternal.subscribe(129)
        def loop():
            if millis() == 500:
                CrownstoneSwitch.turnOn()
                print("switched")
    """, "[load]\nwatts = 10\n")
    summary = s.run(8)
    assert [(t, text) for t, text in summary["log"]] == [(0.5, "switched"), (0.5, "event 129 80")]


def test_presence_per_profile_is_ours_behind_a_limit():
    app = """
        from microapp import *
        def loop():
            print(Presence.getPresence(0), Presence.getPresence(2))
    """
    world = """
        timeline = [ { t = 0, enter = "den", person = "kid" } ]
        [stone]
        uptime_s = 60
        [rooms]
        den = 5
        [people]
        kid = 2
    """
    bluenet = sim(app, world).run(2)["log"][-1][1]
    ours = sim(app, world, Limits(presence_per_profile=1)).run(2)["log"][-1][1]
    assert bluenet == "32 0" and ours == "0 32"


def test_the_apps_service_data_is_the_stones_advertisement():
    s = sim("""
        from microapp import *
        def setup():
            ServiceData.write(0xCAFE, b"\\x01\\x02")
    """, "")
    s.run(1)
    assert s.world.advertisement == (0xCAFE, b"\x01\x02")
