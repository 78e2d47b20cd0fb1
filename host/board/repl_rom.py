"""The board-side REPL of the virtual board, as MicroPython source run inside the VM.

MicroPython's unix port has no raw REPL (its REPL is its own, not ``pyexec.c``'s), so the
virtual board runs this program (``micropython -c SOURCE``) as its "firmware": it reads the
serial port (the VM's stdin, a pty) byte by byte and reproduces what MicroPython's
``pyexec.c`` does on a real board: friendly REPL with echo, line editing, history,
auto-indent, paste mode; raw REPL; raw-paste mode with flow control; soft reset; running
boot.py and main.py from /flash.

The program talks to the host supervisor (host/board/virtual_board.py) in three ways only:

* a line ``run <ctx> <n>`` on its channel (see unix_vm.py) before user code runs and
  ``repl <n>`` after, so that the supervisor knows when a Ctrl-C (0x03) must stop the VM
  (user code running) and when it is REPL input. ``<n>`` is how many 0x03 bytes the REPL has
  read; the answer is ``1`` when the supervisor has forwarded more than that (a Ctrl-C is
  already on its way), and the REPL then does not start the code.
* a line ``retain <region> <value>`` when the program writes a retained register
  (``machine.mem_backup``), which the supervisor keeps for the next VM start (answer ``0``).
* the exit code of the VM: 10 = soft reset into the friendly REPL, 11 = soft reset into the
  raw REPL, 12 = the serial port went away.

The program lives in the board's heap; the block reserved before it (``USER``) and the ballast
``fill_heap`` takes around it leave user code exactly the board's free heap (``FREE``), in one
block, at the prompt.

This module is CPython: it only holds the MicroPython source as a string and builds the
``-c`` program from it. The source must stay MicroPython-compatible (no typing, dataclasses,
enum; nothing CPython-only).
"""

from __future__ import annotations

# The ROMFS partition's file in the flash directory and its erase block (build_program hands
# both to the VM's program).
ROMFS_FILE = ".romfs0"
ROM_BLOCK = 4096  # the nRF52's flash page

# Exit codes the VM uses to ask the supervisor for something.
EXIT_SOFT_RESET_FRIENDLY = 10
EXIT_SOFT_RESET_RAW = 11
EXIT_PORT_CLOSED = 12

# MicroPython source. Kept free of f-string/format tricks that differ between CPython and
# MicroPython; comment-only lines are stripped before it is sent to the VM.
_SOURCE = r'''
# Everything is at module level, in this program's own globals; user code runs in U.
import sys
import os
import io
import builtins
import gc
U = {'__name__': '__main__'}

stdout = sys.stdout
stderr = sys.stderr
out = sys.stdout.buffer.write
swrite = sys.stdout.write
readinto = sys.stdin.buffer.readinto
b1 = bytearray(1)
nctrlc = [0]
last_nl = [0]
hist = []
# The supervisor's channel: two pipes (request lines out, one reply byte in).
chan = os.getenv('MICROAPP_VBOARD_CHANNEL').split()
chan_w = open('/dev/fd/' + chan[0], 'wb')
chan_r = open('/dev/fd/' + chan[1], 'rb')
chan = None

class Exit(Exception):
    pass

def state(s):
    # True when a Ctrl-C is already on its way: do not start the code then.
    chan_w.write(bytes(s + ' ' + str(nctrlc[0]) + '\n', 'ascii'))
    return chan_r.read(1) == b'1'

def getc():
    try:
        n = readinto(b1)
    except OSError:
        n = 0
    if not n:
        raise Exit(12)
    c = b1[0]
    if c == 3:
        nctrlc[0] += 1
    return c

# The board's heap. The program's first statement (build_program) reserved USER, FREE bytes
# in one block at the bottom of the heap, before this source was even read; this program was
# compiled and set up above it. fill_heap then takes every byte still free as ballast, largest
# pieces first, down to single blocks, and lets USER go: user code gets FREE bytes in one
# block, as on a board after boot, whatever this program holds.
ballast = [None]


def fill_heap():
    global USER
    if FREE is None:
        return
    gc.collect()
    n = 1 << 16
    while n >= 16:
        try:
            ballast[0] = [ballast[0], bytearray(n)]
        except MemoryError:
            n //= 2
    while True:
        try:
            ballast[0] = (ballast[0],)
        except MemoryError:
            break
    USER = None
    gc.collect()


def kbd_msg():
    swrite('KeyboardInterrupt: \r\n')

def done():
    # the answer is complete: back at the prompt
    state('repl')

# print() and the REPL's echo of values write "\r\n" like a real board's cooked stdout.
def text_of(args, sep, end):
    if sep is None:
        sep = ' '
    if end is None:
        end = '\n'
    return sep.join([str(a) for a in args]) + end

def cook_write(file, s):
    (file or stdout).write(s.replace('\n', '\r\n'))

def cprint(*args, sep=' ', end='\n', file=None):
    if file is None or file is stdout or file is stderr:
        cook_write(file, text_of(args, sep, end))
    else:
        file.write(text_of(args, sep, end))

def repl_print(o):
    if o is not None:
        builtins._ = o
        swrite(repr(o).replace('\n', '\r\n') + '\r\n')

builtins.print = cprint
builtins.__repl_print__ = repl_print

# -- protected functions -----------------------------------------------------------------
def print_exc(e):
    # The first frame of the traceback is the REPL's own call of exec()/compile().
    try:
        s = io.StringIO()
        sys.print_exception(e, s)
        lines = s.getvalue().split('\n')
        if len(lines) > 1 and lines[0].startswith('Traceback'):
            if lines[1].startswith('  File '):
                del lines[1]
            if len(lines) < 2 or not lines[1].startswith('  File '):
                del lines[0]
        swrite('\r\n'.join(lines))
    except BaseException:
        sys.print_exception(e, stdout)

# The supervisor is told 'run <ctx>' before the code is compiled and 'repl' once its
# whole answer (output, traceback, EOF markers) is out: in between, a Ctrl-C or a crash of
# the VM ends the command, and the next VM answers for it.
def run_file(name, ctx):
    # boot.py / main.py: returns False when it failed (then main.py is skipped);
    # sys.exit() ends the script (as on the nrf port), it does not soft-reset
    # (which would loop forever with a main.py that exits)
    try:
        os.stat(name)
    except OSError:
        return True
    if state('run ' + ctx):
        kbd_msg()
        state('repl')
        return False
    ok = True
    try:
        f = open(name)
        src = f.read()
        f.close()
        code = compile(src, name, 'exec')
        src = None
        exec(code, U)
    except SystemExit:
        pass
    except BaseException as e:
        print_exc(e)
        ok = False
    done()
    return ok

def exec_friendly(src, kind):
    if state('run friendly'):
        kbd_msg()
        state('repl')
        return
    try:
        code = compile(src, '<stdin>', kind)
        src = None
        exec(code, U)
    except SystemExit:
        raise Exit(10)
    except BaseException as e:
        print_exc(e)
    done()

def exec_raw(src):
    # stdout, 0x04, stderr (traceback), 0x04 -- as EXEC_FLAG_PRINT_EOF in pyexec.c. The
    # supervisor hears 'repl' just before the last 0x04: once the host has it, it may send
    # a Ctrl-C meant for the prompt.
    if state('run raw'):
        out(b'\x04')
        kbd_msg()
        state('repl')
        out(b'\x04')
        return
    try:
        code = compile(str(src, 'utf-8'), '<stdin>', 'exec')
        src = None
        exec(code, U)
        out(b'\x04')
    except SystemExit:
        out(b'\x04\x04')
        raise Exit(11)
    except BaseException as e:
        out(b'\x04')
        print_exc(e)
    done()
    out(b'\x04')


# -- friendly REPL -----------------------------------------------------------------
def startswith_word(s, w):
    if not s.startswith(w):
        return False
    if len(s) == len(w):
        return True
    c = s[len(w)]
    return not (c.isalpha() or c.isdigit() or c == '_')

def continue_with_input(s):
    # port of mp_repl_continue_with_input() (py/repl.c)
    if not s:
        return False
    compound = s[0] == '@'
    for w in ('if', 'while', 'for', 'try', 'with', 'def', 'class', 'async'):
        if startswith_word(s, w):
            compound = True
    paren = brack = brace = 0
    q = 0
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "'":
            if (q == 0 or q == 3) and s[i + 1:i + 3] == "''":
                i += 2
                q = 3 - q
            elif q == 0 or q == 1:
                q = 1 - q
        elif c == '"':
            if (q == 0 or q == 4) and s[i + 1:i + 3] == '""':
                i += 2
                q = 4 - q
            elif q == 0 or q == 2:
                q = 2 - q
        elif c == '\\' and s[i + 1:i + 2] in ("'", '"', '\\'):
            if q != 0:
                i += 1
        elif q == 0:
            if c == '(':
                paren += 1
            elif c == ')':
                paren -= 1
            elif c == '[':
                brack += 1
            elif c == ']':
                brack -= 1
            elif c == '{':
                brace += 1
            elif c == '}':
                brace -= 1
        i += 1
    if q == 3 or q == 4:
        return True
    if (paren > 0 or brack > 0 or brace > 0) and q == 0:
        return True
    if s[-1] == '\\':
        return True
    if compound and s[-1] != '\n':
        return True
    return False

def auto_indent(s):
    # port of readline_auto_indent() (shared/readline/readline.c)
    n = len(s)
    if n < 2 or s[-1] != '\n':
        return ''
    i = n - 1
    while i > 0 and s[i - 1] != '\n':
        i -= 1
    j = i
    while j < n and s[j] == ' ':
        j += 1
    if i > 0 and j + 1 == n:
        k = i - 1
        while k > 0:
            if s[k - 1] == '\n':
                return ''
            elif s[k - 1] != ' ':
                break
            k -= 1
    m = (j - i) // 4
    if s[-2] == ':':
        m += 1
    return '    ' * m

def readline(prompt, prev):
    # returns (ctrl, text): ctrl is 0 for Enter, 1..5 for Ctrl-A..E on an empty line,
    # 3 for Ctrl-C on any line (shared/readline/readline.c, without cursor movement)
    swrite(prompt)
    ind = auto_indent(prev)
    buf = bytearray(ind.encode())
    if ind:
        swrite(ind)
    just_indented = len(ind) > 0
    h = len(hist)
    esc = 0
    while True:
        c = getc()
        added = just_indented
        just_indented = False
        if esc:
            if esc == 1:
                esc = 2 if c == 91 or c == 79 else 0
                continue
            if esc == 2 and 48 <= c <= 57:
                esc = 3
                continue
            if esc == 3:
                if not (48 <= c <= 57):
                    esc = 0
                continue
            esc = 0
            if (c == 65 and h > 0) or (c == 66 and h < len(hist)):
                h += -1 if c == 65 else 1
                new = hist[h] if h < len(hist) else b''
                out(b'\b' * len(buf) + b'\x1b[K' + new)
                buf = bytearray(new)
            continue
        if 1 <= c <= 5 and len(buf) == 0:
            return c, ''
        if c == 3:
            return 3, ''
        if c == 13 or c == 10:
            if c == 10 and last_nl[0] == 13:
                last_nl[0] = 0
                continue
            last_nl[0] = c
            out(b'\r\n')
            line = bytes(buf)
            if line.strip() and (not hist or hist[-1] != line):
                hist.append(line)
                if len(hist) > 8:
                    hist.pop(0)
            try:
                return 0, str(buf, 'utf-8')
            except UnicodeError:
                return 0, ''
        last_nl[0] = 0
        if c == 27:
            esc = 1
            continue
        if c == 8 or c == 127:
            if buf:
                k = 1
                if len(buf) >= 4 and buf.count(b' ') == len(buf):
                    k = 4
                buf = buf[:-k]
                out(b'\b' * k + b'\x1b[K')
            continue
        if added and (c == 9 or c == 32):
            # tab/space right after an auto-indent: keep it / take 3 spaces off it
            if c == 32:
                buf = buf[:-3]
                out(b'\b\b\b\x1b[K')
            continue
        if c == 9:
            if not buf or buf[-1] == 32:
                buf.extend(b'    ')
                out(b'    ')
            continue
        if c >= 32:
            buf.append(c)
            b1[0] = c
            out(b1)

def paste_mode():
    swrite('\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ')
    buf = bytearray()
    while True:
        c = getc()
        if c == 3:
            out(b'\r\n')
            return
        if c == 4:
            out(b'\r\n')
            break
        buf.append(c)
        if c == 13:
            out(b'\r\n=== ')
        else:
            b1[0] = c
            out(b1)
    try:
        src = str(buf, 'utf-8')
    except UnicodeError as e:
        print_exc(e)
        return
    buf = None
    exec_friendly(src.replace('\r\n', '\n').replace('\r', '\n'), 'exec')

def friendly(show_banner):
    if show_banner:
        swrite(banner)
    while True:
        ret, line = readline('>>> ', '')
        if ret == 1:
            out(b'\r\n')
            return 'raw'
        if ret == 2:
            out(b'\r\n')
            swrite(banner)
            continue
        if ret == 3:
            out(b'\r\n')
            continue
        if ret == 4:
            out(b'\r\n')
            raise Exit(10)
        if ret == 5:
            paste_mode()
            continue
        if not line:
            continue
        src = line
        while continue_with_input(src):
            src += '\n'
            ret, line = readline('... ', src)
            if ret == 3:
                out(b'\r\n')
                src = None
                break
            if ret == 4:
                break
            src += line
        if src is not None:
            exec_friendly(src, 'single')

# -- raw REPL and raw-paste --------------------------------------------------------
def raw_paste(cmd):
    if cmd != 65:
        out(b'R\x00')
        return
    out(b'R\x01')
    out(bytes((WINDOW & 0xFF, WINDOW >> 8, 1)))
    remain = WINDOW
    buf = bytearray()
    while True:
        c = getc()
        if c == 3 or c == 4:
            out(b'\x04')
            break
        buf.append(c)
        remain -= 1
        if remain == 0:
            out(b'\x01')
            remain = WINDOW
    if c == 3:
        out(b'\x04')
        kbd_msg()
        out(b'\x04')
        return
    exec_raw(buf)

def raw(show_header):
    if show_header:
        swrite('raw REPL; CTRL-B to exit\r\n')
    while True:
        out(b'>')
        line = bytearray()
        while True:
            c = getc()
            if c == 1:
                if len(line) == 2 and line[0] == 5:
                    raw_paste(line[1])
                    line = bytearray()
                    out(b'>')
                    continue
                swrite('raw REPL; CTRL-B to exit\r\n>')
                line = bytearray()
            elif c == 2:
                out(b'\r\n')
                return 'friendly'
            elif c == 3:
                line = bytearray()
            elif c == 4:
                break
            else:
                line.append(c)
        out(b'OK')
        if not line:
            out(b'\r\n')
            raise Exit(11)
        exec_raw(line)
        line = None

# -- modules made to behave like a board's ---------------------------------------------
# os.ilistdir gives the file size as the 4th item, as littlefs/FAT on a board do; '' is the
# working directory, as in a board's VFS (the unix port's VfsPosix takes '' as no such file).
ilistdir0 = os.ilistdir
stat0 = os.stat
listdir0 = os.listdir


def stat(path):
    return stat0(path or '.')


def listdir(path='.'):
    return [n for n in listdir0(path or '.') if n != ROMFS_FILE]


class Module:
    pass


def copy(mod, name):
    m = Module()
    for k in dir(mod):
        if not k.startswith('__'):
            setattr(m, k, getattr(mod, k))
    m.__name__ = name
    return m


def size_of(path):
    try:
        return stat0(path)[6]
    except OSError:
        return 0


def entry(base, e):
    if len(e) != 3:
        return e
    return (e[0], e[1], e[2], size_of(base + e[0]) if e[1] == 0x8000 else 0)


def ilistdir(path=''):
    base = path if path.endswith('/') or not path else path + '/'
    for e in ilistdir0(path) if path else ilistdir0():
        if e[0] != ROMFS_FILE:
            yield entry(base, e)


# -- the ROMFS partition (ROMFS: its size in bytes, or None: the board has none) ------------
# The nrf port's partition is a region of the chip's flash; vfs.rom_ioctl(2, 0) gives it as an
# nrf.Flash block device (ports/nrf/modules/nrf/flashbdev.c), which mpremote's `romfs deploy`
# erases and writes block by block. Here the partition is the file ROMFS_FILE in the flash
# directory (hidden from listings; ROMFS_FILE and ROM_BLOCK come from build_program), and its
# image is mounted at /rom from a copy read at start, held outside the user's heap (in the
# REPL's part of the VM's heap): on the chip it is memory-mapped flash, no RAM. A write takes
# effect at the next start, as on the board.


class RomPartition:
    def __init__(self, f):
        self.f = f  # None until the first write creates the file

    def file(self):
        if self.f is None:
            self.f = open('/flash/' + ROMFS_FILE, 'w+b')  # at the REPL: /flash is mounted
        return self.f

    def ioctl(self, op, arg):
        if op == 4:
            return ROMFS // ROM_BLOCK
        if op == 5:
            return ROM_BLOCK
        if op == 6:
            self.writeblocks(arg, b'\xff' * ROM_BLOCK)
        return 0

    def readblocks(self, block, buf, offset=0):
        n = 0
        if self.f is not None:
            self.f.seek(block * ROM_BLOCK + offset)
            n = self.f.readinto(buf) or 0
        for i in range(n, len(buf)):
            buf[i] = 0xFF

    def writeblocks(self, block, buf, offset=0):
        if block * ROM_BLOCK + offset + len(buf) > ROMFS:
            raise OSError(22)
        f = self.file()
        f.seek(block * ROM_BLOCK + offset)
        f.write(buf)
        f.flush()


def rom_ioctl(op, *args):
    if op == 1:
        return 1
    if op == 2 and args[0] == 0:
        return rom_part[0]
    return -22


rom_part = [None]


def mount_rom():
    # before mount_flash: the partition file is opened by its host path (the cwd)
    import vfs
    try:
        f = open(ROMFS_FILE, 'r+b')
    except OSError:
        f = None
    rom_part[0] = RomPartition(f)
    v = copy(vfs, 'vfs')
    v.rom_ioctl = rom_ioctl
    sys.modules['vfs'] = v
    if f is None:
        return False
    head = bytearray(8)
    f.seek(0)
    f.readinto(head)
    if head[:3] != b'\xd2\xcd\x31':
        return False  # erased, or never written: no /rom, as on the board
    size = 0
    i = 3
    while True:
        size = (size << 7) | (head[i] & 0x7F)
        if not head[i] & 0x80:
            break
        i += 1
    image = bytearray(min(i + 1 + size, ROMFS))
    f.seek(0)
    f.readinto(image)
    try:
        vfs.mount(vfs.VfsRom(image), '/rom')
    except OSError:
        return False
    return True


def board_modules():
    o = copy(os, 'os')
    o.ilistdir = ilistdir
    o.stat = stat
    o.listdir = listdir
    sys.modules['os'] = o
    sys.modules['uos'] = o
    import machine
    m = copy(machine, 'machine')
    m.mem_backup = mem_backup
    sys.modules['machine'] = m
    sys.modules['umachine'] = m


# -- machine.mem_backup: the nrf port's retained registers (ports/nrf/machine_mem_backup.c) ---
# Region 0 is POWER.GPREGRET, region 1 GPREGRET2: one byte each ('B'), kept over a soft or a
# watchdog reset, cleared at power-on. The supervisor keeps them across this VM's restarts
# (RETAINED, from build_program, is their value at this start): a write tells it at once, as
# a register holds its value whatever the program does next.
class Retained:
    itemsize = 1

    def __init__(self, region):
        self.region = region

    def __len__(self):
        return 1

    def __getitem__(self, i):
        if i != 0 and i != -1:
            raise IndexError('index out of range')
        return RETAINED[self.region]

    def __setitem__(self, i, value):
        if i != 0 and i != -1:
            raise IndexError('index out of range')
        RETAINED[self.region] = value & 0xFF
        chan_w.write(bytes('retain ' + str(self.region) + ' ' + str(value & 0xFF) + '\n', 'ascii'))
        chan_r.read(1)


retained = (Retained(0), Retained(1))


def mem_backup(region=0):
    if region == -1:
        return retained
    if not 0 <= region < 2:
        raise ValueError('invalid region')
    return retained[region]


def mount_flash():
    # the process starts in the flash directory: it becomes /flash, the only mount
    os.mount(os.VfsPosix(os.getcwd()), '/flash')
    os.umount('/')
    os.chdir('/flash')


# -- boot ----------------------------------------------------------------------------
# "MicroPython v1.29.0-preview on 2026-07-05; <machine>", as a board's banner (this build's
# sys.version names a git hash instead of the version)
v = sys.version
iv = sys.implementation.version
banner = ('MicroPython v' + '.'.join([str(n) for n in iv[:3]]) + ('-' + iv[3] if iv[3] else '')
          + v[v.find(' on '):] + '; ' + MACHINE + '\r\nType "help()" for more information.\r\n')
iv = None


def main(mode, boot, intro, note):
    rom = ROMFS is not None and mount_rom()
    mount_flash()
    # the nrf port's order: '', then /rom (mounted by mp_init), then /flash (_boot.py)
    sys.path[:] = ['', '/rom', '/rom/lib', '/flash', '/flash/lib'] if rom else ['', '/flash', '/flash/lib']
    board_modules()
    fill_heap()
    code = 0
    try:
        if boot == 'soft':
            swrite('MPY: soft reboot\r\n')
        if note:
            swrite(note)
        if boot == 'hard' or boot == 'soft':
            if run_file('boot.py', 'boot-' + mode) and mode == 'friendly':
                run_file('main.py', 'boot-' + mode)
        state('repl')
        while True:
            if mode == 'friendly':
                mode = friendly(intro)
            else:
                mode = raw(intro)
            intro = True
    except Exit as e:
        code = e.args[0]
    except BaseException as e:
        try:
            print_exc(e)
        except BaseException:
            pass
        code = 13
    raise SystemExit(code)
'''


def _strip(source: str) -> str:
    """Drop comment-only and blank lines (the VM compiles this on every (re)start)."""
    kept = []
    for line in source.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


REPL_SOURCE = _strip(_SOURCE)


def build_program(
    *,
    mode: str,
    boot: str,
    intro: bool = True,
    note: str = "",
    window: int = 128,
    machine: str = "virtual board",
    free: int | None = None,
    romfs: int | None = None,
    retained: bytes = bytes(2),
) -> str:
    """The ``-c`` program for one VM start.

    mode: 'friendly' or 'raw' (the REPL to enter);
    boot: 'hard' (run boot.py, main.py), 'soft' (print "MPY: soft reboot", then the same;
          main.py only in friendly mode) or 'none';
    intro: print the banner / raw REPL header when the REPL starts;
    note: text printed first (e.g. the KeyboardInterrupt of an interrupted program);
    window: raw-paste flow-control window in bytes (1..65535);
    free: the heap left free for user code at the prompt (the rest is ballast), or None.
    romfs: the size of the board's ROMFS partition (the file ROMFS_FILE in the flash
          directory, mounted at /rom), or None: no partition.
    retained: the two retained registers (machine.mem_backup's regions) at this start.
    """
    if mode not in ("friendly", "raw"):
        raise ValueError(f"mode must be 'friendly' or 'raw', not {mode!r}")
    if boot not in ("hard", "soft", "none"):
        raise ValueError(f"boot must be 'hard', 'soft' or 'none', not {boot!r}")
    if not 1 <= window <= 0xFFFF:
        raise ValueError(f"raw-paste window must be 1..65535, not {window}")
    reserve = f"USER = bytearray({free - 64})\n" if free is not None else ""
    return (
        reserve
        + f"WINDOW = {int(window)!r}\nMACHINE = {machine!r}\nFREE = {free!r}\nROMFS = {romfs!r}\n"
        + f"ROMFS_FILE = {ROMFS_FILE!r}\nROM_BLOCK = {ROM_BLOCK!r}\n"
        + f"RETAINED = bytearray({bytes(retained)!r})\n"
        + f"exec(open({source_file()!r}).read())\n"
        + f"main({mode!r}, {boot!r}, {bool(intro)!r}, {note!r})\n"
    )


_source_path: str | None = None


def source_file() -> str:
    """REPL_SOURCE in a file the VM reads at start (the -c program only reserves the user's
    heap first, then runs it); written once per process, named by its content."""
    global _source_path
    if _source_path is None:
        import hashlib
        import os
        import tempfile
        digest = hashlib.sha256(REPL_SOURCE.encode()).hexdigest()[:16]
        path = os.path.join(tempfile.gettempdir(), f"microapp-vboard-rom-{digest}.py")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(REPL_SOURCE)
            os.replace(tmp, path)
        _source_path = path
    return _source_path
