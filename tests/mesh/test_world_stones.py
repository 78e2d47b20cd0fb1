"""Each stone in its own world (host/world): a stone's presence timeline, a mesh message to
another stone, and that stone's switch and load, one world each."""
import json

import pytest

from host.limits import Limits
from host.mesh.scenario import ScenarioError

# Stone 1 sees the kitchen (its world's presence timeline) and tells stone 2 when that changes.
SENSOR = """
from microapp import *
was = False
def loop():
    global was
    now = Presence.isPresent(0, 3)
    if now != was:
        was = now
        Mesh.sendMeshMsg("on" if now else "off", 2)
        print("kitchen", "busy" if now else "empty")
"""

# Stone 2 switches its lamp (its world's load) as stone 1 says.
LAMP = """
from microapp import *
def on_message(msg):
    if msg.dataPtr == b"on":
        CrownstoneSwitch.turnOn()
    else:
        CrownstoneSwitch.turnOff()
    print("lamp", msg.dataPtr.decode(), "at", millis())
def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()
"""

KITCHEN = """
timeline = [
  { t = 2, enter = "kitchen", person = "ann" },
  { t = 9, leave = "kitchen", person = "ann" },
]
[stone]
id = 9
uptime_s = 600
[rooms]
kitchen = 3
[people]
ann = 0
"""

LAMP_WORLD = """
[stone]
uptime_s = 600
[load]
watts = 60
"""

SCENARIO = """
[[stone]]
id = 1
app = "sensor.py"
world = "kitchen.toml"
[[stone]]
id = 2
app = "lamp.py"
world = "lamp.toml"
phase_ms = 40
[[link]]
a = 1
b = 2
"""

APPS = {"sensor.py": SENSOR, "lamp.py": LAMP, "kitchen.toml": KITCHEN, "lamp.toml": LAMP_WORLD}


def lamp_lines(result):
    """(what, network time rounded down to 0.1 s) of the lamp's lines."""
    return [(text.split()[1], int(t / 100_000) / 10) for t, sid, text in result.log if sid == 2]


def test_a_mesh_message_from_a_stone_that_sees_presence_switches_another_stones_lamp(mesh):
    on = mesh(SCENARIO, APPS, minutes=5 / 60)  # 5 s: ann is in the kitchen
    assert on.stone_log(1) == ["kitchen busy"]
    assert lamp_lines(on) == [("on", 2.0)]  # a tick and a hop after she came in
    assert on.stones[2]["world"]["switch"]["relay"] == 1 and on.stones[2]["world"]["power_mw"] > 50_000
    assert on.stones[1]["world"]["stone_id"] == 1  # its world's [stone] id is the mesh's
    assert on.stones[1]["world"]["presence_mask"] == "0x8"
    off = mesh(SCENARIO, APPS, minutes=25 / 60)  # she left at 9 s: bluenet says so 10 s later
    assert off.stone_log(1) == ["kitchen busy", "kitchen empty"]
    assert lamp_lines(off) == [("on", 2.0), ("off", 19.0)]
    assert off.stones[2]["world"]["switch"]["relay"] == 0 and off.stones[2]["world"]["power_mw"] == 0
    tick_by_tick = mesh(SCENARIO, APPS, minutes=25 / 60, limits=Limits(idle_grant=1))
    assert json.dumps(off.to_json()) == json.dumps(tick_by_tick.to_json())


def test_a_missing_world_file_names_the_scenario_line(mesh):
    with pytest.raises(ScenarioError, match=r"scenario1.toml:5: stone 1: world 'nowhere.toml': no such file"):
        mesh(SCENARIO.replace("kitchen.toml", "nowhere.toml"), APPS)


def test_a_mistake_in_a_world_names_the_worlds_file_and_line(mesh):
    apps = dict(APPS, **{"lamp.toml": LAMP_WORLD.replace("watts = 60", "watts = 99999")})
    with pytest.raises(ScenarioError, match=r"lamp.toml:5: load.watts = 99999 is out of range"):
        mesh(SCENARIO, apps)


def test_the_cli_names_a_mistake_in_a_world_with_exit_2_also_in_a_sweep(tmp_path, capsys):
    from host.cli import main
    for name, text in dict(APPS, **{"lamp.toml": "[load]\nwatts = -1\n"}).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "mesh.toml").write_text(SCENARIO)
    for extra in ([], ["--seeds", "1-2"]):
        assert main(["mesh", str(tmp_path / "mesh.toml"), "--minutes", "0.01", "--quiet", *extra]) == 2
        err = capsys.readouterr().err
        assert "lamp.toml:2: load.watts = -1 is out of range" in err and "Traceback" not in err
