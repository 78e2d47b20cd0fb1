# The board's main program: serves the host over the serial line (docs/protocol.md, "The serial
# frame") with the same Runtime the simulator uses; only the yield primitive differs: send what
# changed in both buffers in a YIELD frame, block until the host's next RESUME, apply it.
#
# On boot it loads the installed microapp (the app store's enabled slot, firmware/app_store.py;
# else app.py) and announces itself with an INFO frame (seq 0). A HELLO that carries the board's
# current challenge (re)starts a microapp (the installed one or a path it names) and opens a
# session; it is answered with INFO. RESUME frames drive the app. Only the next seq is taken; a
# repeat of the last request gets the kept reply again and is not handled twice; replayed and
# out-of-order frames are counted and dropped; a frame that does not check gets a NAK.
# The board's main.py is `from firmware.board_main import main` + `main()`.
# Runs under MicroPython (and CPython, for tests).
import gc
import sys
import time

from firmware import loader, microapp, run_flag
from firmware.runtime import Runtime
from shared_buffers import serial_frame as F
from shared_buffers.protocol import BUFFER_SIZE, DEFAULT_STACK_DEPTH

from firmware.version import VERSION
INSTALLED_APP = "app.py"
# The heap the running app holds once its setup() returned (live, after a collection), as
# "<app path> <bytes>": tools/flash.py info and app read it from the board.
APP_RAM_FILE = "app_ram.txt"
# The WASI build's collector (the virtual board) misses pointers held in wasm locals, so a
# collection can free live objects: there the firmware never collects, and the virtual board
# runs with a heap big enough for a session. Real boards collect between apps.
_COLLECT = getattr(sys.implementation, "_build", "") != "wasi"


class _NewSession(BaseException):
    """A HELLO came while an app runs: unwind it. A BaseException, as apps may catch Exception."""


class _PortClosed(BaseException):
    """The serial stream ended (tests feed a finite stream)."""


class Board:
    def __init__(self, reader, writer, flag):
        """reader: a stream with readinto(b) (sys.stdin.buffer, a machine.UART); writer: write();
        flag: the run flag (firmware/run_flag.py's RunFlag; tests that drive Board directly give
        one of their own with its five methods)."""
        self._frames = F.FrameReader(reader)
        self._write = writer.write
        self.m2b = bytearray(BUFFER_SIZE)
        self.b2m = bytearray(BUFFER_SIZE)
        self._encoder = F.Encoder(self._frames.raw)  # a request is copied or parsed before any answer
        self._session = F.Session()
        self._last = None          # the content of the last request handled, for its repeats
        self._reply = None         # the frame sent in answer to it (with its leading flag)
        self._challenge = bytearray(F.CHALLENGE_SIZE)
        _stir(self._challenge, b"")
        self._pending = False      # a HELLO arrived while the app ran
        self._hello_fields = None  # (challenge, nonce, depth, app) of the HELLO taken last
        self.dropped = {"replayed": 0, "out_of_order": 0, "stale_hello": 0, "corrupt": 0}
        self.runtime = None
        self.app = ""
        self._entry = None         # (setup, loop) of the loaded app, None when it did not load
        self._depth = 0
        self._fresh = False        # loaded and not run yet: a HELLO for it need not reload it
        self._opened = False       # a HELLO opened a session the next RESUME starts
        self._error = ""
        self.heap_boot = 0  # heap in use once the firmware is imported and set up
        self.flag = flag

    # -- serving ----------------------------------------------------------------------------
    def serve(self):
        """Load the installed app, announce the board, then serve until the stream ends."""
        self._load(INSTALLED_APP, DEFAULT_STACK_DEPTH)
        self._write(self._encoder.control(F.INFO, 0, self._info()))
        try:
            while True:
                kind = F.HELLO if self._pending else self._next_request()
                self._pending = False
                if kind == F.HELLO:
                    self._hello()
                elif self._opened:
                    self._run()
        except _PortClosed:
            pass

    def _run(self):
        setup, loop = self._entry
        self._opened = self._fresh = False  # a session runs once; a new one needs a HELLO
        try:
            self.flag.enter()
            self.runtime.run(setup, loop)
        except _NewSession:
            pass

    def _hello(self):
        challenge, nonce, depth, app = self._hello_fields
        app = app or INSTALLED_APP
        depth = depth or DEFAULT_STACK_DEPTH
        self.flag.start(app)
        if not (self._fresh and app == self.app and depth == self._depth):
            self._load(app, depth)
        self._opened = self._entry is not None
        self._session.open = self._opened
        self._answer(self._encoder.control(F.INFO, self._session.seq,
                                           self._info(None, self._entry is None)))

    def _load(self, path, depth):
        self.runtime = None
        self._entry = None
        self._fresh = False
        microapp.bind(None)
        if _COLLECT:
            gc.collect()
        self.app = path
        self._depth = depth
        self._error = ""
        base = _heap_used()
        try:
            if self.flag.refuses(path):
                raise RuntimeError("it was running when the board reset (did-reboot)")
            source = _app_source(path)
            self.flag.enter()
            try:
                entry = loader.load_app(source, passthrough=_NOT_THE_APPS)
            finally:
                self.flag.leave()
        except (Exception, SystemExit) as e:
            self._error = "%s: %s" % (type(e).__name__, e)
            try:
                line = _last_line(_traceback(e))
            except Exception:  # no heap left to format it: the error text without its line
                line = ""
            if line:  # where in the app's file (the host names the file)
                self._error = "%s (line %s)" % (self._error, line)
            return
        self.runtime = Runtime(self.m2b, self.b2m, self._yield, depth, unwind=_NOT_THE_APPS)
        microapp.bind(self.runtime)
        self._entry = (_measured(entry[0], path, base), entry[1])
        self._fresh = True

    def _info(self, status=None, texts=True):
        """An INFO body. Answers to a HELLO leave out the texts unless the app did not load: on a
        noisy line every byte of a frame is a chance to lose it."""
        if status is None:
            status = F.INFO_READY if self._entry else F.INFO_LOAD_ERROR
        depth = self.runtime.max_depth if self.runtime else 0
        if texts:
            version, app, error = VERSION, self.app, self._error
        else:
            version = app = error = ""
        return F.info_body(status, depth, self.heap_boot, _heap_used(), self._challenge, version,
                           app, error)

    # -- the yield primitive ----------------------------------------------------------------
    def _yield(self):
        self.flag.leave(self.m2b)
        s = self._session
        reply = self._encoder.delta(s, s.seq, False, self.m2b, self.b2m)
        error = self.runtime.last_error
        if error is not None:  # the app's exception: its whole traceback goes first, in TEXT frames
            self.runtime.last_error = None
            try:
                reply = F.text_frames(self._encoder, s.seq, _traceback(error)) + reply[1:]
            except Exception:  # a MemoryError above all: the YIELD's error text still says what raised
                pass
        self._answer(reply)
        if self._next_request() == F.HELLO:
            self._pending = True
            raise _NewSession()
        self.flag.enter()

    def _answer(self, reply):
        """Send (and keep, for a repeat) the answer to the last request."""
        self._reply = reply
        self._write(memoryview(reply)[1:])  # its leading flag goes with repeats only

    def _next_request(self):
        """Block until the next request arrives: HELLO (its fields in self._hello_fields) or
        RESUME (applied to the buffers). A repeat of the last request gets the kept answer; a
        frame that does not check a NAK; a replayed or out-of-order one is dropped."""
        frames, session, raw = self._frames, self._session, self._frames.raw
        while True:
            try:
                n = frames.next()
            except EOFError:
                raise _PortClosed()
            if n >= 0 and self._last is not None and len(self._last) == n and raw[:n] == self._last:
                self._write(self._reply)  # a repeat: the kept answer, flag first
                continue
            try:
                if n < 0:
                    raise F.FrameError("not a frame")
                kind = F.check(raw, n, session, True)
                if kind == F.HELLO:
                    body = F.control_body(raw, n)
                    if not body:  # the host asks for the challenge
                        self._write(self._encoder.control(F.INFO, raw[2], self._info(F.INFO_CHALLENGE, False)))
                        continue
                    fields = F.parse_hello(body)
                    if fields[0] != bytes(self._challenge):
                        self.dropped["stale_hello"] += 1
                        self._write(self._encoder.control(F.INFO, raw[2], self._info(F.INFO_CHALLENGE, False)))
                        continue
                    session.start(fields[1], raw[2])
                    _stir(self._challenge, fields[1])  # a replay of this HELLO no longer opens one
                    self._hello_fields = fields
                elif kind == F.RESUME:
                    seq = raw[0]
                    if seq != F.next_seq(session.seq):
                        self.dropped["replayed" if seq == session.seq else "out_of_order"] += 1
                        continue
                    F.apply_delta(raw, n, session, self.m2b, self.b2m, True)
                    session.advance()
                else:
                    continue  # a board's kind: our own frame echoed
            except (F.FrameError, UnicodeError):
                self.dropped["corrupt"] += 1
                status = F.NAK_IN_SESSION if session.open else F.NAK_NO_SESSION
                self._write(self._encoder.control(F.NAK, session.seq, bytes((status,))))
                continue
            self._last = bytes(raw[:n])
            return kind


def _stir(challenge, data):
    """A new challenge from the old one, `data` and the clock: two CRC-16s (the board may have
    no random source; what it must not do is take the same HELLO twice)."""
    t = time.ticks_us() if hasattr(time, "ticks_us") else int(time.time() * 1000000) & 0x3FFFFFFF
    a = F.crc16(data, 0, None, F.crc16(challenge, 0, None, t & 0xFFFF))
    b = F.crc16(data, 0, None, F.crc16(challenge, 0, None, (t >> 14) & 0xFFFF) ^ 0x5A5A)
    challenge[0] = a >> 8
    challenge[1] = a & 0xFF
    challenge[2] = b >> 8
    challenge[3] = b & 0xFF


# A new session, a closed port and the host's Ctrl-C (its watchdog's reset) end the app from
# outside; anything else out of it is its fault.
_NOT_THE_APPS = (_NewSession, _PortClosed, KeyboardInterrupt)


def _app_source(path):
    """The installed app is the app store's enabled slot (enabled, validated, CRC intact: what
    tools/flash.py app leaves); app.py (a file a user or a test put there) when no slot is.
    An app's file holds its source, or its ROMFS image (the bytes: firmware/loader.py runs it)."""
    if path == INSTALLED_APP:
        # the store's slot (firmware/app_slot.py: the store itself, its control commands for
        # tools/flash.py, is not loaded for this)
        from firmware.app_slot import enabled_app
        found = enabled_app()
        if found is not None:
            return found[1]
    try:
        with open(path, "rb") as f:  # precompiled (microapp run --port): a ROMFS image
            if f.read(3) == b"\xd2\xcd\x31":
                f.seek(0)
                return f.read()
        with open(path) as f:
            return f.read()
    except OSError:
        if path == INSTALLED_APP:
            raise OSError("no app enabled")
        raise


def _measured(setup, path, base):
    """setup, then record the heap the app holds (from `base`, the heap before it loaded)."""
    def setup_and_measure():
        setup()
        if _COLLECT:
            gc.collect()
        try:
            with loader.firmware_open(APP_RAM_FILE, "w") as f:  # in the app's call: not its open()
                f.write("%s %d\n" % (path, _heap_used() - base))
        except OSError:
            pass
    return setup_and_measure


def _last_line(traceback):
    """The line number of the app's innermost frame in a traceback ("" when none is the app's:
    the app runs from source text, its frames say "<string>")."""
    mark = b'"<string>", line '
    at = traceback.rfind(mark)
    if at < 0:
        return ""
    start = end = at + len(mark)
    while end < len(traceback) and 48 <= traceback[end] <= 57:
        end += 1
    return traceback[start:end].decode()


def _traceback(exc):
    """The exception's traceback as MicroPython prints it (under CPython, in tests, in the
    same format, from the exception's frames)."""
    print_exception = getattr(sys, "print_exception", None)
    if print_exception is not None:
        import io
        out = io.StringIO()
        print_exception(exc, out)
        return out.getvalue().encode()
    lines = ["Traceback (most recent call last):\n"]
    tb = getattr(exc, "__traceback__", None)
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append('  File "%s", line %d, in %s\n' % (code.co_filename, tb.tb_lineno, code.co_name))
        tb = tb.tb_next
    lines.append("%s: %s\n" % (type(exc).__name__, exc))
    return "".join(lines).encode()


def _heap_used():
    try:
        return gc.mem_alloc()
    except AttributeError:  # CPython (tests): no MicroPython heap
        return 0


def main(reader=None, writer=None):
    """Serve the host on the REPL's serial stream (or the given streams, e.g. a machine.UART)."""
    board = Board(reader or sys.stdin.buffer, writer or sys.stdout.buffer, run_flag.RunFlag())
    # the run flag's boot check (firmware/run_flag.py), the app store imported for it and let go
    # again, so that it holds no heap while apps run
    from firmware import app_store
    try:
        board.flag.at_boot(app_store.AppStore(), INSTALLED_APP)
    finally:
        sys.modules.pop("firmware.app_store", None)
        import firmware
        if hasattr(firmware, "app_store"):
            delattr(firmware, "app_store")
        del app_store  # this frame's name held it too
    if _COLLECT:
        gc.collect()
    board.heap_boot = _heap_used()
    try:
        board.serve()
    finally:
        loader.release()  # the REPL's imports are its own again
