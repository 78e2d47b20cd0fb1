"""pytest plugin (entry point `microapp`): hardware-in-the-loop tests of microapps on a board.

Options: --board-port URL (a real board with the firmware; without it a virtual board is started
for the session), --board-baud N, --board-log-dir DIR; --microapp-isolate (every `microapp_sim`
runs its app in a child process, as `microapp run --isolate`).

Fixtures:
- `microapp_sim`: a factory, `microapp_sim(source_or_path, limits=..., events=..., isolate=...)`,
  giving a Simulation of the app; isolate (default: --microapp-isolate) runs it in a child
  process with CPU and memory limits (docs/faults.md, "Levels of containment").
- `board_under_test`: the session's board (BoardUnderTest): its port, apps installed on it.
- `microapp_board`: a factory, `microapp_board(source_or_path, limits=..., events=...)`, giving
  a BoardRun: the app installed and started on the board through the serial link, run by the
  host's controller; `run(ticks)`, `step()`, `expect(pattern, timeout=...)` (waits for a log line,
  failing with the output so far), `summary()`. Each run writes a log file (board console, app
  log, switches) named after the test and the board.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
import time
from typing import Callable, Iterable, Iterator, TextIO

import pytest

from host.board_install import InstallError, install_to_dir, send_app
from host.events import Event
from host.limits import Limits
from host.links.serial_link import BoardError, SerialLink
from host.simulator import Simulation, read_app
from host.trace import SwitchTrace


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("microapp", "microapp boards (hardware in the loop)")
    group.addoption("--board-port", metavar="URL",
                    help="the board to test on (pyserial URL, with the microapp firmware on it); "
                         "default: a virtual board started for the session")
    group.addoption("--board-baud", type=int, default=115200, metavar="N",
                    help="the board's baud rate (default 115200)")
    group.addoption("--board-log-dir", metavar="DIR",
                    help="where each test writes its board log (default: under pytest's basetemp)")
    group.addoption("--microapp-isolate", action="store_true",
                    help="run every microapp_sim app in a child process with CPU and memory limits")


class BoardUnderTest:
    """The session's board: a real one at --board-port, or a virtual board with the firmware."""

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
        if isinstance(source, str) and source.endswith(".py") and os.path.isfile(source):
            with open(source, "rb") as f:
                source = f.read()
        data = textwrap.dedent(source).encode() if isinstance(source, str) else source
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


class BoardRun:
    """One app running on the board: the host's controller drives it over the serial link."""

    def __init__(self, link: SerialLink, limits: Limits, events: Iterable[Event], log: TextIO,
                 trace: SwitchTrace) -> None:
        self.link = link
        self.log_path = log.name
        self.lines: list[str] = []  # the app's log lines, "t=...s text"
        self._log = log
        log.write(f"# board {link.port}: {link.info}\n")
        self.sim = Simulation(None, events, limits, on_log=self._on_log, link=link)
        trace.clock = self.sim.clock

    def _on_log(self, t_ms: int, text: str) -> None:
        line = f"t={t_ms / 1000:.3f}s {text}"
        self.lines.append(line)
        self._log.write(f"app: {line}\n")

    def run(self, ticks: int) -> dict:
        return self.sim.run(ticks)

    def step(self) -> None:
        self.sim.step()

    def summary(self) -> dict:
        return self.sim.summary()

    def expect(self, pattern: str, timeout: float = 5.0) -> re.Match:
        """Run ticks until a new log line matches `pattern` (a regex); fail after `timeout`
        seconds (wall time) showing the output so far."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = len(self.lines)
        while True:
            for line in self.lines[seen:]:
                match = regex.search(line)
                if match:
                    return match
            seen = len(self.lines)
            if time.monotonic() >= deadline or not self.sim.controller.enabled:
                break
            self.sim.step()
        faults = "".join(f"\n  fault: {f}" for f in self.sim.controller.faults)
        shown = self.lines[-30:]
        output = "\n  ".join(shown) or "(none)"
        board = "\n  ".join(list(self.link.console)[-10:]) or "(nothing)"
        pytest.fail(f"no log line matched {pattern!r} within {timeout} s "
                    f"({self.sim.controller.ticks} ticks){faults}\n"
                    f"app output so far (last {len(shown)} of {len(self.lines)} lines):\n  {output}\n"
                    f"board console:\n  {board}\n"
                    f"log file: {self.log_path}", pytrace=False)


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
        return sim

    yield start
    for sim in sims:
        close = getattr(sim.link, "close", None)
        if close is not None:
            close()


@pytest.fixture(scope="session")
def board_under_test(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoardUnderTest]:
    """The session's board: the one at --board-port, else a virtual board with the firmware."""
    config = request.config
    log_dir = config.getoption("--board-log-dir") or str(tmp_path_factory.mktemp("board-logs"))
    os.makedirs(log_dir, exist_ok=True)
    port = config.getoption("--board-port")
    baud = config.getoption("--board-baud")
    if port:
        yield BoardUnderTest(port, baud, None, log_dir)
        return
    from host.board.virtual_board import VirtualBoard
    flash = tempfile.mkdtemp(prefix="microapp-board-")
    try:
        install_to_dir(flash)
        # A PCA10056's heap, collector on; unpaced (a test checks behaviour, not line time).
        # Not a PCA10040's: since main's binary serial frame (9ef7e6d) the firmware holds 39 KB
        # (32-bit) and a second app in a session no longer loads in a PCA10040's heap (issue 11,
        # item 2: the firmware must shrink first).
        with VirtualBoard.for_profile("pca10056", flash, paced=False) as vboard:
            yield BoardUnderTest(vboard.port, baud, flash, log_dir)
    finally:
        shutil.rmtree(flash, ignore_errors=True)


@pytest.fixture
def microapp_board(board_under_test: BoardUnderTest,
                   request: pytest.FixtureRequest) -> Iterator[Callable[..., BoardRun]]:
    """A factory: microapp_board(app, limits=None, events=()) -> BoardRun, closed after the test.
    app: source text (dedented) or a .py file's path."""
    board = board_under_test
    test_name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-120:]
    board_name = re.sub(r"[^\w.-]+", "_", board.port).strip("_")

    def start(app: str | bytes, limits: Limits | None = None, events: Iterable[Event] = (),
              **link_options) -> BoardRun:
        limits = limits or Limits()
        log = open(os.path.join(board.log_dir, f"{test_name}-{board_name}.log"), "a", encoding="utf-8")
        logs.append(log)
        trace = SwitchTrace(log)  # every switch, as a line
        link_options.setdefault("watchdog_ms", limits.watchdog_ms or 2000)
        try:
            path = board.install_app(app)
            link = board.link(path, stack_depth=limits.stack_depth, trace=trace,
                              on_console=lambda text: log.write(f"board: {text}\n"), **link_options)
        except (InstallError, BoardError) as e:
            pytest.fail(f"could not start the app on {board.port}: {e} (log: {log.name})", pytrace=False)
        run = BoardRun(link, limits, events, log, trace)
        runs.append(run)
        return run

    runs: list[BoardRun] = []
    logs: list[TextIO] = []
    yield start
    for run in runs:
        run.link.close()
    for log in logs:
        log.close()
