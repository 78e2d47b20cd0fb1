"""Traces: the switch trace of a link (switches.py), Chrome trace-event JSON for Perfetto
(perfetto.py) and Mermaid sequence diagrams from a trace (diagram.py)."""
from host.trace.switches import Step, SwitchTrace

__all__ = ["Step", "SwitchTrace"]
