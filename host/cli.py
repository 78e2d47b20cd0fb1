"""The `microapp` command: run a microapp in the simulator (or on a board), start a virtual board,
show, enable and disable apps (their persisted state), plot a run."""
from __future__ import annotations

import argparse
import ast
import os
import re
import signal
import sys
import time
from dataclasses import replace
from typing import Any, Callable, TextIO

from host.app_state import (
    DEFAULT_STATE_FILE, StateFileError, StateStore, app_key, app_name, find_app, format_status,
)
from host.clock import WallClock
from host.events import EventsError, load_events
from host.faults import DEFAULT_POLICY, FaultPolicy
from host.limits import BLUENET_CALL_DURATION_MS, Limits
from host.report import History, write_summary
from host.sandbox import missing_barriers
from host.simulator import AppLoadError, Simulation, read_app
from host.trace import SwitchTrace
from host.world.history import describe
from host.world.scenario import load_scenario

# The board's app slot (bluenet: 4 flash pages; firmware/app_store.py MAX_APP_SIZE).
APP_SLOT_BYTES = 16384
# The tick time travels as a u32 of ms (CONTINUE): a run ends before it wraps.
MAX_RUN_MS = 0xFFFFFFFF
PROGRESS_AFTER_S = 2.0
PER_TICK_ROWS = 100_000  # the ticks with interrupts kept for `microapp plot` (the first ones)  # a run on a terminal shows a progress bar once it has taken this long

# Exit codes: 0 done, 1 a fault or a disabled app with --fail-on-fault, or a run cut short by a
# lost board or a host error, 2 a bad argument, 130 Ctrl-C.
EXIT_FAULT = 1
EXIT_INTERRUPTED = 1
EXIT_CTRL_C = 130


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


def _baud(text: str) -> int:
    value = _positive(text)
    if not 50 <= value <= 4_000_000:
        raise argparse.ArgumentTypeError(f"{value} is outside 50..4000000")
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    from firmware.board_main import VERSION as FIRMWARE
    try:
        own = version("microapp-host")
    except PackageNotFoundError:  # run from a source tree that is not installed
        own = "(not installed)"
    return f"microapp {own} ({FIRMWARE}, Python {sys.version.split()[0]})"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="microapp", description=__doc__)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a microapp in the simulator (or on a board with --port)")
    run.add_argument("app", nargs="?", help="the microapp's .py file (with --port: default the board's installed app)")
    run.add_argument("--ticks", type=_positive, default=100, help="ticks to run (default 100, 100 ms each)")
    run.add_argument("--events", help="events file: mesh messages, pin changes, BLE scans over time")
    run.add_argument("--scenario", metavar="FILE", help="the stone's world (TOML): load, switch, rooms, I2C devices, timeline")
    run.add_argument("--seed", type=_positive, default=0, help="seed for jittered events and the power meter's noise (default 0)")
    run.add_argument("--json", metavar="FILE", help="write the run's summary as JSON (- for stdout)")
    run.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                     help="override a limit, e.g. entry_budget=5 or cost.LOG=1,1 (repeatable)")
    run.add_argument("--quiet", action="store_true", help="do not print the log lines")
    run.add_argument("--trace", metavar="FILE", help="write both buffers' type/ack/ids at every switch "
                     "(FILE.json: a Chrome trace-event JSON, as `microapp mesh --trace` writes)")
    run.add_argument("--trace-every-tick", action="store_true",
                     help="in a .json trace, a slice for each quiet tick (default: quiet ticks in a row are one slice)")
    run.add_argument("--fault-policy", default=DEFAULT_POLICY, metavar="POLICY",
                     help=f"when the app's code raises: stop, restart or restart-up-to-N (default {DEFAULT_POLICY})")
    run.add_argument("--fail-on-fault", action="store_true",
                     help="exit with code 1 when the app faulted or ended disabled")
    run.add_argument("--strict-timing", action="store_true",
                     help=f"stop the app when one call into it takes over {BLUENET_CALL_DURATION_MS} ms, as bluenet")
    state_help = f"the apps' persisted flags and counters (default {DEFAULT_STATE_FILE})"
    run.add_argument("--state", metavar="FILE", default=DEFAULT_STATE_FILE, help=state_help)
    run.add_argument("--port", metavar="URL",
                     help="run on the board at this serial port (pyserial URL; the firmware must be on it)")
    run.add_argument("--isolate", action="store_true",
                     help="run the app in a child process with CPU and memory limits, killed when it "
                          "does not yield (docs/faults.md)")
    run.add_argument("--baud", type=_baud, default=115200, help="the board's baud rate (default 115200)")
    run.add_argument("--realtime", action="store_true",
                     help="with --port: pace ticks by the wall clock (default: the virtual tick clock)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    status = sub.add_parser("status", help="each app's flags and counters")
    status.add_argument("app", nargs="?", help="only this app (its .py file or name)")
    status.add_argument("--state", metavar="FILE", default=DEFAULT_STATE_FILE, help=state_help)
    enable = sub.add_parser("enable", help="let a disabled app run again; clears did-reboot and exceeded-call-duration")
    enable.add_argument("app", help="the app's .py file or name")
    enable.add_argument("--state", metavar="FILE", default=DEFAULT_STATE_FILE, help=state_help)
    disable = sub.add_parser("disable", help="stop an app from running (until `microapp enable`)")
    disable.add_argument("app", help="the app's .py file or name")
    disable.add_argument("--state", metavar="FILE", default=DEFAULT_STATE_FILE, help=state_help)
    convert = sub.add_parser("convert", help="write an events file as a scenario's timeline (TOML)")
    convert.add_argument("events", help="the events file")
    convert.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: stdout)")
    board = sub.add_parser("board", help="start a virtual MicroPython board on a pseudo-terminal")
    board.add_argument("--flash", metavar="DIR", help="directory holding the board's filesystem")
    board.add_argument("--profile", choices=["pca10040", "pca10056"], default="pca10040",
                       help="the real board whose heap, REPL buffer and baud rate it has (default pca10040)")
    from host.mesh.cli import add_parsers  # `mesh` and `diagram`: each sets its run_command
    add_parsers(sub)
    plot = sub.add_parser("plot", help="draw a run's --json summary as tracks over time (needs matplotlib)")
    plot.add_argument("summary", help="the summary written by `microapp run --json`")
    plot.add_argument("-o", "--output", metavar="FILE", default="run.png", help="the picture (default run.png)")
    return parser


class _Output:
    """Where the run's lines go: log lines to stdout (stderr when the summary goes to stdout),
    the rest to stderr; a progress bar, when shown, is cleared around each line."""

    def __init__(self, log_stream: TextIO) -> None:
        self.log_stream = log_stream
        self.bar: Any = None

    def line(self, text: str, stream: TextIO | None = None) -> None:
        stream = stream or self.log_stream
        try:
            if self.bar is not None:
                self.bar.clear()
            print(text, file=stream, flush=self.bar is not None)
            if self.bar is not None:
                self.bar.refresh()
        except BrokenPipeError:  # piped into head & co.: the run goes on, its log stays in the summary
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def _check_state(store: StateStore, key: str) -> None:
    """A corrupt or unwritable state file fails before the run."""
    try:
        store.put(key, store.get(key))
    except StateFileError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"{store.path}: {e.strerror}") from None


def cmd_run(args: argparse.Namespace) -> int:
    try:
        limits = Limits().with_overrides(args.limit)
        policy = FaultPolicy.parse(args.fault_policy)
    except ValueError as e:
        raise CliError(str(e)) from None
    if args.strict_timing and not limits.call_duration_ms:
        limits = replace(limits, call_duration_ms=BLUENET_CALL_DURATION_MS)
    if args.app is None and not args.port:
        raise CliError("run needs the app's .py file (or --port URL to run the board's installed app)")
    if args.isolate and args.port:
        raise CliError("--isolate runs the app in the simulator; on a board it is the board's own")
    if args.ticks * limits.tick_ms > MAX_RUN_MS:
        raise CliError(f"--ticks {args.ticks}: at most {MAX_RUN_MS // limits.tick_ms} ticks of "
                       f"{limits.tick_ms} ms (the tick time is a 32-bit count of ms)")
    code = source = None
    if args.app is not None:
        try:
            code = read_app(args.app)
        except AppLoadError as e:
            raise CliError(str(e)) from None
        with open(args.app, "rb") as f:
            source = f.read()
    try:
        events = load_events(args.events, args.seed) if args.events else []
        scenario = load_scenario(args.scenario, args.seed) if args.scenario else None
    except EventsError as e:  # ScenarioError too
        raise CliError(str(e)) from None
    for event in events:
        if event.kind == "pin" and event.number >= limits.pins:
            raise CliError(f"{args.events}: an event for pin {event.number} at {event.time_ms / 1000:g}s; "
                           f"the device has pins 0..{limits.pins - 1}")
    to_stdout = args.json == "-"
    if args.json and not to_stdout:
        _check_writable(args.json)
    out = _Output(sys.stderr if to_stdout else sys.stdout)
    trace_file = _open_for_writing(args.trace) if args.trace else None
    trace = SwitchTrace(trace_file) if trace_file else None
    if trace_file and args.trace.endswith(".json"):
        from host.trace.perfetto import Recorder
        trace = Recorder(every_tick=args.trace_every_tick).one_stone(trace_file)  # type: ignore[assignment]
    store = StateStore(args.state)
    if args.app:
        _check_state(store, app_key(args.app))  # before the board is touched

    def print_log(t_ms: int, text: str) -> None:
        out.line(f"t={t_ms / 1000:.3f}s {text}")

    # Memory stays flat however long the run: the history (the device's and the world's) streams
    # to a spool for --json; without it nothing reads the history, and none is kept.
    history = History.spooled() if args.json else History.bounded(0)
    board = _Board(args, out) if args.port else None
    link = board.connect(source, limits, trace) if board else None
    if args.app:
        key = app_key(args.app)
    else:  # the board's installed app: known once the board says which it is
        key = board.installed_key
        try:
            _check_state(store, key)
        except CliError:
            board.close()
            raise
    name = app_name(key)
    clock = WallClock() if board and args.realtime else None
    try:
        sim = Simulation(code, events, limits, on_log=None if args.quiet else print_log, trace=trace,
                         policy=policy, store=store, app_name=key, link=link, clock=clock, history=history,
                         scenario=scenario, seed=args.seed, isolate=args.isolate)
    except Exception as e:  # the app's top-level code raised (or hung) while importing
        from host.links.greenlet_link import exception_detail
        at = exception_detail(e, args.app).get("at", args.app)
        raise CliError(f"{at}: does not import: {type(e).__name__}: {e}") from None
    if board is not None:
        board.sim = sim
    if not args.quiet:
        sim.world.history.listeners.append(
            lambda t_ms, what, source, fields: print_log(t_ms, describe(what, source, fields)))
    if source is not None:
        _warn_about(args.app, source, out)
    missing = getattr(sim.link, "barriers_missing", None)
    if missing:
        out.line(f"microapp: warning: {missing_barriers(missing)}", sys.stderr)
    details: list[dict] = []  # per fault: the app's file:line and traceback, for --json

    def on_fault(fault: dict, detail: dict) -> None:
        details.append(detail)
        out.line(_fault_line({**fault, **detail}, board), sys.stderr)
    sim.controller.on_fault = on_fault
    if not sim.controller.enabled:
        out.line(f"microapp: {name} is disabled{_flags(sim.summary())}; "
                 f"`microapp enable {name}` lets it run again", sys.stderr)
    if trace is not None:
        trace.clock = sim.clock
    interrupted, code_out = None, 0
    per_tick: dict[str, list] = {"interrupts delivered": [], "interrupts dropped": []}
    try:
        interrupted = _run_ticks(sim, args.ticks, out, not args.no_progress, per_tick)
    finally:
        if trace_file:
            getattr(trace, "save", lambda: None)()  # a Chrome trace is written at the end
            trace_file.close()
        if board is not None:
            board.lost = bool(interrupted and interrupted.startswith("lost the board"))
            board.close(ran=True)
    summary = sim.summary()
    summary["faults"] = [{**f, **d} for f, d in zip(summary["faults"], details)] + summary["faults"][len(details):]
    summary["per_tick"] = per_tick  # for `microapp plot`
    if board is not None:
        board.rename(summary)
    summary["interrupted"] = interrupted
    interrupts = summary["interrupts"]
    out.line(f"{summary['ticks']} ticks, {sum(summary['requests'].values())} requests, "
             f"{interrupts['delivered']}/{interrupts['generated']} interrupts delivered, "
             f"{len(summary['faults'])} faults, {summary['restarts']} restarts"
             f"{'' if summary['enabled'] else f'; {name} disabled' + _flags(summary)}", sys.stderr)
    if args.json:
        _write_summary(args.json, summary)
    history.close()
    if interrupted:
        where = f"; the summary (marked interrupted) is in {args.json}" if args.json and not to_stdout else ""
        print(f"microapp: run interrupted after {summary['ticks']} ticks: {interrupted}{where}", file=sys.stderr)
        return EXIT_CTRL_C if interrupted == "Ctrl-C" else EXIT_INTERRUPTED
    if args.fail_on_fault and (summary["faults"] or not summary["enabled"]):
        code_out = EXIT_FAULT
    return code_out


def _run_ticks(sim: Simulation, ticks: int, out: _Output, show_progress: bool,
               per_tick: dict[str, list]) -> str | None:
    """Run the ticks; None when all ran, else why the run stopped early (Ctrl-C, a lost board,
    a host error). A first Ctrl-C ends the run at the next tick; a second one at once.
    per_tick gets [time s, count] of the interrupts delivered and dropped at each tick with some."""
    from host.links.serial_link import BoardError
    stop: list[str] = []

    def on_sigint(signum: int, frame: object) -> None:
        if stop:
            raise KeyboardInterrupt
        stop.append("Ctrl-C")
    previous = signal.signal(signal.SIGINT, on_sigint) if _main_thread() else None
    bind = getattr(sim.link, "bind", None)
    if bind is not None:
        bind()
    bar = None
    started = time.monotonic()
    want_bar = show_progress and sys.stderr.isatty() and ticks > 0
    tick_ms = sim.limits.tick_ms
    done = 0
    counts = sim.controller.interrupts
    delivered = dropped = seen = 0
    queue = sim.controller.queue
    try:
        step = sim.step
        steps = shown = 0
        while done < ticks and not stop:
            t = done * tick_ms / 1000
            done += step(ticks - done)  # idle ticks may be granted in one step
            steps += 1
            # The ticks where interrupts went somewhere: delivered, or dropped with a signal.
            if counts["generated"] != seen:
                seen = counts["generated"]
                now_delivered = counts["delivered"]
                now_dropped = seen - now_delivered - len(queue)
                if now_delivered != delivered and len(per_tick["interrupts delivered"]) < PER_TICK_ROWS:
                    per_tick["interrupts delivered"].append([t, now_delivered - delivered])
                if now_dropped != dropped and len(per_tick["interrupts dropped"]) < PER_TICK_ROWS:
                    per_tick["interrupts dropped"].append([t, now_dropped - dropped])
                delivered, dropped = now_delivered, now_dropped
            if want_bar and (not steps & 63 or done - shown >= 256):  # a step may grant many ticks
                shown = done
                now = time.monotonic()
                if bar is None and now - started >= PROGRESS_AFTER_S:
                    bar = out.bar = _progress_bar(ticks, tick_ms)
                if bar is not None:
                    bar.update(done - bar.n)
                    bar.set_postfix_str(f"t={done * tick_ms / 1000:.1f}s simulated", refresh=False)
    except KeyboardInterrupt:
        stop.append("Ctrl-C")
    except (BoardError, OSError) as e:
        stop.append(f"lost the board: {e}")
    except Exception as e:  # a bug in the host: the summary so far is still written
        stop.append(f"host error: {type(e).__name__}: {e}")
    finally:
        if bar is not None:
            bar.set_postfix_str(f"t={done * tick_ms / 1000:.1f}s simulated", refresh=False)
            bar.update(done - bar.n)
            bar.close()
            out.bar = None
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if sim.store is not None:
            try:
                sim.save_state()
            except OSError:
                pass
    return stop[0] if stop else None


def _progress_bar(ticks: int, tick_ms: int):
    from tqdm import tqdm
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
        known = size.columns > 0 and size.lines > 0
    except OSError:
        known = False
    # A terminal that reports no size (a bare pty) would hide the bar: 80 x 24 then.
    return tqdm(total=ticks, unit="tick", unit_scale=True, file=sys.stderr, dynamic_ncols=known,
                ncols=None if known else 80, nrows=None if known else 24, leave=False,
                desc=f"{ticks * tick_ms / 1000:g}s")


def _main_thread() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


def _fault_line(fault: dict, board: _Board | None) -> str:
    """One line per fault: time, context, the app's file:line, the exception."""
    if board is not None:
        fault = board.renamed_fault(fault)
    at = f" {fault['at']}:" if fault.get("at") else ""
    where = fault["where"]
    context = f"in {where}" if where in ("setup", "loop") or where.endswith("handler") else f"({where})"
    return f"t={fault['time_ms'] / 1000:.3f}s fault {context}:{at} {fault['error']}"


def _warn_about(path: str, source: bytes, out: _Output) -> None:
    """Warnings that do not stop the run: nothing to run, too big for the board's slot."""
    try:
        tree = ast.parse(source, path)
    except (SyntaxError, ValueError):
        return
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    defined |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)}
    defined |= {a.asname or a.name for node in tree.body if isinstance(node, ast.ImportFrom) for a in node.names}
    missing = [f"{fn}()" for fn in ("setup", "loop") if fn not in defined]
    if missing:
        out.line(f"microapp: warning: {path} defines no {' and no '.join(missing)}"
                 f"{'; nothing of it runs after import' if len(missing) == 2 else ''}", sys.stderr)
    if len(source) > APP_SLOT_BYTES:
        out.line(f"microapp: warning: {path} is {len(source)} bytes, over the board's "
                 f"{APP_SLOT_BYTES}-byte app slot (tools/flash.py app will refuse it)", sys.stderr)


class _Board:
    """`run --port`: the app sent to the board, its session, and the user's names in what the
    board reports (its copy is run_app.py there), removed from the board afterwards."""

    def __init__(self, args: argparse.Namespace, out: _Output) -> None:
        self.args = args
        self.out = out
        self.link: Any = None
        self.sim: Simulation | None = None
        self.sent = False  # run_app.py is (or may be) on the board
        self.lost = False  # the board stopped answering: no clean-up
        self.lock: str | None = None
        self.installed_key: str | None = None  # the state key of the board's installed app

    def connect(self, source: bytes | None, limits: Limits, trace: SwitchTrace | None):
        from host import port_lock
        from host.board_install import RUN_APP_NAME, InstallError, prepare_board
        from host.links.serial_link import BoardError, SerialLink
        args = self.args
        if args.strict_timing:  # the host sees a call's time plus the serial line's, not the call's
            raise CliError("--strict-timing measures calls in the simulator; it does not go with --port")
        try:
            self.lock = port_lock.acquire(args.port)  # held from the upload to the clean-up
            _info, self.installed_key = prepare_board(args.port, source, args.baud)
            self.sent = source is not None
            self.link = SerialLink(args.port, RUN_APP_NAME if source is not None else "", baud=args.baud,
                                   stack_depth=limits.stack_depth, trace=trace,
                                   watchdog_ms=limits.watchdog_ms or 2000, on_console=self._console)
        except (InstallError, BoardError, port_lock.PortBusy, OSError) as e:
            self.close()
            if source is None and "no app enabled" in str(e):
                raise CliError(f"{args.port} has no app installed: give the app's file, or install one "
                               f"with: python tools/flash.py app APP.py --port {args.port}") from None
            message = self.rename(str(e))
            where = re.fullmatch(r"(.*) does not load on the board: (.*) \(line (\d+)\)", message)
            if where:  # as the simulator says it
                message = f"{where[1]}:{where[3]}: does not import on the board: {where[2]}"
            raise CliError(message) from None
        return self.link

    def _console(self, text: str) -> None:
        """A line the board printed outside a frame while the app runs: the app's own output."""
        if self.sim is not None and text.strip():
            self.sim.device.write_log(f"[board] {text}", True, self.sim.limits.max_log_line)

    def rename(self, value: Any) -> Any:
        """The user's file name for the board's copy (run_app.py) in a text or a summary."""
        from host.board_install import RUN_APP_NAME
        if not self.args.app:
            return value
        if isinstance(value, str):
            return value.replace(RUN_APP_NAME, self.args.app)
        for i, fault in enumerate(value.get("faults", ())):
            value["faults"][i] = self.renamed_fault(fault)
        return value

    def renamed_fault(self, fault: dict) -> dict:
        return {k: self.rename(v) if isinstance(v, str) else v for k, v in fault.items()}

    def close(self, ran: bool = False) -> None:
        """Leave the board as it was: the run's copy removed, the firmware running the
        installed app; after a run (`ran`) say how much heap the app held after setup()."""
        from host import port_lock
        from host.board_install import RUN_APP_NAME, InstallError, finish_run
        if self.link is not None:
            self.link.close()
            self.link = None
        if self.sent and not self.lost:
            try:
                ram = finish_run(self.args.port, self.args.baud)
                if ran:
                    print(f"app RAM after setup(): "
                          f"{'unknown (setup() did not finish)' if ram is None else f'{ram} bytes'}",
                          file=sys.stderr)
            except InstallError as e:
                print(f"microapp: warning: {self.args.port}: {RUN_APP_NAME} stays on the board: {e}",
                      file=sys.stderr)
        self.sent = False
        port_lock.release(self.lock)
        self.lock = None


def _flags(summary: dict) -> str:
    flags = [f for f, key in (("did-reboot", "did_reboot"), ("exceeded-call-duration", "exceeded_call_duration"))
             if summary[key]]
    return f" ({', '.join(flags)})" if flags else ""


def _check_writable(path: str) -> None:
    """Fail before the run when the summary could not be written; the file itself is written
    (whole, in one rename) only at the end."""
    directory = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise CliError(f"{path}: Is a directory")
    if not os.path.isdir(directory):
        raise CliError(f"{path}: No such file or directory")
    if not os.access(directory, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise CliError(f"{path}: Permission denied")


def _write_summary(path: str, summary: dict) -> None:
    """The summary (host.report's streaming writer), whole or not at all: into a temporary file
    renamed over the target at the end."""
    if path == "-":
        write_summary(summary, sys.stdout)
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            write_summary(summary, f)
        os.replace(tmp, path)
    except OSError as e:
        print(f"microapp: error: {path}: {e.strerror}", file=sys.stderr)
        try:
            os.remove(tmp)
        except OSError:
            pass


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


def cmd_disable(args: argparse.Namespace) -> int:
    key = _known(_load_state(args.state), args.app, args.state)
    store = StateStore(args.state)
    try:
        store.put(key, replace(store.get(key), enabled=False))
    except OSError as e:
        raise CliError(f"{args.state}: {e.strerror}") from None
    name = app_name(key)
    print(f"{name}: disabled (`microapp enable {name}` lets it run again)")
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
    except UnicodeDecodeError as e:
        raise CliError(f"{args.events}: not UTF-8 text (byte {e.start})") from None
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
    if args.flash:
        try:
            os.makedirs(args.flash, exist_ok=True)
        except OSError as e:
            raise CliError(f"--flash {args.flash}: {e.strerror}") from None
        if not os.access(args.flash, os.W_OK):
            raise CliError(f"--flash {args.flash}: Permission denied")
    return run_board_command(args.flash, args.profile)


def cmd_plot(args: argparse.Namespace) -> int:
    from host.plot import PlotError, plot_summary
    try:
        plot_summary(args.summary, args.output)
    except PlotError as e:
        raise CliError(str(e)) from None
    print(f"wrote {args.output}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run, "board": cmd_board, "status": cmd_status, "enable": cmd_enable,
    "disable": cmd_disable, "plot": cmd_plot, "convert": cmd_convert}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS.get(args.command, getattr(args, "run_command", cmd_run))(args)
    except CliError as e:
        print(f"microapp: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return EXIT_CTRL_C


if __name__ == "__main__":
    sys.exit(main())
