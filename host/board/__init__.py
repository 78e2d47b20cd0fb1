"""The virtual board: a real MicroPython VM (the unix port, in a child process) behind a pty."""

from .virtual_board import VirtualBoard, run_board_command

__all__ = ["VirtualBoard", "run_board_command"]
