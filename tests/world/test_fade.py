"""The dimmer fades: the switch state changes at once, the PWM (what the load gets) moves 8 %
every 30 ms towards it (bluenet's PWM::updateValues at DIMMER_SOFT_ON_SPEED); the power entry
of the history comes when the fade ends. A relay switches at once."""
import textwrap

from host.simulator import Simulation
from host.world.scenario import parse_scenario

APP = """
    from microapp import *
    def loop():
        t = millis()
        if t == 100:
            CrownstoneSwitch.dim(100)
        if t == 1000:
            CrownstoneSwitch.dim(20)
"""
WORLD = "[load]\nwatts = 100\ndimmable = true\n"


def simulation(world=WORLD):
    return Simulation(textwrap.dedent(APP), scenario=parse_scenario(world))


def test_the_pwm_fades_up_8_every_30_ms_while_the_state_is_set_at_once():
    s = simulation()
    pwm = []
    for _ in range(7):
        s.step()
        pwm.append((s.clock.now_ms, s.world.switch.dimmer, s.world.load.pwm))
    # dimmed at 0.1 s; steps at 0.12, 0.15, 0.18, 0.21, ...: 100 % at 0.48 s
    assert pwm == [(0, 0, 0), (100, 100, 0), (200, 100, 24), (300, 100, 56), (400, 100, 80),
                   (500, 100, 100), (600, 100, 100)]


def test_the_power_entry_comes_when_the_fade_ends():
    summary = simulation().run(15)
    history = [(h["t"], h["what"], h.get("dimmer", h.get("mw"))) for h in summary["world"]["history"]
               if h["what"] in ("switch", "power")]
    # down from 100 to 20 at 1 s: 10 steps from 1.02 s, the last (4) at 1.29 s
    assert history == [(0.1, "switch", 100), (0.48, "power", 100_000),
                       (1.0, "switch", 20), (1.29, "power", 20_000)]


def test_a_relay_switches_at_once():
    summary = simulation("[load]\nwatts = 100\n").run(3)  # not dimmable: the relay
    history = [(h["t"], h["what"]) for h in summary["world"]["history"] if h["what"] in ("switch", "power")]
    assert history == [(0.1, "switch"), (0.1, "power")]
