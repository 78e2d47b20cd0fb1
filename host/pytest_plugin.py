"""pytest plugin (entry point `microapp`): one test of a microapp, on every link.

Options:
- `--target sim|virtual|board`: where `dut` runs the app: the simulator (default: the fast inner
  loop), a virtual board started for the session, or the real board(s) at --board-port;
- `--board-port URL` (repeatable, or comma-separated): real boards with the firmware (any pyserial
  URL: /dev/ttyACM0, rfc2217://host:port); giving it makes `board` the default target;
- `--count N`: devices per test (`dut` is then a tuple of N), as pytest-embedded's --count;
- `--board-baud N`, `--board-log-dir DIR` (default: under pytest's basetemp);
- `--microapp-isolate`: every `microapp_sim` runs its app in a child process, as
  `microapp run --isolate`.

Fixtures:
- `microapp_sim`: a factory, `microapp_sim(source_or_path, limits=..., events=..., isolate=...)`,
  giving a Simulation of the app; isolate (default: --microapp-isolate) runs it in a child
  process with CPU and memory limits (docs/faults.md, "Levels of containment").
- `dut`: the device under test (pytest-embedded's name): `dut.load(app, limits=None, events=None)`
  (app: a .py path or source text; events: Event objects, an events file's path or its text),
  then `expect(pattern, timeout=5)` (a regex; the re.Match), `expect_exact(text, timeout=5)`,
  `run(ticks)`, `step()`, `summary()`, `.lines`, `.log_path`. A test marked
  `@pytest.mark.microapp("app.py", events=..., limits=...)` gets `dut` loaded. On a timeout
  the test fails with the output so far; a lost board fails it with its log file's path and the
  board's last output. One log file per device per test: `<test id>-<device>.log`.
- `microapp_board`: a factory, `microapp_board(app, limits=None, events=())`, always on a board
  (the virtual one, or the first --board-port), for tests that need the serial link itself.
- `board_under_test` (`boards_under_test`: all of them): the session's board(s): `.port`,
  `.virtual`, `.install_app(source)`, `.link(app_path, **options)`.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
import time
import warnings
from contextlib import ExitStack
from typing import Callable, Iterable, Iterator, NoReturn, TextIO

import pytest
import serial

from host import port_lock
from host.board_install import InstallError, install_to_dir, send_app
from host.events import Event, EventsError, load_events, parse_events
from host.limits import Limits, check_ranges
from host.links.serial_link import BadLine, BoardError, SerialLink
from host.sandbox import missing_barriers
from host.sdk_constants import fold
from host.simulator import Simulation, read_app
from host.trace import SwitchTrace

TARGETS = ("sim", "virtual", "board")
_LOST = (BoardError, serial.SerialException, OSError)  # the board went away mid-test


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("microapp", "microapp devices (simulator, virtual board, real boards)")
    group.addoption("--target", choices=TARGETS, metavar="sim|virtual|board",
                    help="where the `dut` fixture runs the app: the simulator, a virtual board, or the "
                         "real board(s) at --board-port (default: board with --board-port, else sim)")
    group.addoption("--board-port", action="append", default=[], metavar="URL",
                    help="a real board with the microapp firmware (pyserial URL); repeat it or separate "
                         "ports by commas for several (--count); default: a virtual board for the session")
    group.addoption("--count", type=int, default=1, metavar="N",
                    help="devices per test: `dut` is then a tuple of N (default 1)")
    group.addoption("--board-baud", type=int, default=115200, metavar="N",
                    help="the board's baud rate (default 115200)")
    group.addoption("--board-log-dir", metavar="DIR",
                    help="where each test writes its log per device (default: under pytest's basetemp)")
    group.addoption("--microapp-isolate", action="store_true",
                    help="run every microapp_sim app in a child process with CPU and memory limits")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "microapp(app, events=None, limits=None): the app `dut` runs")


def _ports(config: pytest.Config) -> list[str]:
    return [p.strip() for option in config.getoption("--board-port") for p in option.split(",") if p.strip()]


def _target(config: pytest.Config) -> str:
    return config.getoption("--target") or ("board" if _ports(config) else "sim")


class BoardUnderTest:
    """One of the session's boards: a real one at --board-port (its port locked for the
    session), or a virtual board with the firmware."""

    def __init__(self, port: str, baud: int, flash_dir: str | None, log_dir: str) -> None:
        self.port = port
        self.baud = baud
        self.flash_dir = flash_dir  # the virtual board's filesystem; None for a real board
        self.log_dir = log_dir
        self._apps = 0

    @property
    def virtual(self) -> bool:
        return self.flash_dir is not None

    def install_app(self, source: str | bytes) -> str:
        """Put an app on the board (source text, or a path to a .py file); its path there."""
        data = fold(_app_bytes(source))  # as tools/flash.py builds it (send_app folds too)
        self._apps += 1
        path = f"test_apps/app_{self._apps}.py"
        if self.flash_dir is not None:
            target = os.path.join(self.flash_dir, path)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
        else:
            send_app(self.port, data, path, self.baud)
        return path

    def link(self, app_path: str, **options) -> SerialLink:
        """A serial link with a session running the app at app_path on the board."""
        return SerialLink(self.port, app_path, baud=self.baud, reset=not self.virtual, **options)


def _app_bytes(source: str | bytes) -> bytes:
    if isinstance(source, str) and source.endswith(".py") and os.path.isfile(source):
        with open(source, "rb") as f:
            return f.read()
    return textwrap.dedent(source).encode() if isinstance(source, str) else source


def _events(events: Iterable[Event] | str | None) -> list[Event]:
    """Event objects, or an events file's path, or an events file's text."""
    if events is None:
        return []
    if isinstance(events, str):
        try:
            if "\n" not in events and os.path.isfile(events):
                return load_events(events)
            return parse_events(textwrap.dedent(events), "events")
        except EventsError as e:
            pytest.fail(f"bad events: {e}", pytrace=False)
    return list(events)


class Dut:
    """A device under test: one app at a time, run by the host's controller over the device's
    link (the simulator's greenlet, or a board's serial link)."""

    def __init__(self, name: str, log: TextIO, board: BoardUnderTest | None) -> None:
        self.name = name  # "sim-0", or the board's port
        self.board = board
        self.log_path = log.name
        self.lines: list[str] = []  # the app's log lines, "t=...s text"
        self.sim: Simulation | None = None
        self.link = None
        self._log = log
        self._seen = 0  # lines already matched by expect()
        self.fault_details: list[dict] = []

    # -- loading --------------------------------------------------------------------------
    def load(self, app: str | bytes, limits: Limits | None = None,
             events: Iterable[Event] | str | None = None, **link_options) -> Dut:
        """Start `app` (a .py path or source text) afresh on this device."""
        limits = limits or Limits()
        try:
            check_ranges(limits)
        except ValueError as e:
            pytest.fail(str(e), pytrace=False)
        self.close()
        self.lines.clear()
        self._seen = 0
        trace = SwitchTrace(self._log)  # every switch, as a line
        if self.board is None:
            source = _app_bytes(app).decode("utf-8")
            path = app if isinstance(app, str) and app.endswith(".py") and os.path.isfile(app) else "<app>"
            self._log.write(f"# simulator: {path}\n")
            self.sim = Simulation(compile(fold(source), path, "exec"), _events(events), limits,
                                  on_log=self._on_log, trace=trace)
            self.link = self.sim.link
        else:
            link_options.setdefault("watchdog_ms", limits.watchdog_ms or 2000)
            failed: BaseException | None = None
            try:
                path = self.board.install_app(app)
                self.link = self.board.link(path, stack_depth=limits.stack_depth, trace=trace,
                                            on_console=lambda text: self._log.write(f"board: {text}\n"),
                                            **link_options)
            except (InstallError, *_LOST) as e:
                failed = e
            if failed is not None:  # failed outside the except: no chained traceback in the report
                if isinstance(failed, (InstallError, BoardError)):
                    pytest.fail(f"could not start the app on {self.board.port}: {failed} (log: {self.log_path})",
                                pytrace=False)
                self._lost(failed)
            self._log.write(f"# board {self.link.port}: {self.link.info}\n")
            self.sim = Simulation(None, _events(events), limits, on_log=self._on_log, link=self.link)
        trace.clock = self.sim.clock
        self.fault_details = []  # the link's detail per fault: the app's file:line, the traceback
        self.sim.controller.on_fault = lambda fault, detail: self._fault(fault, detail)
        return self

    def _fault(self, fault: dict, detail: dict) -> None:
        self.fault_details.append(detail)
        self._log.write(f"fault: {fault}\n{detail.get('traceback', '')}")

    def _on_log(self, t_ms: int, text: str) -> None:
        line = f"t={t_ms / 1000:.3f}s {text}"
        self.lines.append(line)
        self._log.write(f"app: {line}\n")

    def _need(self) -> Simulation:
        if self.sim is None:
            pytest.fail("dut.load(app) first (or mark the test @pytest.mark.microapp(app))", pytrace=False)
        return self.sim

    # -- running ----------------------------------------------------------------------------
    def run(self, ticks: int) -> dict:
        sim = self._need()
        try:
            return sim.run(ticks)
        except _LOST as e:
            lost = e
        self._lost(lost)

    def step(self) -> None:
        sim = self._need()
        bind = getattr(self.link, "bind", None)
        if bind is not None:  # several simulators in one process: the SDK serves this one's app
            bind()
        try:
            sim.step()
            return
        except _LOST as e:
            lost = e
        self._lost(lost)

    def summary(self) -> dict:
        return self._need().summary()

    def expect(self, pattern: str, timeout: float = 5.0) -> re.Match:
        """Run ticks until a log line not matched before matches `pattern` (a regex); fail
        after `timeout` seconds (wall time) showing the output so far."""
        regex = re.compile(pattern)
        return self._expect(regex.search, f"no log line matched {pattern!r}", timeout)

    def expect_exact(self, text: str, timeout: float = 5.0) -> str:
        """Like expect(), for a plain text that a log line contains; the line."""
        return self._expect(lambda line: line if text in line else None, f"no log line contains {text!r}",
                            timeout)

    def _expect(self, match: Callable, what: str, timeout: float):
        sim = self._need()
        deadline = time.monotonic() + timeout
        while True:
            while self._seen < len(self.lines):
                line = self.lines[self._seen]
                self._seen += 1
                found = match(line)
                if found:
                    return found
            if time.monotonic() >= deadline or not sim.controller.enabled:
                break
            self.step()
        faults = "".join(f"\n  fault in {f['where']}: {d.get('at', '')} {f['error']}"
                         for f, d in zip(sim.controller.faults, self.fault_details))
        shown = self.lines[-30:]
        output = "\n  ".join(shown) or "(none)"
        stopped = "" if sim.controller.enabled else "; the app was stopped"
        pytest.fail(f"{what} within {timeout} s ({sim.controller.ticks} ticks on {self.name}{stopped}){faults}\n"
                    f"app output so far (last {len(shown)} of {len(self.lines)} lines):\n  {output}\n"
                    f"{self._board_output()}log file: {self.log_path}", pytrace=False)

    def _board_output(self) -> str:
        console = list(getattr(self.link, "console", ()))[-10:]
        if self.board is None:
            return ""
        return "board console:\n  " + ("\n  ".join(console) or "(nothing)") + "\n"

    def _lost(self, error: BaseException) -> NoReturn:
        if isinstance(error, BadLine):  # the link's own verdict on the line: the test sees it as such
            raise error
        self._log.write(f"# lost the board: {error}\n")
        self._log.flush()
        pytest.fail(f"lost the board {self.name}: {error}\n{self._board_output()}"
                    f"app output so far: {self.lines[-5:] or '(none)'}\nlog file: {self.log_path}",
                    pytrace=False)

    def close(self) -> None:
        if self.link is not None and self.board is not None:
            try:
                self.link.close()
            except _LOST:
                pass
        self.link = None
        self.sim = None


# pytest-embedded's users know `dut`; the board-only factory keeps its name.
BoardRun = Dut


class IsolateWarning(UserWarning):
    """An isolated app's process runs without one of the kernel's barriers (docs/faults.md)."""


@pytest.fixture
def microapp_sim(request: pytest.FixtureRequest) -> Iterator[Callable[..., Simulation]]:
    """A factory: microapp_sim(app, limits=None, events=(), isolate=None, **options) -> a
    Simulation (options as Simulation's); an isolated app's process is ended after the test.
    app: source text (dedented) or a .py file's path."""
    default = request.config.getoption("--microapp-isolate")
    sims: list[Simulation] = []

    def start(app: str, limits: Limits | None = None, events: Iterable[Event] = (),
              isolate: bool | None = None, **options) -> Simulation:
        code = read_app(app) if app.endswith(".py") and os.path.isfile(app) else textwrap.dedent(app)
        sim = Simulation(code, events, limits, isolate=default if isolate is None else isolate, **options)
        sims.append(sim)
        missing = getattr(sim.link, "barriers_missing", None)
        if missing:  # as `microapp run --isolate` warns; pytest lists it in its warnings summary
            warnings.warn(IsolateWarning(missing_barriers(missing)), stacklevel=2)
        return sim

    yield start
    for sim in sims:
        sim.close()


@pytest.fixture(scope="session")
def boards_under_test(request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[BoardUnderTest]]:
    """The session's boards: those at --board-port (locked for the session), else --count
    virtual boards with the firmware."""
    config = request.config
    log_dir = _log_dir(config, tmp_path_factory)
    ports, baud, count = _ports(config), config.getoption("--board-baud"), max(1, config.getoption("--count"))
    with ExitStack() as stack:
        if ports:
            for port in ports:
                try:
                    stack.callback(port_lock.release, port_lock.acquire(port))
                except port_lock.PortBusy as e:
                    pytest.exit(f"microapp: {e}", returncode=2)
            yield [BoardUnderTest(port, baud, None, log_dir) for port in ports]
            return
        from host.board.virtual_board import VirtualBoard
        boards = []
        for _ in range(count if _target(config) == "virtual" else 1):
            flash = tempfile.mkdtemp(prefix="microapp-board-")
            stack.callback(shutil.rmtree, flash, ignore_errors=True)
            # A PCA10040's heap, collector on, the firmware in its ROMFS partition (as
            # `tools/flash.py firmware --romfs` installs it: from .mpy files in /flash the
            # firmware leaves a PCA10040 no room for a second app in a session); unpaced (a test
            # checks behaviour, not line time).
            install_to_dir(flash, romfs=True)
            vboard = stack.enter_context(VirtualBoard.for_profile("pca10040", flash, paced=False))
            boards.append(BoardUnderTest(vboard.port, baud, flash, log_dir))
        yield boards


@pytest.fixture(scope="session")
def board_under_test(boards_under_test: list[BoardUnderTest]) -> BoardUnderTest:
    """The session's (first) board: the one at --board-port, else a virtual board."""
    return boards_under_test[0]


def _log_dir(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> str:
    log_dir = config.getoption("--board-log-dir") or str(tmp_path_factory.getbasetemp() / "board-logs")
    os.makedirs(log_dir, exist_ok=True)
    return log_dir


def _file_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("_")


@pytest.fixture
def dut(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The device under test on --target (a tuple of --count devices when it is over 1)."""
    config = request.config
    target, count = _target(config), max(1, config.getoption("--count"))
    if target == "board" and not _ports(config):
        pytest.exit("microapp: --target board needs --board-port URL", returncode=2)
    boards: list[BoardUnderTest | None]
    if target == "sim":
        boards = [None] * count
    else:
        boards = list(request.getfixturevalue("boards_under_test"))
        if len(boards) < count:
            pytest.exit(f"microapp: --count {count} needs {count} boards; --board-port gave {len(boards)}",
                        returncode=2)
        boards = boards[:count]
    log_dir = _log_dir(config, tmp_path_factory)
    test_name = _file_name(request.node.nodeid)[-120:]
    duts = []
    for i, board in enumerate(boards):
        name = f"sim-{i}" if board is None else board.port
        log = open(os.path.join(log_dir, f"{test_name}-{_file_name(name)}.log"), "a", encoding="utf-8")
        duts.append(Dut(name, log, board))
    marker = request.node.get_closest_marker("microapp")
    try:
        if marker is not None:
            app = marker.args[0] if marker.args else marker.kwargs["app"]
            for d in duts:
                d.load(app, limits=marker.kwargs.get("limits"), events=marker.kwargs.get("events"))
        yield duts[0] if count == 1 else tuple(duts)
    finally:
        for d in duts:
            d.close()
            d._log.close()


@pytest.fixture
def microapp_board(board_under_test: BoardUnderTest,
                   request: pytest.FixtureRequest) -> Iterator[Callable[..., Dut]]:
    """A factory: microapp_board(app, limits=None, events=()) -> a Dut on the session's board,
    closed after the test. app: source text (dedented) or a .py file's path."""
    board = board_under_test
    test_name = _file_name(request.node.nodeid)[-120:]
    runs: list[Dut] = []

    def start(app: str | bytes, limits: Limits | None = None, events: Iterable[Event] | str = (),
              **link_options) -> Dut:
        log = open(os.path.join(board.log_dir, f"{test_name}-{_file_name(board.port)}.log"), "a",
                   encoding="utf-8")
        run = Dut(board.port, log, board)
        runs.append(run)
        return run.load(app, limits, events, **link_options)

    yield start
    for run in runs:
        run.close()
        run._log.close()
