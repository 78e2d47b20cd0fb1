"""The virtual board: a real MicroPython VM (WASI build, wasmtime) behind a pty."""

from .virtual_board import VirtualBoard, run_board_command

__all__ = ["VirtualBoard", "run_board_command"]
