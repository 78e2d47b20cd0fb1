"""The board keeps its own flags (issue 12), on the virtual board (the real MicroPython VM): an
app that was running when the board reset is marked did-reboot in the app store and not started
again until enabled; a reset by the host's watchdog is such a reset; the app cannot write the
firmware's files or the app store's metadata."""
import threading
import time
from pathlib import Path

import pytest

from firmware.app_store import AppStore, crc16_ccitt
from host.board.virtual_board import VirtualBoard
from host.board_install import install_to_dir
from host.limits import Limits
from host.links.serial_link import SerialLink
from host.simulator import Simulation
from shared_buffers import serial_frame as F

pytestmark = pytest.mark.slow
HEADER = b"# microapp sdk=1.0 build=1\n"
HANGS_IN_LOOP = HEADER + b"""
n = 0
def loop():
    global n
    n += 1
    print("tick", n)
    if n == 3:
        while True:
            pass
"""


def install_in_store(flash: Path, app: bytes) -> AppStore:
    """What tools/flash.py app leaves: the app in slot 0, validated and enabled."""
    store = AppStore(str(flash / "apps"))
    for offset in range(0, len(app), 256):
        assert store.upload(0, offset, app[offset:offset + 256]) == 0
    assert store.validate(0, len(app), crc16_ccitt(app)) == 0
    assert store.enable(0) == 0
    return store


@pytest.fixture
def flash(tmp_path: Path) -> Path:
    d = tmp_path / "flash"
    d.mkdir()
    install_to_dir(str(d))
    return d


def test_an_app_hung_at_a_reset_is_marked_did_reboot_and_not_started_until_enabled(flash):
    store = install_in_store(flash, HANGS_IN_LOOP)
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        link = SerialLink(board.port, "", watchdog_ms=500, reset=True)  # the installed app
        try:
            sim = Simulation(None, link=link, limits=Limits(watchdog_ms=500))
            resets = link.stats["resets"]
            summary = sim.run(6)
            assert summary["did_reboot"] and [f["where"] for f in summary["faults"]] == ["watchdog"]
            assert link.stats["resets"] == resets + 1  # the host's watchdog reset the board
            # the board blamed the app on its own, at the boot after the host's reset
            assert store.slot_info(0)["did_reboot"] and store.enabled_app() is None
            assert link.info[0] == F.INFO_LOAD_ERROR and link.info[6] == "OSError: no app enabled"
            # every later boot leaves it alone too
            assert link.reset_board() and link.info[0] == F.INFO_LOAD_ERROR
            # bluenet's Enable clears the flag: the next boot starts it again
            assert store.enable(0) == 0
            assert link.reset_board() and link.info[0] == F.INFO_READY
        finally:
            link.close()


def test_a_path_app_running_at_a_reset_is_not_started_by_the_board_on_its_own(flash):
    (flash / "app.py").write_bytes(HANGS_IN_LOOP)  # the installed app without a store slot
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        link = SerialLink(board.port, "", watchdog_ms=500, reset=True)
        try:
            sim = Simulation(None, link=link, limits=Limits(watchdog_ms=500))
            assert sim.run(6)["did_reboot"]
            assert link.info[0] == F.INFO_LOAD_ERROR and "did-reboot" in link.info[6]
            assert (flash / "microapp_running").read_bytes() == b"Dapp.py\n"
        finally:
            link.close()


ATTACKER = HEADER + b"""
def setup():
    for attack in ("open('main.py', 'w')", "import os", "import firmware.app_store",
                   "import builtins", "__import__('uos')"):
        try:
            exec_it(attack)
        except Exception as e:
            print(attack, type(e).__name__)

def exec_it(attack):
    if attack.startswith("open"):
        open("main.py", "w")
    elif attack == "import os":
        import os
    elif attack == "import firmware.app_store":
        import firmware.app_store
    elif attack == "import builtins":
        import builtins
    else:
        __import__("uos")

def loop():
    global open
    del open  # the loader's shadow: MicroPython's builtin open is the firmware's guarded one
    try:
        open("apps/0.meta", "w").write("{}")
    except OSError as e:
        print("open after del", type(e).__name__, e.args[0])
"""


def test_the_app_cannot_write_the_firmware_or_the_app_stores_metadata(flash):
    store = install_in_store(flash, ATTACKER)
    files = {p: p.read_bytes() for p in flash.rglob("*") if p.is_file() and p.name != "microapp_running"}
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        link = SerialLink(board.port, "", reset=True)
        lines = []
        try:
            sim = Simulation(None, link=link, on_log=lambda t, text: lines.append(text))
            sim.run(4)
        finally:
            link.close()
    assert lines[:6] == ["open('main.py', 'w') NameError", "import os ImportError",
                         "import firmware.app_store ImportError", "import builtins ImportError",
                         "__import__('uos') ImportError", "open after del OSError 1"]
    assert {p: p.read_bytes() for p in files} == files
    assert store.enabled_app() is not None



RUNNING = 0x52  # the firmware's GPREGRET2 value while the app runs (firmware/run_flag.py)


def wait_for(condition, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["reset", "power cut"])
def test_the_flag_is_a_retained_register_a_reset_keeps_and_a_power_cut_clears(flash, how):
    """bluenet's flag is in RAM kept over a warm reset (IPC RAM); the board's is GPREGRET2
    (machine.mem_backup(1)): a reset while the app runs blames it, a power cut blames nothing
    (the app loads at power-on). The flag file is not written per entry."""
    store = install_in_store(flash, HANGS_IN_LOOP)
    lines = []
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        link = SerialLink(board.port, "", watchdog_ms=60_000, reset=True)
        sim = Simulation(None, link=link, limits=Limits(watchdog_ms=60_000),
                         on_log=lambda t, text: lines.append(text))
        def run():
            try:
                sim.run(6)
            except Exception:  # the link fails when the test resets or powers off the board
                pass
        threading.Thread(target=run, daemon=True).start()
        try:
            wait_for(lambda: "tick 3" in lines and board.retained[1] == RUNNING)  # hung in loop()
            assert (flash / "microapp_running").read_bytes() == b"-app.py\n"  # named, not flagged
            if how == "reset":  # as the chip's watchdog would
                board.hard_reset()
                wait_for(lambda: store.slot_info(0)["did_reboot"])
                assert store.enabled_app() is None
        finally:
            link.close()
    if how == "power cut":
        with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
            assert board.retained[1] == 0
            link = SerialLink(board.port, "", reset=True)
            try:
                assert link.info[0] == F.INFO_READY  # the installed app loads: not blamed
                assert not store.slot_info(0)["did_reboot"]
            finally:
                link.close()


# Hangs in its top-level code: the board, loading it at boot, stays inside the app's entry.
HANGS_AT_IMPORT = HEADER + b"""
while True:
    pass
def loop():
    pass
"""


def test_an_app_the_boot_loads_is_named_so_a_reset_in_its_top_level_code_blames_it(flash):
    """No session named it (no HELLO yet): the boot itself names the installed app in the flag
    file, so the reset while it hangs in its import is its did-reboot, not a boot loop."""
    store = install_in_store(flash, HANGS_AT_IMPORT)
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        wait_for(lambda: board.retained[1] == RUNNING)  # booted, stuck in the app's import
        assert (flash / "microapp_running").read_bytes() == b"-app.py\n"
        board.hard_reset()
        wait_for(lambda: store.slot_info(0)["did_reboot"])
        assert store.enabled_app() is None
