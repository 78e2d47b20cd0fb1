"""Print the project's performance figures as `name: value` lines.

    python benchmarks/run.py            every figure
    python benchmarks/run.py sim        only the named groups (sim, serial, flash, io)

Each group measures its figure and its baseline in the same run (a ratio never compares
numbers from different runs or machines). Goals are stated in docs/benchmarks.md.
"""
from __future__ import annotations

import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GROUPS = {"sim": "benchmarks.sim_bench", "serial": "benchmarks.serial_bench", "flash": "benchmarks.flash_bench",
          "io": "benchmarks.io_bench"}


def main(argv: list[str]) -> int:
    unknown = [g for g in argv if g not in GROUPS]
    if unknown:
        print(f"run.py: error: unknown group(s) {', '.join(unknown)}; known: {', '.join(GROUPS)}", file=sys.stderr)
        return 2
    for group in argv or list(GROUPS):
        module = importlib.import_module(GROUPS[group])
        for name, value in module.figures().items():
            print(f"{name}: {value:.6g}" if isinstance(value, float) else f"{name}: {value}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
