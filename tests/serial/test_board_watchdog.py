"""The watchdog of the serial link: an app that stops yielding on the (virtual) board is detected
within the limit, the board is reset over its REPL (Ctrl-C, Ctrl-B, Ctrl-D: main.py serves
again), the app is flagged did-reboot and disabled, and the host goes on."""
import pytest

from host.limits import Limits
from host.sdk_types import mesh
from shared_buffers import protocol as P

HUNG_IN_LOOP = """
    n = 0
    def loop():
        global n
        n += 1
        print("tick", n)
        if n == 2:
            while True:
                pass
"""
HUNG_IN_HANDLER = """
    from microapp import *
    def on_message(msg):
        print("handling")
        while True:
            pass
    def setup():
        Mesh.setIncomingMeshMsgHandler(on_message)
        Mesh.listen()
"""



@pytest.mark.parametrize("app", [HUNG_IN_LOOP, HUNG_IN_HANDLER], ids=["loop", "handler"])
def test_a_hung_app_is_detected_the_board_reset_and_the_app_disabled(microapp_board, app):
    run = microapp_board(app, limits=Limits(watchdog_ms=300))
    run.run(2)
    if app is HUNG_IN_HANDLER:
        run.sim.controller.interrupt(P.MESH, *mesh.interrupt(2, b"hi"))
    run.run(3)
    summary = run.summary()
    assert [f["where"] for f in summary["faults"]] == ["watchdog"]
    assert "did not yield within 300 ms; it was reset" in summary["faults"][0]["error"]
    assert summary["enabled"] is False and summary["did_reboot"] is True
    assert run.link.stats["resets"] == 1
    console = list(run.link.console)
    assert "KeyboardInterrupt: " in console and "MPY: soft reboot" in console  # what the board said
    ticks, frames = summary["ticks"], run.link.stats["frames"]
    run.run(50)  # the host goes on; a disabled app is not resumed: no frame, no wait
    assert run.summary()["ticks"] == ticks + 50 and run.link.stats["frames"] == frames


def test_after_the_reset_the_board_serves_the_next_app(microapp_board):
    hung = microapp_board(HUNG_IN_LOOP, limits=Limits(watchdog_ms=300))
    hung.run(4)
    assert hung.summary()["did_reboot"]
    fine = microapp_board("def loop():\n    print('fine')\n")
    fine.expect("fine", timeout=5)
    assert fine.summary()["faults"] == []
