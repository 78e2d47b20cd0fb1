"""Board profiles: the limits of a real nRF52 board running MicroPython's nrf port.

Heap figures come from the nrf port's linker scripts (ports/nrf/boards/memory.ld and the
per-chip .ld files): the heap is what lies between the end of .bss and the stack,

    heap = RAM - SoftDevice RAM - stack (8 KiB) - (.data + .bss)

* nRF52832 (PCA10040): 64 KiB RAM (nrf52832_512k_64k.ld, _minimum_heap_size 32 KiB);
  s132 6.1.1 reserves 0x39c0 = 14 784 bytes of RAM.
* nRF52840 (PCA10056, PCA10059 dongle): 256 KiB RAM (nrf52840_1M_256k.ld,
  _minimum_heap_size 128 KiB); s140 6.1.1 reserves 0x39c0 bytes; the dongle's open
  bootloader reserves 8 bytes.

The port's .data + .bss is not in any source file (it is what the linker makes of the
build); these profiles take 4 KiB for it. ``make BOARD=PCA10040`` (docs/flashing.md) builds
without a SoftDevice, so the profiles use the figures without one.

The REPL's input buffer is the UART driver's receive ring buffer, 64 bytes
(``rx_ringbuf_array[64]`` in ports/nrf/modules/machine/uart.c); a raw-paste window of half of
it (32) keeps a second window's worth of room. The REPL UART runs at 115200 baud.

Since MicroPython 1.28 the nrf port has a ROMFS partition between the firmware and the
filesystem (commit 610552010d "nrf: Add support for VfsRom filesystem"): 128 KiB on the
nRF52832 (nrf52832_512k_64k.ld), 256 KiB on the nRF52840 (nrf52840_1M_256k.ld), mounted at
/rom at start-up (py/runtime.c mp_vfs_mount_romfs_protected); `vfs.rom_ioctl(2, 0)` gives it as
an nrf.Flash block device, which `mpremote romfs deploy` (and tools/flash.py firmware --romfs)
erases and writes. Modules in it run in place: their bytecode and constants stay in flash.
"""

from __future__ import annotations

from typing import NamedTuple

KIB = 1024
STACK = 8 * KIB
DATA_BSS = 4 * KIB  # taken for .data + .bss of an nrf port build (not measured here)
SOFTDEVICE_RAM = 0x39C0  # s132 / s140 6.1.1


class BoardProfile(NamedTuple):
    name: str
    chip: str
    ram: int
    heap: int  # MicroPython heap, no SoftDevice
    heap_with_softdevice: int
    repl_buffer: int  # REPL input (UART receive) buffer in bytes
    raw_paste_window: int
    baud: int
    romfs: int  # the ROMFS partition (MicroPython >= 1.28: _micropy_hw_romfs_part0_size)


def _heap(ram: int, reserved: int = 0) -> int:
    return ram - reserved - STACK - DATA_BSS


PROFILES: dict[str, BoardProfile] = {
    "pca10040": BoardProfile(
        "pca10040", "nRF52832", 64 * KIB, _heap(64 * KIB), _heap(64 * KIB, SOFTDEVICE_RAM),
        repl_buffer=64, raw_paste_window=32, baud=115200, romfs=128 * KIB,
    ),
    "pca10056": BoardProfile(
        "pca10056", "nRF52840", 256 * KIB, _heap(256 * KIB), _heap(256 * KIB, SOFTDEVICE_RAM),
        repl_buffer=64, raw_paste_window=32, baud=115200, romfs=256 * KIB,
    ),
}
DEFAULT_PROFILE = "pca10040"


def profile(name: str) -> BoardProfile:
    """The named profile; ValueError naming the known ones."""
    try:
        return PROFILES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown board profile {name!r} (known: {', '.join(PROFILES)})") from None
