"""`microapp mesh` (run a scenario, or sweep it over seeds) and `microapp diagram` (a Mermaid
sequence diagram from a trace). host/cli.py registers them with add_parsers()."""
from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import sys
from typing import Iterable

from host.faults import DEFAULT_POLICY, FaultPolicy
from host.limits import Limits


def add_parsers(sub) -> None:
    mesh = sub.add_parser("mesh", help="run a mesh of stones (a TOML scenario) on one virtual clock")
    mesh.add_argument("scenario", help="the scenario's .toml file (docs/mesh.md)")
    mesh.add_argument("--minutes", type=float, help="simulated minutes to run (default: the scenario's)")
    mesh.add_argument("--seed", type=int, help="the seed (default: the scenario's)")
    mesh.add_argument("--seeds", metavar="A-B", help="sweep: run every seed from A to B, report the failing ones")
    mesh.add_argument("--jobs", type=int, default=1, help="worker processes for a sweep (default 1)")
    mesh.add_argument("--json", metavar="FILE", help="write every stone's summary, the network figures and the log")
    mesh.add_argument("--trace", metavar="FILE", help="write a Chrome trace-event JSON (open it in ui.perfetto.dev)")
    mesh.add_argument("--trace-from", type=float, default=0.0, metavar="S", help="trace from this time (s; default 0)")
    mesh.add_argument("--trace-to", type=float, default=float("inf"), metavar="S", help="trace up to this time (s; default the end)")
    mesh.add_argument("--trace-every-tick", action="store_true",
                      help="a slice for each quiet tick (default: quiet ticks in a row are one slice)")
    mesh.add_argument("--quiet", action="store_true", help="do not print the log lines")
    mesh.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE", help="override a limit for every stone")
    mesh.add_argument("--fault-policy", default=DEFAULT_POLICY, metavar="POLICY",
                      help=f"when an app's code raises: stop, restart or restart-up-to-N (default {DEFAULT_POLICY})")
    mesh.add_argument("--skip-broken", action="store_true",
                      help="run without the stones whose app does not import (default: stop with an error)")
    mesh.set_defaults(run_command=cmd_mesh)
    diagram = sub.add_parser("diagram", help="print a Mermaid sequence diagram of a stone's window of a trace")
    diagram.add_argument("trace", help="a trace written by `microapp mesh --trace` or `microapp run --trace X.json`")
    diagram.add_argument("--stone", type=int, help="the stone (default: the trace's only or first stone)")
    diagram.add_argument("--from", dest="start", type=float, default=0.0, help="from this time (s)")
    diagram.add_argument("--to", dest="end", type=float, default=float("inf"), help="up to this time (s)")
    diagram.set_defaults(run_command=cmd_diagram)


def _error(text: str):
    from host.cli import CliError
    return CliError(text)


def _seeds(text: str) -> list[int]:
    a, sep, b = text.partition("-")
    try:
        lo, hi = int(a), int(b if sep else a)
    except ValueError:
        raise _error(f"--seeds {text!r}: expected A-B, e.g. 1-200") from None
    if lo < 0 or hi < lo:
        raise _error(f"--seeds {text!r}: expected 0 <= A <= B")
    return list(range(lo, hi + 1))


def _load(args):
    from host.mesh.scenario import ScenarioError, load
    try:
        scenario = load(args.scenario)
        limits = Limits().with_overrides(args.limit)
        policy = FaultPolicy.parse(args.fault_policy)
    except (ScenarioError, ValueError) as e:
        raise _error(str(e)) from None
    if args.minutes is not None and args.minutes < 0:
        raise _error("--minutes must not be negative")
    if args.jobs < 1:
        raise _error("--jobs must be at least 1")
    return scenario, limits, policy


def _open(path: str):
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as e:
        raise _error(f"{path}: {e.strerror}") from None


def cmd_mesh(args: argparse.Namespace) -> int:
    scenario, limits, policy = _load(args)
    if args.seeds:
        if args.trace or args.json:
            raise _error("--seeds reports per seed; run one seed with --seed N for --json or --trace")
        return _sweep(args, _seeds(args.seeds))
    from host.mesh.runner import MeshRun, StoneImportError
    from host.mesh.scenario import ScenarioError
    json_file = _open(args.json) if args.json else None
    trace_file = _open(args.trace) if args.trace else None
    from host.trace.perfetto import Recorder
    recorder = (Recorder(int(args.trace_from * 1e6), args.trace_to * 1e6, args.trace_every_tick)
                if trace_file else None)
    try:
        run = MeshRun(scenario, args.seed, limits, policy, args.skip_broken,
                      on_log=None if args.quiet else _print_line, recorder=recorder)
    except (ScenarioError, StoneImportError) as e:
        raise _error(str(e)) from None
    for sid, why in run.not_started.items():
        print(f"microapp: stone {sid} left out: {why}", file=sys.stderr)
    gc.freeze()  # the stones live as long as the run: keep the collector from walking them
    interrupted = None
    try:
        result = run.run(args.minutes)
    except KeyboardInterrupt:  # an interrupted run still reports what it did, marked so
        interrupted = "Ctrl-C"
        result = run.result(run.network.now_us / 60e6, run.network.now_us)
    _print_summary(result)
    if json_file:
        with json_file:
            json.dump({**result.to_json(), "interrupted": interrupted}, json_file, indent=1)
    if trace_file and recorder is not None:
        with trace_file:
            recorder.write(trace_file)
    if interrupted:
        where = f"; the summary (marked interrupted) is in {args.json}" if args.json else ""
        print(f"microapp: mesh run interrupted at {result.minutes:.3f} simulated minutes: "
              f"{interrupted}{where}", file=sys.stderr)
        from host.cli import EXIT_CTRL_C
        return EXIT_CTRL_C
    return 1 if result.failures else 0


def _print_line(t_us: int, sid: int, text: str) -> None:
    try:
        print(f"t={t_us / 1e6:.3f}s #{sid} {text}")
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _print_summary(result) -> None:
    err = sys.stderr
    for sid, s in result.stones.items():
        i = s["interrupts"]
        print(f"stone {sid} ({s['app']}): {s['ticks']} ticks, {sum(s['requests'].values())} requests, "
              f"{i['delivered']}/{i['generated']} interrupts delivered, {len(s['faults'])} faults, "
              f"{s['restarts']} restarts{'' if s['enabled'] else ', disabled'}", file=err)
    for kind, f in result.network.items():
        print(f"mesh {kind}: {f['sent']} sent, {f['transmissions']} transmissions, {f['delivered']} delivered, "
              f"{f['lost']} lost, {f['duplicates'] + f['replayed']} duplicates dropped, {f['relayed']} relayed, "
              f"hops p50/p99 {f['hops_p50']}/{f['hops_p99']}, latency p50/p99 "
              f"{f['latency_ms_p50']}/{f['latency_ms_p99']} ms"
              + (f", {f['acked']} acked, {f['retries']} retries, {f['timeouts']} timeouts" if kind.startswith("targeted") else ""),
              file=err)
    for line in result.failures:
        print(f"FAILED: {line}", file=err)


def _one_seed(job: tuple) -> tuple[int, list[str]]:
    path, seed, minutes, limit_args, policy_text, skip_broken = job
    from host.mesh.runner import MeshRun, StoneImportError
    from host.mesh.scenario import load
    try:
        run = MeshRun(load(path), seed, Limits().with_overrides(limit_args), FaultPolicy.parse(policy_text),
                      skip_broken)
        return seed, run.run(minutes).failures
    except StoneImportError as e:
        return seed, [str(e)]


def _sweep(args: argparse.Namespace, seeds: list[int]) -> int:
    jobs = [(args.scenario, s, args.minutes, args.limit, args.fault_policy, args.skip_broken) for s in seeds]
    failed = []
    results: Iterable[tuple[int, list[str]]]
    if args.jobs == 1:
        results = map(_one_seed, jobs)
    else:
        # spawn: a fresh interpreter per worker (no forked watchdog thread or greenlets)
        pool = multiprocessing.get_context("spawn").Pool(args.jobs)
        results = pool.imap(_one_seed, jobs)
    for seed, failures in results:
        if failures:
            failed.append(seed)
            print(f"seed {seed}: FAILED: {failures[0]}" + (f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""))
        else:
            print(f"seed {seed}: ok")
        sys.stdout.flush()
    if args.jobs != 1:
        pool.close()
        pool.join()
    print(f"{len(failed)} of {len(seeds)} seeds failed" + (f": {', '.join(map(str, failed))}" if failed else ""))
    return 1 if failed else 0


def cmd_diagram(args: argparse.Namespace) -> int:
    from host.trace.diagram import DiagramError, diagram
    try:
        with open(args.trace, encoding="utf-8") as f:
            trace = json.load(f)
    except OSError as e:
        raise _error(f"{args.trace}: {e.strerror}") from None
    except ValueError as e:
        raise _error(f"{args.trace}: not a trace (JSON): {e}") from None
    try:
        print(diagram(trace, args.stone, args.start, args.end), end="")
    except DiagramError as e:
        raise _error(f"{args.trace}: {e}") from None
    return 0
