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
# Runs under MicroPython (the host imports it under CPython for its names: VERSION,
# INSTALLED_APP, APP_RAM_FILE).
import gc
import sys

try:
    from micropython import const
except ImportError:  # CPython: const(x) is x
    def const(value):  # type: ignore[misc]
        return value

from firmware import loader, microapp  # (run_flag and runtime: imported where used, one global
# each less: a 13th global would take this module's globals a bigger table)
from shared_buffers import serial_frame as F
from shared_buffers.protocol import BUFFER_SIZE, DEFAULT_STACK_DEPTH

from firmware.version import VERSION
_MICROPYTHON = sys.implementation.name == "micropython"  # the board's build: const(1)
# (a global: a short str is a name, which a const() str is not: that is an object on the heap,
# and the globals' table has room)
INSTALLED_APP = "app.py"
# The heap the running app holds once its setup() returned (live, after a collection), as
# "<app path> <bytes>": tools/flash.py info and app read it from the board.
_APP_RAM_FILE = const("app_ram.txt")
if not _MICROPYTHON:  # the host's name (on the board it would be a global of this module)
    APP_RAM_FILE = _APP_RAM_FILE
# The WASI build's collector (the virtual board) misses pointers held in wasm locals, so a
# collection can free live objects: there the firmware never collects, and the virtual board
# runs with a heap big enough for a session. Real boards collect between apps.
_COLLECT = getattr(sys.implementation, "_build", "") != "wasi"
# Board.dropped: the frames dropped, by why (docs/protocol.md, "Sequence numbers and replies")
_REPLAYED = const(0)
_OUT_OF_ORDER = const(1)
_STALE_HELLO = const(2)
_CORRUPT = const(3)


class _Unwind(BaseException):
    """The app's run ends from outside: a HELLO came (the serve loop takes it next), or the
    serial stream ended (tests feed a finite one; the serve loop's next read says so). A
    BaseException, as apps may catch Exception."""


class Board(F.Session):
    """The board's end of the serial session (a Session: its shadows, seq and key)."""

    def __init__(self, reader, writer, flag):
        """reader: a stream with readinto(b) (sys.stdin.buffer, a machine.UART); writer: write();
        flag: the run flag (the module firmware/run_flag.py; tests that drive Board directly give
        an object of their own with its functions and `rebooted`)."""
        self.reader = reader  # (the streams, not their bound methods: two objects less)
        # the frame read, and the frames built (serial_frame); the byte read last after them
        self.raw = bytearray(F.MAX_CONTENT + 1)
        self.writer = writer
        self.m2b = bytearray(BUFFER_SIZE)
        self.b2m = bytearray(BUFFER_SIZE)
        F.Session.__init__(self)  # its shadows' last 4 bytes hold the board's challenge
        _stir(self.shadows, b"")
        # the content of the last request handled (for its repeats) and the frame sent in answer
        # to it (with its leading flag): a pair once a request came (None before: a constant
        # (None, None) would be an object on the heap)
        self._kept = None
        self.dropped = [0, 0, 0, 0]  # replayed, out of order, stale HELLO, corrupt (_REPLAYED...)
        self.runtime = None
        self.app = ""
        self._entry = None         # (setup, loop) of the app loaded and not run yet, else None
        self.heap_boot = 0  # heap in use once the firmware is imported and set up
        self.flag = flag

    # -- serving ----------------------------------------------------------------------------
    def serve(self):
        """Load the installed app, announce the board, then serve until the stream ends."""
        error = self._load(INSTALLED_APP, DEFAULT_STACK_DEPTH)
        self.writer.write(F.control(self.raw, F.INFO, 0, self._info(None, error)))
        hello = None  # (stack depth, app) of a HELLO taken and not yet handled
        while True:
            if hello is None:
                try:
                    hello = self._next_request()
                except _Unwind:  # the stream ended
                    return
            if hello is not None:
                # the HELLO taken (its stack depth and app): (re)load the app unless it is loaded
                # and not run yet, open the session when it loaded, answer with INFO
                app = hello[1] or INSTALLED_APP
                depth = hello[0] or DEFAULT_STACK_DEPTH
                hello = None
                self.flag.start(app)
                error = None
                if not (self._entry is not None and app == self.app and depth == self.runtime.max_depth):
                    error = self._load(app, depth)
                self.open = self._entry is not None
                # the answer, kept for a repeat (its leading flag goes with repeats only)
                self._kept = (self._kept[0], F.control(self.raw, F.INFO, self.seq, self._info(
                    None, None if self.open else error)))
                self.writer.write(memoryview(self._kept[1])[1:])
            elif self._entry is not None:  # a RESUME of the session a HELLO opened: run it
                entry = self._entry
                self._entry = None  # a session runs once; a new one needs a HELLO (and a load)
                try:
                    self.flag.enter()
                    self.runtime.run(entry[0], entry[1])
                except _Unwind as e:  # (run() returns no other way but KeyboardInterrupt)
                    entry = None  # this frame lives on: the next app must load without this one
                    hello = e.args[0] if e.args else None  # the HELLO that ended it, or EOF

    def _load(self, path, depth):
        """Load the app (its setup() then records the heap the app holds in _APP_RAM_FILE); why
        it did not load ("" when it did)."""
        self.runtime = None
        self._entry = None
        microapp.bind(None)
        if _COLLECT:
            gc.collect()
        self.app = path
        base = gc.mem_alloc()
        try:
            if path == self.flag.rebooted:  # it was running at a reset: not started by the board
                raise RuntimeError("it was running when the board reset (did-reboot)")
            source = _app_source(path)
            self.flag.enter()
            try:
                entry = loader.load_app(source, passthrough=_NOT_THE_APPS)
            finally:
                self.flag.leave(None)
        except (Exception, SystemExit) as e:
            error = "%s: %s" % (type(e).__name__, e)
            # where in the app's file (the host names the file): the line of the app's innermost
            # frame in its traceback (the app runs from source text: its frames say "<string>")
            try:
                tb = _traceback(e)
            except Exception:  # no heap left to format it: the error text without its line
                return error
            mark = b'"<string>", line '
            at = tb.rfind(mark)
            start = end = at + len(mark)
            while at >= 0 and end < len(tb) and 48 <= tb[end] <= 57:
                end += 1
            if end > start:
                error = error + " (line " + tb[start:end].decode() + ")"  # (short strs: names)
            return error
        from firmware.runtime import Runtime  # (loaded: the loader's SDK_CELL is its)
        self.runtime = Runtime(self.m2b, self.b2m, self._yield, depth, unwind=_NOT_THE_APPS)
        microapp.bind(self.runtime)
        app_setup = entry[0]

        def setup():  # the heap the app holds: from `base`, the heap before it loaded
            app_setup()
            if _COLLECT:
                gc.collect()
            try:
                with loader.firmware_open(_APP_RAM_FILE, "w") as f:  # in the app's call: not its open()
                    f.write("%s %d\n" % (path, gc.mem_alloc() - base))
            except OSError:
                pass
        self._entry = (setup, entry[1])
        return ""

    def _info(self, status, error):
        """An INFO body (status None: READY or LOAD_ERROR, whether the app loaded), with its
        texts and `error` (why the app did not load) unless error is None. Answers to a HELLO
        leave out the texts unless the app did not load: on a noisy line every byte of a frame
        is a chance to lose it."""
        if status is None:
            status = F.INFO_READY if self._entry else F.INFO_LOAD_ERROR
        depth = self.runtime.max_depth if self.runtime else 0
        if error is None:
            version = app = error = ""
        else:
            version, app = VERSION, self.app
        return F.info_body(status, depth, self.heap_boot, gc.mem_alloc(),
                           self.shadows[F.CHALLENGE_AT:], version, app, error)

    # -- the yield primitive ----------------------------------------------------------------
    def _yield(self):
        self.flag.leave(self.m2b)
        reply = F.delta(self.raw, self, self.seq, False, self.m2b, self.b2m)
        error = self.runtime.last_error
        if error is not None:  # the app's exception: its whole traceback goes first, in TEXT frames
            self.runtime.last_error = None
            try:
                reply = F.text_frames(self.raw, self.seq, _traceback(error)) + reply[1:]
            except Exception:  # a MemoryError above all: the YIELD's error text still says what raised
                pass
        self._kept = (self._kept[0], reply)  # the answer, kept for a repeat (as a HELLO's)
        self.writer.write(memoryview(reply)[1:])
        hello = self._next_request()
        if hello is not None:
            raise _Unwind(hello)  # the serve loop opens its session
        self.flag.enter()

    def _next_request(self):
        """Block until the next request arrives: a HELLO (its (stack depth, app) returned) or a
        RESUME (applied to the buffers; None returned). A repeat of the last request gets the
        kept answer; a frame that does not check a NAK; a replayed or out-of-order one is
        dropped. Raises _Unwind when the stream ends."""
        raw, dropped = self.raw, self.dropped
        one = memoryview(raw)[F.MAX_CONTENT:]  # raw's spare last byte
        readinto = self.reader.readinto
        while True:
            try:
                n = F.read_frame(readinto, one, raw)
            except EOFError:
                raise _Unwind()
            kept = self._kept
            if n >= 0 and kept is not None and len(kept[0]) == n and raw[:n] == kept[0]:
                self.writer.write(kept[1])  # a repeat: the kept answer, flag first
                continue
            try:
                if n < 0:
                    raise ValueError  # not a frame
                kind = F.check(raw, n, self, True)
                if kind == F.HELLO:
                    fields = F.parse_hello(raw, n)  # None: the host asks for the challenge
                    if fields is None or fields[0] != bytes(self.shadows[F.CHALLENGE_AT:]):
                        if fields is not None:
                            dropped[_STALE_HELLO] += 1
                        self.writer.write(F.control(raw, F.INFO, raw[2], self._info(F.INFO_CHALLENGE, None)))
                        continue
                    self.start(fields[1], raw[2])
                    _stir(self.shadows, fields[1])  # a replay of this HELLO no longer opens one
                    found = fields[2:]
                elif kind == F.RESUME:
                    seq = raw[0]
                    if seq != self.seq % 255 + 1:  # not the next (Session.advance)
                        dropped[_REPLAYED if seq == self.seq else _OUT_OF_ORDER] += 1
                        continue
                    F.apply_delta(raw, n, self, self.m2b, self.b2m, True)
                    self.advance()
                    found = None
                else:
                    continue  # a board's kind: our own frame echoed
            except ValueError:  # not a frame, or not well formed (a HELLO's path not UTF-8 too)
                dropped[_CORRUPT] += 1
                status = F.NAK_IN_SESSION if self.open else F.NAK_NO_SESSION
                self.writer.write(F.control(raw, F.NAK, self.seq, bytes((status,))))
                continue
            self._kept = (bytes(raw[:n]), None)  # its answer comes with the reply
            return found


# A new session, a closed port and the host's Ctrl-C (its watchdog's reset) end the app from
# outside; anything else out of it is its fault.
_NOT_THE_APPS = (_Unwind, KeyboardInterrupt)


def _app_source(path):
    """The installed app is the app store's enabled slot (enabled, validated, CRC intact: what
    tools/flash.py app leaves); app.py (a file a user or a test put there) when no slot is.
    An app's file holds its source, or its ROMFS image (the bytes: firmware/loader.py runs it)."""
    if path == INSTALLED_APP:
        # the store's slot (firmware/app_slot.py: the store itself, its control commands for
        # tools/flash.py, is not loaded for this), let go again: it holds no heap while apps run
        from firmware import app_slot
        found = app_slot.enabled_app()
        import firmware
        del firmware.app_slot, sys.modules[app_slot.__name__]  # (its name: no str on the heap)
        if found is not None:
            return found[1]
    try:
        with open(path, "rb") as f:  # precompiled (microapp run --port): a ROMFS image
            if int.from_bytes(f.read(3), "big") == 0xD2CD31:  # its magic (an int: no bytes object)
                f.seek(0)
                return f.read()
        with open(path) as f:
            return f.read()
    except OSError:
        if path == INSTALLED_APP:
            raise OSError("no app enabled")
        raise


def _stir(shadows, data):
    """A new challenge in the board's session shadows (their last 4 bytes: serial_frame.Session)
    from the old one, `data` and the clock: two CRC-16s (the board may have no random source;
    what it must not do is take the same HELLO twice). (Not a method of Board: its class table
    holds 8 entries in 8 slots, the module's globals have room.)"""
    from time import ticks_us
    t = ticks_us()
    at = F.CHALLENGE_AT
    a = F.crc16(data, 0, None, F.crc16(shadows, at, None, t & 0xFFFF))
    b = F.crc16(data, 0, None, F.crc16(shadows, at, None, (t >> 14) & 0xFFFF) ^ 0x5A5A)
    shadows[at] = a >> 8
    shadows[at + 1] = a & 0xFF
    shadows[at + 2] = b >> 8
    shadows[at + 3] = b & 0xFF


def _traceback(exc):
    """The exception's traceback as MicroPython prints it."""
    import io
    out = io.StringIO()
    sys.print_exception(exc, out)
    return out.getvalue().encode()


def main(*streams):
    """Serve the host on the REPL's serial stream, or on the streams given, (reader, writer):
    e.g. a machine.UART twice. (No default arguments: they would cost the board's heap.)"""
    from firmware import run_flag
    reader, writer = streams or (sys.stdin.buffer, sys.stdout.buffer)
    board = Board(reader, writer, run_flag)
    run_flag.at_boot(INSTALLED_APP)  # the run flag's boot check (firmware/run_flag.py)
    if _COLLECT:
        gc.collect()
    board.heap_boot = gc.mem_alloc()
    try:
        board.serve()
    finally:
        loader.release()  # the REPL's imports are its own again
