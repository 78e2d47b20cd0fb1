"""`flash.py firmware --hex FILE`: put a MicroPython image on the chip before the firmware's
files, with pyocd (a debug probe: the PCA10040/PCA10056 on-board J-Link/DAPLink) or with nrfutil
(a DFU bootloader over USB serial, e.g. the PCA10059 dongle). Whichever is installed is used,
pyocd first; docs/flashing.md has the details."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

from host.flashing import FlashError

TARGETS = {"pca10040": "nrf52", "pca10056": "nrf52840", "pca10059": "nrf52840"}
_PORT_BACK_S = 15.0  # how long the board's serial port may take to come back after flashing


def find_tool(preferred: str | None = None) -> str:
    for tool in ([preferred] if preferred else ["pyocd", "nrfutil"]):
        if shutil.which(tool):
            return tool
    wanted = preferred or "pyocd or nrfutil"
    raise FlashError(f"--hex needs {wanted} installed (`pip install pyocd` for the board's "
                     f"debug probe, `pip install nrfutil` for a DFU bootloader)")


def flash_hex(hex_file: str, board: str, port: str, tool: str | None = None) -> str:
    """Write a MicroPython image; wait for `port` to come back. Returns the tool used."""
    if not os.path.isfile(hex_file):
        raise FlashError(f"{hex_file}: no such file")
    tool = find_tool(tool)
    if tool == "pyocd":
        _run(["pyocd", "flash", "--target", TARGETS[board], "--erase", "chip", hex_file], tool)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            package = os.path.join(tmp, "micropython.zip")
            _run(["nrfutil", "pkg", "generate", "--hw-version", "52", "--sd-req", "0x00",
                  "--application", hex_file, "--application-version", "1", package], tool)
            _run(["nrfutil", "dfu", "usb-serial", "-pkg", package, "-p", port], tool)
    deadline = time.monotonic() + _PORT_BACK_S
    while "://" not in port and not os.path.exists(port):
        if time.monotonic() > deadline:
            raise FlashError(f"{port} did not come back after flashing {hex_file}")
        time.sleep(0.2)
    time.sleep(1.0)  # MicroPython's first boot formats its filesystem
    return tool


def _run(argv: list[str], tool: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise FlashError(f"{tool} failed: {lines[-1] if lines else f'exit code {done.returncode}'}")
