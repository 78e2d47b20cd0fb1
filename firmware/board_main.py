# The board's main program: serves the host over the serial line (docs/protocol.md, "The serial frame") with the
# same Runtime the simulator uses; only the yield primitive differs: send both buffers (their
# used bytes) in a YIELD frame, block until the host's next RESUME, copy it into the buffers.
#
# On boot it loads the installed microapp (the app store's enabled slot, firmware/app_store.py;
# else app.py) and announces itself with an INFO frame
# (seq 0). A HELLO (re)starts a microapp (the installed one or a path it names) and is answered
# with INFO; RESUME frames drive the app. Stop-and-wait: a repeated request gets the kept reply
# again and is not handled twice; a frame that does not decode gets a NAK.
# The board's main.py is `from firmware.board_main import main` + `main()`.
# Runs under MicroPython (and CPython, for tests).
import gc
import sys

from firmware import app_store, microapp
from firmware.loader import load_app
from firmware.runtime import Runtime
from shared_buffers import serial_frame as F
from shared_buffers.buffers import new_buffer
from shared_buffers.protocol import DEFAULT_STACK_DEPTH

VERSION = "microapp-firmware 0.1"
INSTALLED_APP = "app.py"
# The WASI build's collector (the virtual board) misses pointers held in wasm locals, so a
# collection can free live objects: there the firmware never collects, and the virtual board
# runs with a heap big enough for a session. Real boards collect between apps.
_COLLECT = getattr(sys.implementation, "_build", "") != "wasi"


class _NewSession(BaseException):
    """A HELLO came while an app runs: unwind it. A BaseException, as apps may catch Exception."""


class _PortClosed(BaseException):
    """The serial stream ended (tests feed a finite stream)."""


class Board:
    def __init__(self, reader, writer):
        """reader: a stream with read(n) (sys.stdin.buffer, a machine.UART); writer: write()."""
        self._frames = F.FrameReader(reader)
        self._write = writer.write
        self.m2b = new_buffer()
        self.b2m = new_buffer()
        self._encoder = F.Encoder()
        self._last_request = None  # the last request handled (checked frame content)
        self._last_seq = 0
        self._reply = None         # the frame sent in answer to it, kept for a repeat
        self._pending = None       # a HELLO that arrived while the app ran
        self.runtime = None
        self.app = ""
        self._entry = None         # (setup, loop) of the loaded app, None when it did not load
        self._depth = 0
        self._fresh = False        # loaded and not run yet: a HELLO for it need not reload it
        self._opened = False       # a HELLO opened a session the next RESUME starts
        self._error = ""
        self.heap_boot = 0  # heap in use once the firmware is imported and set up

    # -- serving ----------------------------------------------------------------------------
    def serve(self):
        """Load the installed app, announce the board, then serve until the stream ends."""
        self._load(INSTALLED_APP, DEFAULT_STACK_DEPTH)
        self._write(self._encoder.frame(0, F.INFO, self._info()))
        try:
            while True:
                raw = self._pending or self._next_request()
                self._pending = None
                if raw[1] == F.HELLO:
                    self._hello(raw)
                elif self._opened:
                    self._run()
                else:
                    self._answer(F.INFO, self._info(F.INFO_NO_SESSION))
        except _PortClosed:
            pass

    def _run(self):
        setup, loop = self._entry
        self._opened = self._fresh = False  # a session runs once; a new one needs a HELLO
        try:
            self.runtime.run(setup, loop)
        except _NewSession:
            pass

    def _hello(self, raw):
        try:
            depth, app = F.parse_hello(F.body(raw))
        except (F.FrameError, UnicodeError) as e:
            self._answer(F.INFO, self._info(F.INFO_LOAD_ERROR, "bad HELLO: %s" % e))
            return
        app = app or INSTALLED_APP
        depth = depth or DEFAULT_STACK_DEPTH
        if not (self._fresh and app == self.app and depth == self._depth):
            self._load(app, depth)
        self._opened = self._entry is not None
        self._answer(F.INFO, self._info())

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
        try:
            entry = load_app(_app_source(path))
        except (Exception, SystemExit) as e:
            self._error = "%s: %s" % (type(e).__name__, e)
            return
        # A new session, a closed port and the host's Ctrl-C (its watchdog's reset) end the app from
        # outside; anything else out of it is its fault.
        self.runtime = Runtime(self.m2b, self.b2m, self._yield, depth,
                               unwind=(_NewSession, _PortClosed, KeyboardInterrupt))
        microapp.bind(self.runtime)
        self._entry = entry
        self._fresh = True

    def _info(self, status=None):
        if status is None:
            status = F.INFO_READY if self._entry else F.INFO_LOAD_ERROR
        depth = self.runtime.max_depth if self.runtime else 0
        return F.info_body(status, depth, self.heap_boot, _heap_used(), VERSION, self.app,
                           self._error)

    # -- the yield primitive ----------------------------------------------------------------
    def _yield(self):
        self._answer(F.YIELD)
        raw = self._next_request()
        if raw[1] == F.HELLO:
            self._pending = raw
            raise _NewSession()

    def _answer(self, kind, body=None):
        """Send (and keep, for a repeat) the answer to the last request."""
        if body is None:
            reply = self._encoder.buffers(self._last_seq, kind, self.m2b, self.b2m)
        else:
            reply = self._encoder.frame(self._last_seq, kind, body)
        self._reply = reply
        self._write(reply)

    def _next_request(self):
        """Block until a new request arrives (a RESUME is copied into the buffers): the checked
        frame. A repeat of the last request gets the kept answer; an unreadable frame a NAK."""
        while True:
            try:
                raw = self._frames.next()
            except EOFError:
                raise _PortClosed()
            if raw is None:
                self._write(self._encoder.frame(self._last_seq, F.NAK))
            elif raw == self._last_request:
                self._write(self._reply)
            elif raw[1] == F.HELLO or (raw[1] == F.RESUME and F.unpack_buffers(raw, self.m2b, self.b2m)):
                self._last_request = raw
                self._last_seq = raw[0]
                return raw
            else:
                self._write(self._encoder.frame(self._last_seq, F.NAK))


def _app_source(path):
    """The installed app is the app store's enabled slot (enabled, validated, CRC intact: what
    tools/flash.py app leaves); app.py (a file a user or a test put there) when no slot is."""
    if path == INSTALLED_APP:
        found = app_store.enabled_app()
        if found is not None:
            return found[1]
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        if path == INSTALLED_APP:
            raise OSError("no app enabled")
        raise


def _heap_used():
    try:
        return gc.mem_alloc()
    except AttributeError:  # CPython (tests): no MicroPython heap
        return 0


def main(reader=None, writer=None):
    """Serve the host on the REPL's serial stream (or the given streams, e.g. a machine.UART)."""
    board = Board(reader or sys.stdin.buffer, writer or sys.stdout.buffer)
    if _COLLECT:
        gc.collect()
    board.heap_boot = _heap_used()
    board.serve()
