# The microapp's side of the coroutine protocol (seed 004; the SDK's microapp.c): send a request
# and wait, accept or refuse an interrupt, the bounded context stack, dispatch to handlers, final
# statuses. The only thing it gets from outside is `yield_to_host`: a greenlet switch in the
# simulator, a serial exchange on a board. Runs under MicroPython and CPython.
from shared_buffers.protocol import (
    BLE, BLUENET_EVENT, ASSETS, BUFFER_SIZE, CONTINUE, ERR_BUSY, ERR_NO_SPACE, ERR_NOT_FOUND, ERR_UNDEFINED,
    ERROR, FLAG_RAISED, IN_PROGRESS, MESH, MESSAGE, NO_REQUEST, OFF_CALL_ID, OFF_FLAGS, OFF_TEXT,
    OFF_GRANT, OFF_GRANT_DONE, OFF_TEXT_LEN, OFF_TIME, OFF_USED, OFF_YIELD_SLOTS, OFF_YIELD_TYPE, PIN, REQUEST,
    SDK_MAX_REGISTRATIONS, SIGNAL, SUCCESS, TEXT_MAX, YIELD, YIELD_ASYNC, YIELD_LOOP, YIELD_SETUP,
    YIELD_STRUCT, DEFAULT_STACK_DEPTH,
)

# Types whose interrupts the SDK dispatches, by (type, byte 2): the pin for PIN, the sub-type for
# the others (microapp.c handleInterrupt). The SDK of Jan 2023 has no ASSETS case (it answers
# ERR_UNDEFINED, a bug): we dispatch ASSETS as bluenet meant. SIGNAL is ours.
_DISPATCHED = (PIN, BLE, MESH, MESSAGE, BLUENET_EVENT, ASSETS, SIGNAL)
# bluenet's SDK delay(): one ASYNC yield per 100 ms tick, rounded down (Arduino.c:9-20).
TICK_MS = 100
# Acks a handler may return as its final status; anything else is reported as ERROR. ERR_BUSY is
# the runtime's own refusal, and NO_REQUEST/REQUEST/IN_PROGRESS mean "not finished" to bluenet.
_FINAL_ACKS = (SUCCESS,) + tuple(a for a in range(ERROR, 0x11) if a != ERR_BUSY)
# The Runtime serving the SDK's calls ([0], set by microapp.bind()), and [1]: the SDK imports
# one of its lazy modules (the loader's import hook lets it through). The SDK's few ways to the
# runtime hold this cell as a default argument and the SDK's modules drop it from their globals:
# MicroPython gives every function its __globals__ but shows no default arguments, so an app
# that walks from an SDK function to its module finds no runtime (docs/faults.md). No app
# reaches this module: no object of it is given to one.
SDK_CELL = [None, False]  # type: list


class Runtime:
    def __init__(self, m2b, b2m, yield_to_host, stack_depth=DEFAULT_STACK_DEPTH, unwind=()):
        """unwind: exception classes that end the app from outside (a new session, a greenlet
        being replaced); every other BaseException out of the app is the app's fault."""
        self.m2b = m2b
        self.b2m = b2m
        self._yield = yield_to_host
        self.max_depth = stack_depth
        self.depth = 0
        # One preallocated pair of buffer copies per stack level: pushing allocates nothing.
        self._stack = [(bytearray(BUFFER_SIZE), bytearray(BUFFER_SIZE)) for _ in range(stack_depth)]
        self.call_id = 0
        # (type << 8 | id) -> callable(frame), frame being the saved copy of the interrupt.
        self.handlers = {}
        self.sdk_state = {}  # the SDK objects' state for this app (mesh buffer, BLE flags, ...)
        self.busy_refused = 0
        self.unwind = unwind
        self.last_error = None  # the last exception out of the app's code (for tracebacks)
        self._grant = 0  # idle ticks the host granted at the last resume (ours, docs/protocol.md)
        # Ours, the simulator's mesh only (None elsewhere): yields to the host between two idle
        # ticks of a grant (see _paused); returns True when the host runs the next one.
        self.pause = None

    # -- requests (soft yields) -------------------------------------------------------------
    def request(self, msg_type, used):
        """Send the request whose struct is already in m2b (bytes 2..used-1) and yield; return
        its ack. The hot path: the wait is inlined (see _wait)."""
        m2b = self.m2b  # literal numbers on this hot path: REQUEST 2, OFF_CALL_ID 48, OFF_USED 49
        m2b[0] = msg_type
        m2b[1] = 2
        m2b[48] = self.call_id
        m2b[49] = used
        b2m = self.b2m
        to_host = self._yield  # an attribute, not a method: looked up faster as one
        to_host()
        while b2m[1] == 2:
            self._interrupt()
            to_host()
        self.call_id = b2m[48]
        return m2b[1]

    def _wait(self):
        # Yield until the host resumes this context; an interrupt written meanwhile (ack REQUEST)
        # is served on top of it first. The host's resume names the context's id for this entry.
        b2m = self.b2m
        while True:
            self._yield()
            if b2m[1] == REQUEST:
                self._interrupt()
            else:
                self.call_id = b2m[OFF_CALL_ID]
                return

    def millis(self):
        b = self.b2m
        t = b[OFF_TIME] | b[OFF_TIME + 1] << 8 | b[OFF_TIME + 2] << 16 | b[OFF_TIME + 3] << 24
        if b[OFF_GRANT]:  # inside a grant: the idle ticks run so far (the host adopts them later)
            t += self.m2b[OFF_GRANT_DONE] * TICK_MS
        return t

    # -- hard yields and the main context ---------------------------------------------------
    def run(self, setup, loop):
        """The main context: setup() once, then loop() once per tick, each ending in a hard yield
        (or, within a grant of idle ticks, in the next loop() at once: final()'s fast path,
        inlined here because an idle tick is nothing else)."""
        m2b, b2m = self.m2b, self.b2m
        self.call_id = b2m[OFF_CALL_ID]
        self._run_part(setup, YIELD_SETUP)
        while True:
            try:
                loop()
            except BaseException as e:  # noqa: B036 - every exception out of the app is its fault
                self._raised(e, YIELD_LOOP)
                continue
            m2b[1] = NO_REQUEST  # the SDK's main.c; delay() leaves the ack as it was
            if self._grant > 1 and b2m[OFF_GRANT]:
                pause = self.pause
                if pause is None or pause() is True or self._paused():
                    self._grant -= 1
                    m2b[OFF_GRANT_DONE] += 1
            else:
                self.final(YIELD_LOOP)

    def _run_part(self, fn, sub_type):
        try:
            fn()
        except BaseException as e:  # noqa: B036
            self._raised(e, sub_type)
        else:
            self.m2b[1] = NO_REQUEST
            self.final(sub_type)

    def _raised(self, e, sub_type):
        if isinstance(e, self.unwind):
            raise e
        self.last_error = e
        self.m2b[1] = NO_REQUEST
        self.final(sub_type, e)

    def final(self, sub_type, exc=None):
        """Hard yield: the final status of this entry; returns when the host resumes us.
        Within a grant of idle ticks (ours) a clean final status needs no yield: the runtime
        runs the next tick itself, advancing its clock, until a request or the grant's end."""
        m2b = self.m2b
        b2m = self.b2m
        if self._grant > 1 and exc is None and b2m[OFF_GRANT]:
            pause = self.pause
            if pause is None or pause() is True or self._paused():
                self._grant -= 1
                m2b[OFF_GRANT_DONE] += 1
            return
        m2b[0] = YIELD
        m2b[OFF_CALL_ID] = self.call_id
        m2b[OFF_USED] = YIELD_STRUCT
        m2b[OFF_YIELD_TYPE] = sub_type
        m2b[OFF_YIELD_SLOTS] = self.max_depth - self.depth
        _write_error(m2b, exc)
        self._wait()
        self._grant = b2m[OFF_GRANT] if b2m[0] == CONTINUE else 0

    def _paused(self):
        """Between two idle ticks of a stepped grant (the simulator's mesh) the runtime pauses
        (self.pause()), and the host takes the pause as the final status of the tick just run.
        It resumes with True for the next idle tick; otherwise (here) it has written b2m: an
        interrupt, served as in _wait, or a new entry, when we go on as _wait returns (False:
        the grant is over)."""
        b2m = self.b2m
        while b2m[1] == REQUEST:
            self._interrupt()
            if self._yield() is True:
                return True
        self.call_id = b2m[OFF_CALL_ID]
        self._grant = b2m[OFF_GRANT] if b2m[0] == CONTINUE else 0
        return False

    def delay(self, ms):
        """bluenet's delay(): floor(ms / 100) ASYNC yields, each ending this entry."""
        for _ in range(ms // TICK_MS):
            self.final(YIELD_ASYNC)

    # -- interrupts -------------------------------------------------------------------------
    def register(self, key, handler):
        """The SDK's registerInterrupt(): at most 6 registrations (microapp.h)."""
        handlers = self.handlers
        if key not in handlers and len(handlers) >= SDK_MAX_REGISTRATIONS:
            return ERR_NO_SPACE
        handlers[key] = handler
        return SUCCESS

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
            t = frame[0]
            if t in _DISPATCHED:
                handler = self.handlers.get((t << 8) | frame[2])
                ack = ERR_NOT_FOUND if handler is None else handler(frame)
            else:
                ack = ERR_UNDEFINED
            if ack is None:
                ack = SUCCESS
            elif ack not in _FINAL_ACKS:
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
