"""The `microapp` command: run a microapp in the simulator (or on a board), start a virtual board,
show and enable apps (their persisted state)."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from host.app_state import (
    DEFAULT_STATE_FILE, StateFileError, StateStore, app_key, app_name, find_app, format_status,
)
from host.clock import WallClock
from host.events import EventsError, load_events
from host.faults import DEFAULT_POLICY, FaultPolicy
from host.limits import BLUENET_CALL_DURATION_MS, Limits
from host.report import History, write_summary
from host.simulator import AppLoadError, Simulation, read_app
from host.trace import SwitchTrace
from host.world.history import describe
from host.world.scenario import load_scenario


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
    run.add_argument("--scenario", metavar="FILE", help="the stone's world (TOML): load, switch, rooms, I2C devices, timeline")
    run.add_argument("--seed", type=_positive, default=0, help="seed for jittered events and the power meter's noise (default 0)")
    run.add_argument("--json", metavar="FILE", help="write the run's summary as JSON")
    run.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                     help="override a limit, e.g. entry_budget=5 or cost.LOG=1,1 (repeatable)")
    run.add_argument("--quiet", action="store_true", help="do not print the log lines")
    run.add_argument("--trace", metavar="FILE", help="write both buffers' type/ack/ids at every switch "
                     "(FILE.json: a Chrome trace-event JSON, as `microapp mesh --trace` writes)")
    run.add_argument("--fault-policy", default=DEFAULT_POLICY, metavar="POLICY",
                     help=f"when the app's code raises: stop, restart or restart-up-to-N (default {DEFAULT_POLICY})")
    run.add_argument("--strict-timing", action="store_true",
                     help=f"stop the app when one call into it takes over {BLUENET_CALL_DURATION_MS} ms, as bluenet")
    state_help = f"the apps' persisted flags and counters (default {DEFAULT_STATE_FILE})"
    run.add_argument("--state", metavar="FILE", default=DEFAULT_STATE_FILE, help=state_help)
    run.add_argument("--port", metavar="URL",
                     help="run on the board at this serial port (pyserial URL; the firmware must be on it)")
    run.add_argument("--isolate", action="store_true",
                     help="run the app in a child process with CPU and memory limits, killed when it "
                          "does not yield (docs/faults.md)")
    run.add_argument("--baud", type=_positive, default=115200, help="the board's baud rate (default 115200)")
    status = sub.add_parser("status", help="each app's flags and counters")
    status.add_argument("app", nargs="?", help="only this app (its .py file or name)")
    status.add_argument("--state", metavar="FILE", default=DEFAULT_STATE_FILE, help=state_help)
    enable = sub.add_parser("enable", help="let a disabled app run again; clears did-reboot and exceeded-call-duration")
    enable.add_argument("app", help="the app's .py file or name")
    enable.add_argument("--state", metavar="FILE", default=DEFAULT_STATE_FILE, help=state_help)
    convert = sub.add_parser("convert", help="write an events file as a scenario's timeline (TOML)")
    convert.add_argument("events", help="the events file")
    convert.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: stdout)")
    board = sub.add_parser("board", help="start a virtual MicroPython board on a pseudo-terminal")
    board.add_argument("--flash", metavar="DIR", help="directory holding the board's filesystem")
    board.add_argument("--profile", choices=["pca10040", "pca10056"], default="pca10040",
                       help="the real board whose heap, REPL buffer and baud rate it has (default pca10040)")
    from host.mesh.cli import add_parsers  # `mesh` and `diagram`: each sets its run_command
    add_parsers(sub)
    return parser


def _print_log(t_ms: int, text: str) -> None:
    try:
        print(f"t={t_ms / 1000:.3f}s {text}")
    except BrokenPipeError:  # piped into head & co.: the run goes on, its log stays in the summary
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _print_world(t_ms: int, what: str, source: str, fields: dict) -> None:
    _print_log(t_ms, describe(what, source, fields))


def cmd_run(args: argparse.Namespace) -> int:
    try:
        limits = Limits().with_overrides(args.limit)
        policy = FaultPolicy.parse(args.fault_policy)
    except ValueError as e:
        raise CliError(str(e)) from None
    if args.strict_timing and not limits.call_duration_ms:
        limits = replace(limits, call_duration_ms=BLUENET_CALL_DURATION_MS)
    try:
        code = read_app(args.app)
        events = load_events(args.events, args.seed) if args.events else []
        scenario = load_scenario(args.scenario, args.seed) if args.scenario else None
    except (AppLoadError, EventsError) as e:
        raise CliError(str(e)) from None
    json_file = _open_for_writing(args.json) if args.json else None  # a bad path fails before the run
    trace_file = _open_for_writing(args.trace) if args.trace else None
    trace = SwitchTrace(trace_file) if trace_file else None
    if trace_file and args.trace.endswith(".json"):
        from host.trace.perfetto import Recorder
        trace = Recorder().one_stone(trace_file)  # type: ignore[assignment]
    store, key = StateStore(args.state), app_key(args.app)
    name = app_name(key)
    try:
        store.put(key, store.get(key))  # a corrupt or unwritable state file fails before the run
    except StateFileError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"{args.state}: {e.strerror}") from None
    link, clock = (_board_link(args, limits, trace), WallClock()) if args.port else (None, None)
    # Memory stays flat however long the run: the history streams to a spool for --json;
    # without it nothing reads the history, and none is kept.
    history = History.spooled() if json_file else History.bounded(0)
    try:
        sim = Simulation(code, events, limits, on_log=None if args.quiet else _print_log, trace=trace,
                         policy=policy, store=store, app_name=key, link=link, clock=clock, history=history,
                         scenario=scenario, seed=args.seed, isolate=args.isolate)
    except Exception as e:  # the app's top-level code raised (or hung) while importing
        raise CliError(f"{args.app}: does not import: {type(e).__name__}: {e}") from None
    if not sim.controller.enabled:
        print(f"microapp: {name} is disabled{_flags(sim.summary())}; "
              f"`microapp enable {name}` lets it run again", file=sys.stderr)
    sim.world.history.keep = json_file is not None  # as the device's history: kept for --json only
    if not args.quiet:
        sim.world.history.listeners.append(_print_world)
    if trace is not None:
        trace.clock = sim.clock
    try:
        summary = sim.run(args.ticks)
    finally:
        if trace_file:
            getattr(trace, "save", lambda: None)()  # a Chrome trace is written at the end
            trace_file.close()
    if link is not None:
        _print_app_ram(args, link)
    interrupts = summary["interrupts"]
    print(f"{summary['ticks']} ticks, {sum(summary['requests'].values())} requests, "
          f"{interrupts['delivered']}/{interrupts['generated']} interrupts delivered, "
          f"{len(summary['faults'])} faults, {summary['restarts']} restarts"
          f"{'' if summary['enabled'] else f'; {name} disabled' + _flags(summary)}", file=sys.stderr)
    if json_file:
        with json_file:
            write_summary(summary, json_file)
    history.close()
    return 0


def _print_app_ram(args: argparse.Namespace, link) -> None:
    """The heap the app held after setup() on the board (tools/flash.py app checks it)."""
    from host.board_install import InstallError, app_ram_after_run
    try:
        ram = app_ram_after_run(args.port, link, args.baud)
    except InstallError as e:
        print(f"app RAM after setup(): unknown ({e})", file=sys.stderr)
        return
    print(f"app RAM after setup(): {'unknown (setup() did not finish)' if ram is None else f'{ram} bytes'}",
          file=sys.stderr)


def _board_link(args: argparse.Namespace, limits: Limits, trace: SwitchTrace | None):
    """The app sent to the board at --port, and a serial link running it (real time)."""
    from host.board_install import InstallError, connect_with_app
    from host.links.serial_link import BoardError
    if args.isolate:
        raise CliError("--isolate runs the app in the simulator; on a board it is the board's own")
    if args.strict_timing:  # the host sees a call's time plus the serial line's, not the call's
        raise CliError("--strict-timing measures calls in the simulator; it does not go with --port")
    with open(args.app, "rb") as f:  # read_app() has checked that it reads and compiles
        app = f.read()
    try:
        return connect_with_app(args.port, app, args.baud, stack_depth=limits.stack_depth,
                                trace=trace, watchdog_ms=limits.watchdog_ms or 2000)
    except (InstallError, BoardError) as e:
        raise CliError(str(e)) from None


def _flags(summary: dict) -> str:
    flags = [f for f, key in (("did-reboot", "did_reboot"), ("exceeded-call-duration", "exceeded_call_duration"))
             if summary[key]]
    return f" ({', '.join(flags)})" if flags else ""


def cmd_status(args: argparse.Namespace) -> int:
    apps = _load_state(args.state)
    if args.app:
        key = _known(apps, args.app, args.state)
        apps = {key: apps[key]}
    print(format_status(apps) if apps else f"no apps in {args.state} yet")
    return 0


def cmd_enable(args: argparse.Namespace) -> int:
    key = _known(_load_state(args.state), args.app, args.state)
    try:
        StateStore(args.state).enable(key)
    except OSError as e:
        raise CliError(f"{args.state}: {e.strerror}") from None
    print(f"{app_name(key)}: enabled (did-reboot and exceeded-call-duration cleared)")
    return 0


def _load_state(path: str) -> dict:
    try:
        return StateStore(path).load()
    except StateFileError as e:
        raise CliError(str(e)) from None


def _known(apps: dict, app: str, path: str) -> str:
    try:
        key = find_app(apps, app)
    except ValueError as e:
        raise CliError(str(e)) from None
    if key is None:
        known = ", ".join(sorted(app_name(k) for k in apps)) or "none"
        raise CliError(f"no app {app_name(app)!r} in {path} (known: {known})")
    return key


def _open_for_writing(path: str):
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as e:
        raise CliError(f"{path}: {e.strerror}") from None


def cmd_convert(args: argparse.Namespace) -> int:
    from host.world.scenario import convert_events
    try:
        with open(args.events, encoding="utf-8") as f:
            text = convert_events(f.read(), args.events)
    except OSError as e:
        raise CliError(f"{args.events}: {e.strerror}") from None
    except EventsError as e:
        raise CliError(str(e)) from None
    if args.output:
        with _open_for_writing(args.output) as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_board(args: argparse.Namespace) -> int:
    from host.board.virtual_board import run_board_command
    return run_board_command(args.flash, args.profile)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        commands = {"run": cmd_run, "board": cmd_board, "status": cmd_status, "enable": cmd_enable,
                    "convert": cmd_convert}
        return commands.get(args.command, getattr(args, "run_command", cmd_run))(args)
    except CliError as e:
        print(f"microapp: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
