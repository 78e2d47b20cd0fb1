"""The RAM an app holds on the board: what the firmware measured after the app's setup() (live
heap, after a collection; firmware/board_main.py writes it to APP_RAM_FILE), against a budget.

bluenet gives a microapp 4 KiB of RAM (its reference budget here); the hard limit is the heap the
board has left once the firmware is up: its free heap at the REPL less what the firmware takes.
"""
from __future__ import annotations

from typing import NamedTuple

from firmware.board_main import APP_RAM_FILE
from host.flashing import FlashError
from host.flashing.board import Board

BLUENET_APP_RAM = 4096


# A budget is in the nRF52's 32-bit bytes; on a 64-bit MicroPython (the virtual board) the
# same objects take this much more room (host/board/virtual_board.py, WORD_SCALE).
WORD_SCALE_64 = 1.5


class HeapFigures(NamedTuple):
    free_at_repl: int   # heap free to user code at the REPL, after a collection
    firmware: int       # what the firmware holds once booted (firmware_heap())
    app: int | None     # what the app held after setup(), None when not measured yet
    word_scale: float = 1.0  # WORD_SCALE_64 on a 64-bit board

    @property
    def left_for_app(self) -> int:
        return self.free_at_repl - self.firmware


def repl_heap(board: Board) -> tuple[int, int, float]:
    """(free, in use) at the board's raw REPL right after its last soft reset, after a
    collection (measured before any tool's code ran there: what info and app load at the REPL,
    the app store above all, is not in it), and the board's word scale."""
    free, used, wide = board.fresh_heap
    return free, used, WORD_SCALE_64 if wide else 1.0


def firmware_heap(board: Board, boot: tuple) -> int:
    """What the firmware holds once booted, live after a collection: its boot INFO's heap in use
    (board.restart_firmware()) less the REPL's right after a soft reset. That is what main.py and
    the firmware took from a bare board; FIRMWARE_HEAP_PROBE (benchmarks/flash_bench.py) finds
    a little less, as its baseline already holds its own code and names (docs/flashing.md)."""
    return boot[2] - repl_heap(board)[1]


def recorded_app_ram(board: Board, app_path: str | None = None) -> int | None:
    """The firmware's last record (for `app_path`, when given); None when there is none."""
    text = _read_record(board)
    if not text:
        return None
    path, _, size = text.strip().rpartition(" ")
    if app_path is not None and path != app_path:
        return None
    try:
        return int(size)
    except ValueError:
        return None


def _read_record(board: Board) -> str:
    out = board.exec("try:\n f=open(%r)\n print(f.read().strip())\n f.close()\n"
                     "except OSError:\n print('')" % APP_RAM_FILE)
    return out.decode("utf-8", "replace").strip()


def forget_record(board: Board) -> None:
    """Remove the firmware's last record (before an app runs whose figure is wanted)."""
    board.exec("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass" % APP_RAM_FILE)


# setup() may take more than one tick (bluenet: 4 requests an entry, then the next tick goes on)
SETUP_TICKS = 100


def run_setup(port) -> None:
    """Start a session with the installed app on the firmware serving `port` (a URL or an open
    serial port) and run its setup() to its end (SETUP_TICKS at most: a setup() that is not
    done by then is cut off, which the board's run flag then holds against the app);
    FlashError when setup() raised or did not end."""
    from host.links.serial_link import BoardError, SerialLink
    from host.simulator import Simulation
    timeout = None if isinstance(port, str) else port.timeout
    try:
        link = SerialLink(port)
        try:
            simulation = Simulation(None, link=link)
            for _ in range(SETUP_TICKS):
                summary = simulation.run(1)
                if simulation.controller.setup_done or summary["faults"]:
                    break
        finally:
            if isinstance(port, str):
                link.close()
            else:  # an open port stays its owner's, with its own read timeout
                port.timeout = timeout
    except BoardError as e:
        raise FlashError(f"the app did not run: {e}") from None
    failed = [f["error"] for f in summary["faults"] if f["where"] == "setup"]
    if failed:
        raise FlashError(f"the app's setup() failed on the board: {failed[0]}")
    if not simulation.controller.setup_done:
        raise FlashError(f"the app's setup() did not end within {SETUP_TICKS} ticks on the board")


def check_budget(figures: HeapFigures, budget: int) -> None:
    """FlashError with the figures when the app holds more than `budget` bytes or more than the
    board has left for it."""
    if figures.app is None:
        return
    limit = figures.left_for_app
    scaled = int(budget * figures.word_scale)
    wide = f" ({budget} x {figures.word_scale} on this 64-bit board)" if figures.word_scale != 1 else ""
    where = (f"the app holds {figures.app} bytes after setup(); the budget is {scaled}{wide} "
             f"(bluenet: {BLUENET_APP_RAM}); the board has {limit} left for an app "
             f"({figures.free_at_repl} free at the REPL, the firmware takes {figures.firmware})")
    if figures.app > limit:
        raise FlashError(f"the app does not fit: {where}")
    if figures.app > scaled:
        raise FlashError(f"the app is over its RAM budget: {where}; raise --ram-budget to allow it")
