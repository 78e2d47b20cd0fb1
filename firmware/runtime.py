# The microapp's side of the coroutine protocol (seed 004): send a request and wait, accept or
# refuse an interrupt, the bounded context stack, dispatch to handlers, final statuses.
# The only thing it gets from outside is `yield_to_host`: a greenlet switch in the simulator, a
# serial exchange on a board. Runs under MicroPython and CPython.
import struct

from shared_buffers.protocol import (
    BUFFER_SIZE, CONTINUE, DEFAULT_STACK_DEPTH, ERR_BUSY, ERR_NOT_FOUND, ERROR, HEADER_SIZE,
    IN_PROGRESS, NO_REQUEST, PAYLOAD_SIZE, PIN, REQUEST, SUCCESS, YIELD, YIELD_ASYNC, YIELD_LOOP,
    YIELD_SETUP,
)

# Acks a handler may return as its final status; anything else is reported as ERROR. ERR_BUSY is
# the runtime's own refusal, so a handler may not return it.
_FINAL_ACKS = (SUCCESS,) + tuple(a for a in range(ERROR, 0x11) if a != ERR_BUSY)


class Runtime:
    def __init__(self, m2b, b2m, yield_to_host, stack_depth=DEFAULT_STACK_DEPTH):
        self.m2b = m2b
        self.b2m = b2m
        self._yield = yield_to_host
        self.max_depth = stack_depth
        self.depth = 0
        # One preallocated pair of buffer copies per stack level: pushing allocates nothing.
        self._stack = [(bytearray(BUFFER_SIZE), bytearray(BUFFER_SIZE)) for _ in range(stack_depth)]
        self.call_id = 0
        self.now_ms = 0
        # (type << 8 | sub-id) -> callable(frame), where frame is the saved copy of the interrupt.
        self.handlers = {}
        self.busy_refused = 0

    # -- requests (soft yields) -------------------------------------------------------------
    def request(self, msg_type, length):
        """Send the request whose payload is already in m2b; return the host's ack."""
        m2b = self.m2b
        m2b[0] = msg_type
        m2b[1] = REQUEST
        m2b[2] = self.call_id
        m2b[3] = length
        self._wait()
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
                self.call_id = b2m[2]
                return

    # -- hard yields and the main context ---------------------------------------------------
    def run(self, setup, loop):
        """The main context: setup() once, then loop() once per tick, each ending in a hard yield."""
        self.call_id = self.b2m[2]
        self._adopt_tick()
        self._run_part(setup, YIELD_SETUP)
        while True:
            self._run_part(loop, YIELD_LOOP)

    def _run_part(self, fn, sub_type):
        try:
            fn()
        except (Exception, SystemExit) as e:
            self.final(sub_type, ERROR, e)
        else:
            self.final(sub_type)

    def final(self, sub_type, ack=NO_REQUEST, exc=None):
        """Hard yield: the final status of this entry; returns when the host resumes us."""
        m2b = self.m2b
        m2b[0] = YIELD
        m2b[1] = ack
        m2b[2] = self.call_id
        m2b[HEADER_SIZE] = sub_type
        m2b[HEADER_SIZE + 1] = self.max_depth - self.depth
        m2b[3] = 2 if exc is None else 2 + _write_error(m2b, HEADER_SIZE + 2, exc)
        self._wait()
        self._adopt_tick()

    def _adopt_tick(self):
        b2m = self.b2m
        if b2m[0] == CONTINUE:
            self.now_ms = struct.unpack_from("<I", b2m, HEADER_SIZE)[0]

    def delay(self, ms):
        """Hard-yield ASYNC at every tick until `ms` of host time have passed."""
        end = self.now_ms + ms
        while self.now_ms < end:
            self.final(YIELD_ASYNC)

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
        self.call_id = b2m[2]
        b2m[1] = IN_PROGRESS
        exc = None
        try:
            handler = self.handlers.get((frame[0] << 8) | _sub_id(frame))
            ack = ERR_NOT_FOUND if handler is None else handler(frame)
            if ack is None:
                ack = SUCCESS
            elif ack not in _FINAL_ACKS:
                raise ValueError("handler returned %r, not an ack" % (ack,))
        except (Exception, SystemExit) as e:
            ack = ERROR
            exc = e
        # Pop the frame: the interrupted context's request buffer comes back as it was.
        self.depth = depth
        self.m2b[:] = saved_m2b
        b2m[:] = frame
        b2m[1] = ack
        b2m[2] = self.call_id
        if exc is not None:
            b2m[3] = _write_error(b2m, HEADER_SIZE, exc)
        self.call_id = outer_id


def _sub_id(frame):
    # PIN interrupts are told apart by pin; every other source has one registration (sub-id 0).
    return frame[HEADER_SIZE + 1] if frame[0] == PIN else 0


def _write_error(buf, offset, exc):
    """Write "Type: message" (utf-8, truncated) at offset; return the bytes written."""
    text = ("%s: %s" % (type(exc).__name__, exc)).encode()
    n = min(len(text), HEADER_SIZE + PAYLOAD_SIZE - offset)
    buf[offset:offset + n] = text[:n]
    return n
