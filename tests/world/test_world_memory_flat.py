"""A long run of a busy world stays small: the world's history (every switch change, power
reading, ...) streams to the --json file's spool as the device's log does, so the peak RSS of
300k ticks of an app that toggles the switch every tick (600k history entries) is that of a
short run; and the history written is whole."""
import json
import sys

import pytest

from tests.test_memory_flat import cli_peak_rss_kib

TOGGLING_APP = "from microapp import *\ndef loop():\n    CrownstoneSwitch.toggle()\n"
SCENARIO = "[load]\nwatts = 60\n"  # a load, so every toggle changes the power too
SHORT, LONG = 20_000, 300_000
SLACK_KIB = 4 * 1024  # kept in memory, the 580k more entries take some 200 MiB


def peak_rss_kib(tmp_path, ticks: int) -> int:
    app, scenario = tmp_path / "toggler.py", tmp_path / "world.toml"
    app.write_text(TOGGLING_APP)
    scenario.write_text(SCENARIO)
    cli = [sys.executable, "-m", "host.cli", "run", str(app), "--ticks", str(ticks), "--quiet",
           "--scenario", str(scenario), "--state", str(tmp_path / "state.json"),
           "--json", str(tmp_path / f"out-{ticks}.json")]
    return cli_peak_rss_kib(cli, 600)


@pytest.mark.slow
def test_300k_toggling_ticks_take_no_more_memory_than_a_short_run(tmp_path):
    short = peak_rss_kib(tmp_path, SHORT)
    long = peak_rss_kib(tmp_path, LONG)
    assert long - short < SLACK_KIB, f"peak RSS {short} KiB after {SHORT} ticks, {long} KiB after {LONG}"
    with open(tmp_path / f"out-{LONG}.json", encoding="utf-8") as f:
        world = json.load(f)["world"]
    history = world["history"]
    # loop() from tick 1: a switch change and a power change per tick, nothing lost
    assert len(history) == 2 * (LONG - 1)
    on = (LONG - 1) % 2
    assert history[-2:] == [
        {"t": (LONG - 1) / 10, "what": "switch", "source": "microapp", "relay": on, "dimmer": 0,
         "value": "toggle"},
        {"t": (LONG - 1) / 10, "what": "power", "source": "microapp", "mw": 60_000 * on}]
    assert world["switch"]["relay"] == on
