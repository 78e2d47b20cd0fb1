"""The run flag (firmware/run_flag.py) on the file systems a real board's /flash has: MicroPython's
littlefs v2 (the nrf port mounts its flash at /flash as the first of VfsLfs2, VfsLfs1, VfsFat it
has, ports/nrf/modules/scripts/_boot.py, with littlefs's default sizes; the PCA10040, PCA10056
and PCA10059 build with MICROPY_VFS_LFS2=1) and v1, run by the real firmware module in
MicroPython's unix port on a block device in RAM (4 KiB blocks, an nRF52's flash page) that
counts erases, beside the virtual board's VfsPosix:

    run_flag_erases_per_1000_entries_FS  4 KiB block erases the flag's writes cost over 1000
                                         entries into the app (an entry raises the flag, its
                                         end clears it: what every tick does); an nRF52's flash
                                         endures about 10 000 erases a block
    run_flag_heap_bytes_FS               the heap the flag holds (its open file; 64-bit VM)
    run_flag_found_after_reset_FS        1 when a board reset in the middle of an entry finds
                                         the app running at its next boot (did-reboot, as
                                         bluenet's IPC RAM flag gives), else 0

FS: lfs1, lfs2 and posix without a retained register (a MicroPython without machine.mem_backup:
the flag is the file's first byte), lfs2_register with one (the nrf port's GPREGRET2, as a
register that outlives the reset; the file then only names the app).

Not timed. `python benchmarks/run_flag_bench.py` prints them; `python benchmarks/run.py flag`.
"""
from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

ENTRIES = 1000

# Runs in the unix VM. The block device copies byte by byte: littlefs calls it with the heap
# locked, where a slice would allocate.
_PROBE = """
import gc, os, sys, vfs
sys.path.insert(0, %(root)r)
class Flash:
    def __init__(self, data):
        self.data = data
        self.erases = 0
    def readblocks(self, n, buf, off=0):
        a = n * 4096 + off
        for i in range(len(buf)):
            buf[i] = self.data[a + i]
    def writeblocks(self, n, buf, off=None):
        if off is None:
            self.erases += 1
            off = 0
        a = n * 4096 + off
        for i in range(len(buf)):
            self.data[a + i] = buf[i]
    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // 4096
        if op == 5:
            return 4096
        if op == 6:
            self.erases += 1
            return 0
class Register:  # a retained register (machine.mem_backup's region): it outlives the reset
    itemsize = 1
    def __init__(self):
        self.value = 0
    def __getitem__(self, i):
        return self.value
    def __setitem__(self, i, value):
        self.value = value & 0xFF
class Machine:
    def __init__(self):
        self.register = Register()
    def mem_backup(self, region=0):
        return self.register
from firmware import run_flag
for name in ('lfs1', 'lfs2', 'posix', 'lfs2_register'):
    if name == 'lfs2_register':  # the nrf port's machine.mem_backup (GPREGRET2)
        sys.modules['machine'] = Machine()
    if name == 'posix':
        os.chdir(%(tmp)r)
    else:
        cls = vfs.VfsLfs1 if name == 'lfs1' else vfs.VfsLfs2
        flash = Flash(bytearray(4096 * 32))
        cls.mkfs(flash)
        vfs.mount(cls(flash), '/' + name)
        os.chdir('/' + name)
    # a fresh boot's module state (the last file system's file let go before the baseline)
    run_flag._file, run_flag._armed, run_flag._register = None, False, None
    gc.collect()
    base = gc.mem_alloc()
    run_flag.at_boot('installed.py')
    gc.collect()
    print('run_flag_heap_bytes_' + name + ':', gc.mem_alloc() - base)
    run_flag.start('app.py')
    before = 0 if name == 'posix' else flash.erases
    for _ in range(%(entries)d):
        run_flag.enter()
        run_flag.leave(None)
    if name != 'posix':
        print('run_flag_erases_per_1000_entries_' + name + ':', (flash.erases - before) * 1000 // %(entries)d)
    run_flag.enter()  # the board resets here: the VFS is gone, what reached the flash is left
    run_flag._file, run_flag._armed, run_flag._register = None, False, None
    if name != 'posix':
        vfs.mount(cls(Flash(bytearray(flash.data))), '/after_' + name)
        os.chdir('/after_' + name)
    found = run_flag.at_boot('installed.py')  # the app it blames
    print('run_flag_found_after_reset_' + name + ':', 1 if found == 'app.py' else 0)
"""


def figures() -> dict[str, int]:
    import tempfile

    from host.board.unix_vm import VmEngine
    with tempfile.TemporaryDirectory() as tmp:
        probe = _PROBE % {"root": ROOT, "tmp": tmp, "entries": ENTRIES}
        done = subprocess.run(VmEngine().command + ["micropython", "-c", probe],
                              capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"the unix VM failed: {done.stderr[-2000:]}")
    return {name: int(value) for name, value in (line.split(": ") for line in done.stdout.splitlines())}


if __name__ == "__main__":
    if sys.argv[1:]:
        print("run_flag_bench.py: takes no arguments", file=sys.stderr)
        sys.exit(2)
    for name, value in figures().items():
        print(f"{name}: {value}")
