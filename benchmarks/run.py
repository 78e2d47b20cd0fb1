"""Print the project's performance figures as `name: value` lines.

    python benchmarks/run.py            every figure
    python benchmarks/run.py sim        only the named groups (sim, serial, flash, io, mesh, isolate, flag)

Each group measures its figure and its baseline in the same run (a ratio never compares
numbers from different runs or machines). Goals are stated in docs/benchmarks.md. A group that
fails prints its traceback and the others still print; the exit code is then 1.
"""
from __future__ import annotations

import importlib
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GROUPS = {"sim": "benchmarks.sim_bench", "serial": "benchmarks.serial_bench", "flash": "benchmarks.flash_bench",
          "io": "benchmarks.io_bench", "mesh": "benchmarks.mesh_bench",
          "isolate": "benchmarks.isolate_bench", "flag": "benchmarks.run_flag_bench"}


def main(argv: list[str]) -> int:
    unknown = [g for g in argv if g not in GROUPS]
    if unknown:
        print(f"run.py: error: unknown group(s) {', '.join(unknown)}; known: {', '.join(GROUPS)}", file=sys.stderr)
        return 2
    failed = []
    for group in argv or list(GROUPS):
        try:  # a group that fails is named; the other groups' figures still print
            figures = importlib.import_module(GROUPS[group]).figures()
        except Exception:
            traceback.print_exc()
            failed.append(group)
            continue
        for name, value in figures.items():
            print(f"{name}: {value:.6g}" if isinstance(value, float) else f"{name}: {value}", flush=True)
    if failed:
        print(f"run.py: error: group(s) {', '.join(failed)} failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
