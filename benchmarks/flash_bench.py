"""Firmware install speed: tools/flash.py's installer against `mpremote cp`, both putting the same
firmware files on an empty virtual board, in the same run.

    flash_bytes_per_s        host.flashing: connect, hash check, write, read-back hash of every
                             file (verification on); firmware bytes / seconds
    mpremote_cp_bytes_per_s  mpremote's own code path (its command line's main(), in this
                             process like ours): `connect PORT cp -r shared_buffers firmware
                             main.py :` from a folder holding exactly the firmware's files
    flash_vs_mpremote        the ratio (goal: at least 1.0)

Each figure is the median of ROUNDS installs, each on a fresh empty board; starting the board
is not timed. Neither side restarts the board afterwards (mpremote cp does not).
"""
from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from host.board import VirtualBoard  # noqa: E402
from host.board_install import firmware_files  # noqa: E402
from host.flashing.board import connect  # noqa: E402
from host.flashing.firmware_install import install_firmware  # noqa: E402

ROUNDS = 5


def _time_flash(files: list[tuple[str, bytes]]) -> float:
    with VirtualBoard(log=lambda _m: None) as board:
        start = time.perf_counter()
        with connect(board.port) as b:
            report = install_firmware(b, files)
        seconds = time.perf_counter() - start
    assert len(report.sent) == len(files), report
    return seconds


def _time_mpremote(stage: str, files: list[tuple[str, bytes]]) -> float:
    from mpremote import main as mpremote_main
    tops = sorted({path.split("/")[0] for path, _ in files})
    argv = ["mpremote", "connect", "", "cp", "-r", *tops, ":"]
    with VirtualBoard(log=lambda _m: None) as board:
        argv[2] = board.port
        saved_argv, saved_cwd = sys.argv, os.getcwd()
        sys.argv = argv
        os.chdir(stage)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                start = time.perf_counter()
                code = mpremote_main.main()
                seconds = time.perf_counter() - start
        finally:
            sys.argv = saved_argv
            os.chdir(saved_cwd)
        assert code == 0, f"mpremote cp failed ({code})"
        for path, data in files:
            with open(os.path.join(board.flash_dir, path), "rb") as f:
                assert f.read() == data, path
    return seconds


def figures() -> dict[str, float]:
    files = firmware_files()
    total = sum(len(data) for _, data in files)
    flash, mpremote = [], []
    with tempfile.TemporaryDirectory() as stage:
        for path, data in files:
            os.makedirs(os.path.dirname(os.path.join(stage, path)), exist_ok=True)
            with open(os.path.join(stage, path), "wb") as f:
                f.write(data)
        for _ in range(ROUNDS):  # interleaved: a slow moment of the machine hits both
            flash.append(_time_flash(files))
            mpremote.append(_time_mpremote(stage, files))
    flash_rate = total / statistics.median(flash)
    mpremote_rate = total / statistics.median(mpremote)
    return {
        "flash_bytes_per_s": flash_rate,
        "mpremote_cp_bytes_per_s": mpremote_rate,
        "flash_vs_mpremote": flash_rate / mpremote_rate,
    }


if __name__ == "__main__":
    for name, value in figures().items():
        print(f"{name}: {value:.6g}")
