"""The `microapp` command: run a microapp in the simulator (or on a board), start a virtual board."""
from __future__ import annotations

import argparse
import json
import os
import sys

from host.events import EventsError, load_events
from host.limits import Limits
from host.simulator import AppLoadError, Simulation, read_app
from host.trace import SwitchTrace


class CliError(Exception):
    """A user error: one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2, no usage dump
        raise CliError(message)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="microapp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a microapp in the simulator")
    run.add_argument("app", help="the microapp's .py file")
    run.add_argument("--ticks", type=_positive, default=100, help="ticks to run (default 100, 100 ms each)")
    run.add_argument("--events", help="events file: mesh messages, pin changes, BLE scans over time")
    run.add_argument("--seed", type=_positive, default=0, help="seed for jittered events (default 0)")
    run.add_argument("--json", metavar="FILE", help="write the run's summary as JSON")
    run.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                     help="override a limit, e.g. entry_budget=5 or cost.LOG=1,1 (repeatable)")
    run.add_argument("--quiet", action="store_true", help="do not print the log lines")
    run.add_argument("--trace", metavar="FILE", help="write both buffers' type/ack/ids at every switch")
    board = sub.add_parser("board", help="start a virtual MicroPython board on a pseudo-terminal")
    board.add_argument("--flash", metavar="DIR", help="directory holding the board's filesystem")
    return parser


def _print_log(t_ms: int, text: str) -> None:
    try:
        print(f"t={t_ms / 1000:.3f}s {text}")
    except BrokenPipeError:  # piped into head & co.: the run goes on, its log stays in the summary
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def cmd_run(args: argparse.Namespace) -> int:
    try:
        limits = Limits().with_overrides(args.limit)
    except ValueError as e:
        raise CliError(str(e)) from None
    try:
        code = read_app(args.app)
        events = load_events(args.events, args.seed) if args.events else []
    except (AppLoadError, EventsError) as e:
        raise CliError(str(e)) from None
    json_file = _open_for_writing(args.json) if args.json else None  # a bad path fails before the run
    trace_file = _open_for_writing(args.trace) if args.trace else None
    trace = SwitchTrace(trace_file) if trace_file else None
    try:
        sim = Simulation(code, events, limits, on_log=None if args.quiet else _print_log, trace=trace)
    except Exception as e:  # the app's top-level code raised while importing
        raise CliError(f"{args.app}: does not import: {type(e).__name__}: {e}") from None
    if trace is not None:
        trace.clock = sim.clock
    try:
        summary = sim.run(args.ticks)
    finally:
        if trace_file:
            trace_file.close()
    interrupts = summary["interrupts"]
    print(f"{summary['ticks']} ticks, {sum(summary['requests'].values())} requests, "
          f"{interrupts['delivered']}/{interrupts['generated']} interrupts delivered, "
          f"{len(summary['faults'])} faults", file=sys.stderr)
    if json_file:
        with json_file:
            json.dump(summary, json_file, indent=1)
    return 0


def _open_for_writing(path: str):
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as e:
        raise CliError(f"{path}: {e.strerror}") from None


def cmd_board(args: argparse.Namespace) -> int:
    from host.board.virtual_board import run_board_command
    return run_board_command(args.flash)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return {"run": cmd_run, "board": cmd_board}[args.command](args)
    except CliError as e:
        print(f"microapp: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
