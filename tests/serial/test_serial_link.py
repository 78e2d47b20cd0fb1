"""The serial link against the virtual board (the pytest plugin's session board): an app runs as
in the simulator, restart() gives a fresh app, lost frames either way are resent and handled
once, a board reset behind the host's back and an app that does not load are clear."""
import textwrap

import pytest
import serial

from host.links.serial_link import BoardError, SerialLink
from host.simulator import Simulation
from tests.serial.noisy_port import LossyPort

COUNTER_APP = """
    from microapp import *
    count = 0
    def setup():
        print("setup", Mesh.id())
    def loop():
        global count
        count += 1
        print("count", count)
"""



def summary_without_time(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "time_ms"}


def test_an_app_runs_on_the_board_as_in_the_simulator(microapp_board):
    on_board = microapp_board(COUNTER_APP).run(6)
    in_simulator = Simulation(textwrap.dedent(COUNTER_APP)).run(6)
    assert on_board["log"] == [[0.0, "setup 1"]] + [[n / 10, f"count {n}"] for n in range(1, 6)]
    assert summary_without_time(on_board) == summary_without_time(in_simulator)


def test_restart_gives_a_fresh_app_whose_setup_runs_again(microapp_board):
    run = microapp_board(COUNTER_APP)
    run.run(3)
    run.sim.controller.enable()  # bluenet's Enable: the app afresh, through link.restart()
    run.run(3)
    texts = [text for _, text in run.summary()["log"]]
    assert texts == ["setup 1", "count 1", "count 2", "setup 1", "count 1", "count 2"]


def test_lost_frames_either_way_are_resent_and_handled_once(board_under_test):
    path = board_under_test.install_app(textwrap.dedent(COUNTER_APP))
    port = LossyPort(serial.serial_for_url(board_under_test.port), lose_out={3, 6}, lose_in={5, 8})
    with SerialLink(port, path, resend_ms=20) as link:
        summary = Simulation(None, link=link).run(5)
        assert [text for _, text in summary["log"]] == ["setup 1", "count 1", "count 2", "count 3", "count 4"]
        assert summary["faults"] == []
        assert link.stats["resent"] >= 4


def test_a_board_reset_behind_the_hosts_back_loses_the_session(microapp_board):
    run = microapp_board(COUNTER_APP)
    run.run(2)
    run.link.reset_board()  # as if someone pressed reset: the firmware boots afresh
    summary = run.run(2)
    assert summary["faults"][-1]["where"] == "watchdog"
    assert "lost the app's session" in summary["faults"][-1]["error"]
    assert summary["enabled"] is False and summary["did_reboot"] is True
    assert any("soft reboot" in line for line in run.link.console)


def test_an_app_that_does_not_load_on_the_board_is_a_clear_error(board_under_test):
    path = board_under_test.install_app("import microapp\nmicroapp.no_such_thing\n")
    with pytest.raises(BoardError, match="does not load on the board: AttributeError"):
        SerialLink(board_under_test.port, path)
    with pytest.raises(BoardError, match="does not load on the board: .*ENOENT|No such"):
        SerialLink(board_under_test.port, "test_apps/missing.py")
