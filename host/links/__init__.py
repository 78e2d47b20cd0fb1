"""Links hand control from the host to the microapp and back.

The controller only knows this interface; the greenlet link (simulator) and the serial link
(a board) implement it, and the same conformance tests run against both.
"""
from __future__ import annotations

from typing import Protocol

# What the greenlet link's resume() returns when the app paused between two idle ticks of a
# grant (GreenletLink.pause_in_grants, the mesh's stepped grants); otherwise it returns ().
PAUSED = True


class AppHung(Exception):
    """resume() got no yield back within the watchdog limit; the link has already stopped the
    microapp (preempted the greenlet, reset the board). The controller faults and disables it."""


class CallTooLong(Exception):
    """resume() came back, but later than the per-call limit (bluenet's 20 ms, measured after
    the call as bluenet does; the simulator checks it with --strict-timing). The controller flags
    the app exceeded-call-duration and disables it."""


class Link(Protocol):
    m2b: bytearray  # microapp-to-host buffer (requests)
    b2m: bytearray  # host-to-microapp buffer (ticks and interrupts)

    def resume(self) -> None:
        """Hand control to the microapp until it yields; both buffers then hold what it wrote.
        Raises AppHung when the watchdog fires."""

    def restart(self) -> None:
        """A fresh microapp (new heap/namespace); setup() runs at the next resume."""
