"""The board-side REPL of the virtual board, as MicroPython source run inside the VM.

The WASI build of MicroPython has no interactive or raw REPL of its own, so the virtual board
runs this program (``micropython -c SOURCE``) as its "firmware": it reads the serial port
(the VM's stdin, a pty) byte by byte and reproduces what MicroPython's ``pyexec.c`` does on a
real board: friendly REPL with echo, line editing, history, auto-indent, paste mode; raw REPL;
raw-paste mode with flow control; soft reset; running boot.py and main.py from /flash.

The program talks to the host supervisor (host/board/virtual_board.py) in two ways only:

* ``host.call('__vboard__', 'run <ctx> <n>')`` before user code runs and
  ``host.call('__vboard__', 'repl <n>')`` after, so that the supervisor knows when a Ctrl-C
  (0x03) must stop the VM (user code running) and when it is REPL input. ``<n>`` is how many
  0x03 bytes the REPL has read; the answer is ``'1'`` when the supervisor has forwarded more
  than that (a Ctrl-C is already on its way), and the REPL then does not start the code.
* the exit code of the VM: 10 = soft reset into the friendly REPL, 11 = soft reset into the
  raw REPL, 12 = the serial port went away, 14 = a MemoryError was reported: this WASI build's
  memory is corrupt after an allocation fails (the VM traps soon after), so the board goes on
  with a fresh VM, in the REPL it was in.

This module is CPython: it only holds the MicroPython source as a string and builds the
``-c`` program from it. The source must stay MicroPython-compatible (no typing, dataclasses,
enum; nothing CPython-only).
"""

from __future__ import annotations

# Exit codes the VM uses to ask the supervisor for something.
EXIT_SOFT_RESET_FRIENDLY = 10
EXIT_SOFT_RESET_RAW = 11
EXIT_PORT_CLOSED = 12
EXIT_AFTER_MEMORY_ERROR = 14  # the answer is out; continue on a fresh VM (see below)

# MicroPython source. Kept free of f-string/format tricks that differ between CPython and
# MicroPython; comment-only lines are stripped before it is sent to the VM.
_SOURCE = r'''
def _vboard(mode, boot, intro, note, window, machine):
    import sys
    import os
    import io
    import builtins
    import host
    G = globals()
    try:
        del G['_vboard']
    except KeyError:
        pass

    stdout = sys.stdout
    stderr = sys.stderr
    out = sys.stdout.buffer.write
    swrite = sys.stdout.write
    readinto = sys.stdin.buffer.readinto
    hcall = host.call
    b1 = bytearray(1)
    nctrlc = [0]
    poisoned = [False]
    hist = []
    last_nl = [0]

    class Exit(Exception):
        pass

    def state(s):
        # True when a Ctrl-C is already on its way: do not start the code then.
        return hcall('__vboard__', s + ' ' + str(nctrlc[0])) == '1'

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

    # print() and the REPL's echo of values write "\r\n" like a real board's cooked stdout.
    orig_print = builtins.print

    def cprint(*args, sep=' ', end='\n', file=None):
        if file is None or file is stdout or file is stderr:
            if sep is None:
                sep = ' '
            if end is None:
                end = '\n'
            s = sep.join([str(a) for a in args]) + end
            if file is None:
                file = stdout
            file.write(s.replace('\n', '\r\n'))
        else:
            orig_print(*args, sep=sep, end=end, file=file)

    def repl_print(o):
        if o is not None:
            builtins._ = o
            swrite(repr(o).replace('\n', '\r\n') + '\r\n')

    builtins.print = cprint
    builtins.__repl_print__ = repl_print

    def print_exc(e):
        # The first frame of the traceback is the REPL's own call of exec()/compile().
        if isinstance(e, MemoryError):
            poisoned[0] = True
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

    def done():
        # the answer is complete: back at the prompt (or on a fresh VM after a MemoryError)
        if poisoned[0]:
            raise Exit(14)
        state('repl')

    def kbd_msg():
        swrite('KeyboardInterrupt: \r\n')

    # -- running user code -------------------------------------------------------------
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
            exec(code, G)
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
            exec(code, G)
        except SystemExit:
            raise Exit(10)
        except BaseException as e:
            print_exc(e)
        done()

    def exec_raw(src):
        # stdout, 0x04, stderr (traceback), 0x04 -- as EXEC_FLAG_PRINT_EOF in pyexec.c
        if state('run raw'):
            out(b'\x04')
            kbd_msg()
            out(b'\x04')
            state('repl')
            return
        try:
            code = compile(str(src, 'utf-8'), '<stdin>', 'exec')
            src = None
            exec(code, G)
            out(b'\x04\x04')
        except SystemExit:
            out(b'\x04\x04')
            raise Exit(11)
        except BaseException as e:
            out(b'\x04')
            print_exc(e)
            out(b'\x04')
        done()

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
        out(bytes((window & 0xFF, window >> 8, 1)))
        remain = window
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
                remain = window
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
    def board_modules():
        # A VM blocked in a host call (time.sleep, poll with a timeout) cannot be stopped
        # until the call returns: long waits are cut into 20 ms pieces. os.ilistdir gives
        # the file size as the 4th item, as littlefs/FAT on a board do.
        import time as T
        import select as S

        class Module:
            pass

        def copy(mod, name):
            m = Module()
            for k in dir(mod):
                if not k.startswith('__'):
                    setattr(m, k, getattr(mod, k))
            m.__name__ = name
            return m

        sus = T.sleep_us
        ticks_us = T.ticks_us
        ticks_add = T.ticks_add
        ticks_diff = T.ticks_diff

        def sleep_us(us):
            while us > 0:
                # pieces of at most 100 s keep the ticks arithmetic in range
                part = us if us < 100000000 else 100000000
                us -= part
                if part <= 20000:
                    sus(part)
                    continue
                end = ticks_add(ticks_us(), part)
                while True:
                    left = ticks_diff(end, ticks_us())
                    if left <= 0:
                        break
                    sus(left if left < 20000 else 20000)

        def sleep_ms(ms):
            sleep_us(int(ms * 1000))

        def sleep(s):
            sleep_us(int(s * 1000000))

        t = copy(T, 'time')
        t.sleep = sleep
        t.sleep_ms = sleep_ms
        t.sleep_us = sleep_us
        new_poll = S.poll

        class Poll:
            def __init__(self):
                self.p = new_poll()

            def register(self, *a):
                return self.p.register(*a)

            def unregister(self, o):
                return self.p.unregister(o)

            def modify(self, *a):
                return self.p.modify(*a)

            def _wait(self, timeout):
                p = self.p
                if timeout is None:
                    timeout = -1
                while timeout < 0 or timeout > 20:
                    if p.poll(20):
                        return 0
                    if timeout > 0:
                        timeout -= 20
                return timeout

            def poll(self, timeout=-1):
                return self.p.poll(self._wait(timeout))

            def ipoll(self, timeout=-1, flags=0):
                return self.p.ipoll(self._wait(timeout), flags)

        s = copy(S, 'select')
        s.poll = Poll
        o = copy(os, 'os')
        ilistdir0 = os.ilistdir
        stat0 = os.stat

        def ilistdir(path=''):
            base = path if path.endswith('/') or not path else path + '/'
            for e in ilistdir0(path) if path else ilistdir0():
                size = 0
                if len(e) == 3 and e[1] == 0x8000:
                    try:
                        size = stat0(base + e[0])[6]
                    except OSError:
                        pass
                yield (e[0], e[1], e[2], size) if len(e) == 3 else e

        o.ilistdir = ilistdir
        sys.modules['os'] = o
        sys.modules['uos'] = o
        sys.modules['time'] = t
        sys.modules['utime'] = t
        sys.modules['select'] = s
        sys.modules['uselect'] = s

    # -- boot ----------------------------------------------------------------------------
    v = sys.version
    banner = v[v.find('MicroPython'):] + '; ' + machine + '\r\nType "help()" for more information.\r\n'
    try:
        os.chdir('/flash')
    except OSError:
        pass
    sys.path[:] = ['', '/flash', '/flash/lib']
    board_modules()
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
        m = mode
        while True:
            if m == 'friendly':
                m = friendly(intro)
            else:
                m = raw(intro)
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
    machine: str = "virtual board with wasmtime",
) -> str:
    """The ``-c`` program for one VM start.

    mode: 'friendly' or 'raw' (the REPL to enter);
    boot: 'hard' (run boot.py, main.py), 'soft' (print "MPY: soft reboot", then the same;
          main.py only in friendly mode) or 'none';
    intro: print the banner / raw REPL header when the REPL starts;
    note: text printed first (e.g. the KeyboardInterrupt of an interrupted program);
    window: raw-paste flow-control window in bytes (1..65535).
    """
    if mode not in ("friendly", "raw"):
        raise ValueError(f"mode must be 'friendly' or 'raw', not {mode!r}")
    if boot not in ("hard", "soft", "none"):
        raise ValueError(f"boot must be 'hard', 'soft' or 'none', not {boot!r}")
    if not 1 <= window <= 0xFFFF:
        raise ValueError(f"raw-paste window must be 1..65535, not {window}")
    args = ", ".join(repr(a) for a in (mode, boot, bool(intro), note, int(window), machine))
    return REPL_SOURCE + f"_vboard({args})\n"
