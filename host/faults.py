"""What the host does when a microapp's code raises: Tock's fault policies.

An exception out of setup(), loop() or a handler is a fault. The policy says whether the app is
restarted (a fresh namespace; setup() at the next tick) or stopped:
    stop               stop at the first fault (Tock's PanicFaultPolicy for one process)
    restart            restart every time (RestartFaultPolicy)
    restart-up-to-N    restart N times, stop at the fault after that (ThresholdRestartFaultPolicy)
The count starts again when the app is enabled. A hang (watchdog), an over-long call and a
protocol violation are not the app's code raising: they always stop it (bluenet's flags).
"""
from __future__ import annotations

DEFAULT_POLICY = "restart-up-to-3"
_UP_TO = "restart-up-to-"


class FaultPolicy:
    def __init__(self, max_restarts: int | None = 3) -> None:
        """max_restarts: restarts allowed before the app is stopped; None: no limit."""
        self.max_restarts = max_restarts

    @classmethod
    def parse(cls, text: str) -> FaultPolicy:
        if text == "stop":
            return cls(0)
        if text == "restart":
            return cls(None)
        if text.startswith(_UP_TO) and text[len(_UP_TO):].isdigit():
            return cls(int(text[len(_UP_TO):]))
        raise ValueError(f"fault policy {text!r}: expected stop, restart or restart-up-to-N")

    def restarts(self, restarted: int) -> bool:
        """Restart after a fault, when the app was restarted `restarted` times since enabled?"""
        return self.max_restarts is None or restarted < self.max_restarts

    def __str__(self) -> str:
        if self.max_restarts is None:
            return "restart"
        return "stop" if self.max_restarts == 0 else f"{_UP_TO}{self.max_restarts}"
