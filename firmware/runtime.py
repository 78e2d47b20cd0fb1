# The microapp's side of the coroutine protocol (seed 004; the SDK's microapp.c): accept or refuse
# an interrupt, the bounded context stack, dispatch to handlers, final statuses. A request and its
# wait are the SDK's (firmware/microapp.py's sendMessage). The only thing it gets from outside is
# `to_host`: a greenlet switch in the simulator, a serial exchange on a board. Runs under
# MicroPython and CPython.
from shared_buffers.protocol import (
    BLE, BLUENET_EVENT, ASSETS, BUFFER_SIZE, CONTINUE, ERR_BUSY, ERR_NOT_FOUND, ERR_UNDEFINED,
    ERROR, FLAG_RAISED, IN_PROGRESS, MESH, MESSAGE, NO_REQUEST, OFF_CALL_ID, OFF_FLAGS, OFF_TEXT,
    OFF_GRANT, OFF_GRANT_DONE, OFF_TEXT_LEN, OFF_USED, OFF_YIELD_SLOTS, OFF_YIELD_TYPE, PIN, REQUEST,
    SIGNAL, SUCCESS, TEXT_MAX, YIELD, YIELD_LOOP, YIELD_SETUP, YIELD_STRUCT,
)

try:
    from micropython import const
except ImportError:  # CPython: const(n) is n
    const = int  # type: ignore[assignment]
del __file__  # a slot of the module's globals (5 would take a 6-slot table); no one reads its path
# The Runtime serving the SDK's calls ([0], set by microapp.bind()), and [1]: the SDK imports
# one of its lazy modules (the loader's import hook lets it through). The SDK's few ways to the
# runtime hold this cell as a default argument and the SDK's modules drop it from their globals:
# MicroPython gives every function its __globals__ but shows no default arguments, so an app
# that walks from an SDK function to its module finds no runtime (docs/faults.md). No app
# reaches this module: no object of it is given to one.
SDK_CELL = [None, False]  # type: list
# The types whose interrupts the SDK dispatches, as a bit mask (a constant tuple would take
# 48 B of a board's heap; the mask is folded in): 1 << PIN | 1 << BLE | 1 << MESH | 1 << MESSAGE
# | 1 << BLUENET_EVENT | 1 << ASSETS | 1 << SIGNAL, a literal (MicroPython running this source
# unfolded takes no imported names in a const())
_DISPATCHED = const(0x1E0C4)


class Runtime:
    def __init__(self, m2b, b2m, to_host, depth, unwind):
        """depth: the context stack's (protocol.DEFAULT_STACK_DEPTH unless the host says);
        unwind: a tuple of the exception classes that end the app from outside (a new session,
        a greenlet being replaced; () for none); every other BaseException out of the app is
        the app's fault.
        (No default arguments: they would cost a board's heap.)"""
        self.m2b = m2b
        self.b2m = b2m
        self._yield = to_host
        self.max_depth = depth
        self.depth = 0
        # One preallocated pair of buffer copies per stack level: pushing allocates nothing.
        self._stack = []
        for _ in range(depth):  # (a loop: a comprehension would cost the board a function)
            self._stack.append((bytearray(BUFFER_SIZE), bytearray(BUFFER_SIZE)))
        self.call_id = 0
        # (type << 8 | id) -> callable(frame), frame being the saved copy of the interrupt.
        self.handlers = {}
        self.sdk_state = {}  # the SDK objects' state for this app (mesh buffer, BLE flags, ...)
        self.busy_refused = 0
        self.unwind = unwind
        self.last_error = None  # the last exception out of the app's code (for tracebacks)
        self._grant = 0  # idle ticks the host granted at the last resume (ours, docs/protocol.md)
        # Ours, the simulator's mesh only (None elsewhere): yields to the host between two idle
        # ticks of a grant (see final()); returns True when the host runs the next one.
        self.pause = None

    # -- hard yields and the main context ---------------------------------------------------
    def run(self, setup, loop):
        """The main context: setup() once, then loop() once per tick, each ending in a hard yield
        (or, within a grant of idle ticks, in the next loop() at once: final()'s fast path,
        inlined here because an idle tick is nothing else; the mesh's stepped grants, which
        pause, take final()'s)."""
        m2b, b2m = self.m2b, self.b2m
        self.call_id = b2m[OFF_CALL_ID]
        fn, kind = setup, YIELD_SETUP
        while True:
            try:
                fn()
            except BaseException as e:  # noqa: B036 - every exception out of the app is its fault
                if isinstance(e, self.unwind):
                    raise
                self.last_error = e
                m2b[1] = NO_REQUEST
                self.final(kind, e)
            else:
                m2b[1] = NO_REQUEST  # the SDK's main.c; delay() leaves the ack as it was
                if self._grant > 1 and b2m[OFF_GRANT] and self.pause is None:
                    self._grant -= 1
                    m2b[OFF_GRANT_DONE] += 1
                else:
                    self.final(kind, None)
            fn, kind = loop, YIELD_LOOP

    def final(self, kind, exc=None):
        """Hard yield: the final status of this entry (exc: the exception that ended it; the
        SDK's delay() gives none); returns when the host resumes us. Within a grant of idle
        ticks (ours) a clean final status needs no yield: the runtime runs the next tick itself,
        advancing its clock, until a request or the grant's end.
        Between two idle ticks of a stepped grant (the simulator's mesh) the runtime pauses
        instead (self.pause()), and the host takes the pause as the final status of the tick
        just run. It resumes with True for the next idle tick; otherwise it has written b2m: an
        interrupt, served as after a yield, or a new entry (the grant is over)."""
        m2b = self.m2b
        b2m = self.b2m
        in_grant = self._grant > 1 and exc is None and b2m[OFF_GRANT] != 0
        if in_grant:
            pause = self.pause
            next_tick = pause is None or pause() is True
        else:
            m2b[0] = YIELD
            m2b[OFF_CALL_ID] = self.call_id
            m2b[OFF_USED] = YIELD_STRUCT
            m2b[OFF_YIELD_TYPE] = kind
            m2b[OFF_YIELD_SLOTS] = self.max_depth - self.depth
            _write_error(m2b, exc)
            self._yield()
            next_tick = False
        # Until the host resumes this context, an interrupt written meanwhile (ack REQUEST) is
        # served on top of it first. The host's resume names the context's id for this entry.
        while not next_tick and b2m[1] == REQUEST:
            self._interrupt()
            next_tick = self._yield() is True and in_grant
        if next_tick:
            self._grant -= 1
            m2b[OFF_GRANT_DONE] += 1
        else:
            self.call_id = b2m[OFF_CALL_ID]
            self._grant = b2m[OFF_GRANT] if b2m[0] == CONTINUE else 0

    # -- interrupts -------------------------------------------------------------------------
    def _interrupt(self):
        b2m = self.b2m
        depth = self.depth
        if depth >= self.max_depth:
            # Stack full: refuse and run nothing (seed 004, "interrupt stack full").
            b2m[1] = ERR_BUSY
            self.busy_refused += 1
            return
        saved_m2b, frame = self._stack[depth]
        saved_m2b[:] = self.m2b
        frame[:] = b2m
        self.depth = depth + 1
        outer_id = self.call_id
        self.call_id = b2m[OFF_CALL_ID]
        b2m[1] = IN_PROGRESS
        exc = None
        try:
            # The types whose interrupts the SDK dispatches, by (type, byte 2): the pin for PIN,
            # the sub-type for the others (microapp.c handleInterrupt). The SDK of Jan 2023 has no
            # ASSETS case (it answers ERR_UNDEFINED, a bug): we dispatch ASSETS as bluenet meant.
            # SIGNAL is ours. (_DISPATCHED: a mask, no tuple on the heap.)
            t = frame[0]
            if (_DISPATCHED >> t) & 1:
                handler = self.handlers.get((t << 8) | frame[2])
                ack = ERR_NOT_FOUND if handler is None else handler(frame)
            else:
                ack = ERR_UNDEFINED
            # Acks a handler may return as its final status; anything else is reported as ERROR.
            # ERR_BUSY is the runtime's own refusal, and NO_REQUEST/REQUEST/IN_PROGRESS mean "not
            # finished" to bluenet.
            if ack is None:
                ack = SUCCESS
            elif ack != SUCCESS and (ack not in range(ERROR, 0x11) or ack == ERR_BUSY):
                raise ValueError("handler returned %r, not an ack" % (ack,))
        except BaseException as e:  # noqa: B036
            if isinstance(e, self.unwind):
                raise
            self.last_error = exc = e
            ack = ERROR
        # Pop the frame: the interrupted context's request buffer comes back as it was.
        self.depth = depth
        self.m2b[:] = saved_m2b
        b2m[:] = frame
        b2m[1] = ack
        b2m[OFF_CALL_ID] = self.call_id
        _write_error(b2m, exc)
        self.call_id = outer_id


def _write_error(buf, exc):
    """Mark a final status as raised, with "Type: message" (utf-8, truncated), or as clean."""
    if exc is None:
        buf[OFF_FLAGS] = 0
        buf[OFF_TEXT_LEN] = 0
        return
    text = ("%s: %s" % (type(exc).__name__, exc)).encode()[:TEXT_MAX]
    n = len(text)
    buf[OFF_FLAGS] = FLAG_RAISED
    buf[OFF_TEXT_LEN] = n
    buf[OFF_TEXT:OFF_TEXT + n] = text
