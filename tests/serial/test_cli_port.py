"""`microapp run APP --port URL`: the app is sent to the board's firmware over the raw REPL and
runs through the serial link in real time, with the simulator's output and JSON summary."""
import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
import tty

import pytest

from host import port_lock
from host.board.virtual_board import VirtualBoard
from host.board_install import install_to_dir
from host.cli import main
from host.links.serial_link import BoardError, SerialLink

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_on_a_board_prints_and_summarises_as_the_simulator(board_under_test, tmp_path, capsys):
    state = str(tmp_path / "state.json")
    on_board = tmp_path / "board.json"
    in_sim = tmp_path / "sim.json"
    code, out, err = run_cli(capsys, "run", "examples/hello.py", "--ticks", "4", "--port",
                             board_under_test.port, "--json", str(on_board), "--state", state)
    assert code == 0, err
    assert [line.split(" ", 1)[1] for line in out.splitlines()] == [
        "hello from setup, stone 1", "hello 1", "hello 2", "hello 3"]
    assert err.splitlines()[-1] == "4 ticks, 5 requests, 0/0 interrupts delivered, 0 faults, 0 restarts"
    ram = [x for x in err.splitlines() if x.startswith("app RAM after setup(): ")]
    assert len(ram) == 1 and ram[0].endswith(" bytes") and int(ram[0].split()[4]) > 0, err
    assert run_cli(capsys, "run", "examples/hello.py", "--ticks", "4", "--json", str(in_sim),
                   "--state", state)[0] == 0
    board_summary, sim_summary = json.loads(on_board.read_text()), json.loads(in_sim.read_text())
    for key in ("ticks", "requests", "interrupts", "faults", "enabled", "restarts"):
        assert board_summary[key] == sim_summary[key]
    assert [text for _, text in board_summary["log"]] == [text for _, text in sim_summary["log"]]
    # the board runs in real time: tick n comes no earlier than n * 100 ms of wall time
    assert all(t >= n / 10 for n, (t, _) in enumerate(board_summary["log"]))


@pytest.mark.parametrize("extra, message", [
    ([], "microapp: error: no such port"),
    (["--strict-timing"], "microapp: error: --strict-timing measures calls in the simulator"),
])
def test_a_bad_port_or_option_is_a_one_line_error(tmp_path, capsys, extra, message):
    code, out, err = run_cli(capsys, "run", "examples/hello.py", "--port", str(tmp_path / "ttyNone"),
                             "--state", str(tmp_path / "state.json"), *extra)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(message)


@pytest.mark.slow
def test_the_board_gives_the_simulators_output_and_keeps_no_copy(board_under_test, tmp_path, capsys):
    """Virtual tick clock on the board: the same log times as the simulator, millis() included,
    and the run's copy of the app (run_app.py) is removed from the board afterwards."""
    app = tmp_path / "clock.py"
    app.write_text("from microapp import *\n\ndef loop():\n    for i in range(5):\n"
                   "        print('at', millis())\n")
    state = str(tmp_path / "state.json")
    outputs = []
    for port in (["--port", board_under_test.port], []):
        code, out, err = run_cli(capsys, "run", str(app), "--ticks", "4", "--state", state, *port)
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1]
    # 5 logs a tick, 4 requests an entry: the fifth runs in the next tick, and millis() says so
    assert "t=0.200s at 200" in outputs[0].splitlines()
    if board_under_test.virtual:
        assert not os.path.exists(os.path.join(board_under_test.flash_dir, "run_app.py"))


@pytest.mark.slow
@pytest.mark.parametrize("head", ["", '"""Sent precompiled: its first line takes the prologue."""\n'])
def test_a_fault_on_the_board_names_the_users_file(board_under_test, tmp_path, capsys, head):
    """As source (a first line that begins a def) and precompiled (host/flashing/app_image.py,
    run_image): the same file and line."""
    app = tmp_path / "faulty.py"
    app.write_text(head + "def setup():\n    pass\n\ndef loop():\n    {}['sensor']\n")
    line = 5 + head.count("\n")
    out_json = tmp_path / "out.json"
    code, out, err = run_cli(capsys, "run", str(app), "--ticks", "2", "--port", board_under_test.port,
                             "--state", str(tmp_path / "state.json"), "--json", str(out_json))
    assert code == 0, err
    assert f"t=0.100s fault in loop: {app}:{line}: KeyError: sensor" in err.splitlines()
    fault = json.loads(out_json.read_text())["faults"][0]
    assert fault["at"] == f"{app}:{line}" and f'File "{app}", line {line}, in loop' in fault["traceback"]
    assert "run_app.py" not in err + out_json.read_text()


@pytest.mark.slow
def test_without_an_app_the_board_runs_its_installed_app(board_under_test, tmp_path, capsys):
    if not board_under_test.virtual:
        pytest.skip("needs the virtual board's flash directory")
    installed = os.path.join(board_under_test.flash_dir, "app.py")
    state = str(tmp_path / "state.json")
    outs = []
    try:
        for text in ("installed app here", "another app here"):  # installed one after the other
            with open(installed, "w") as f:
                f.write(f"def loop():\n    print('{text}')\n    raise ValueError('{text}')\n")
            code, out, err = run_cli(capsys, "run", "--port", board_under_test.port, "--ticks", "3",
                                     "--state", state, "--fault-policy", "restart")
            assert code == 0, err
            outs.append(out)
    finally:
        os.remove(installed)
    assert outs[0].splitlines()[0] == "t=0.100s installed app here"
    assert outs[1].splitlines()[0] == "t=0.100s another app here"
    # Each installed app keeps its own state, under the board's port, where it is and its CRC.
    with open(state) as f:
        apps = json.load(f)["apps"]
    keys = sorted(apps)
    assert len(keys) == 2 and all(k.startswith(f"installed on {board_under_test.port}: app.py, CRC ")
                                  for k in keys), keys
    assert all(apps[k]["faults"] >= 1 for k in keys), apps
    code, out, err = run_cli(capsys, "status", "--state", state)
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["installed", "installed"]
    code, out, err = run_cli(capsys, "run", "--port", board_under_test.port, "--state", str(tmp_path / "state.json"))
    assert code == 2 and err == (f"microapp: error: {board_under_test.port} has no app installed: give the app's "
                                 f"file, or install one with: python tools/flash.py app APP.py --port "
                                 f"{board_under_test.port}\n")


class _Junk:
    """A serial device that is not a MicroPython board: it answers anything with junk."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                if os.read(self.master, 256):
                    os.write(self.master, b"ERR 17 UNKNOWN COMMAND\r\n")
            except OSError:
                return

    def close(self) -> None:
        os.close(self._slave)
        os.close(self.master)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("what", [pytest.param("nothing", marks=pytest.mark.slow),
                                  pytest.param("not a board", marks=pytest.mark.slow), "no firmware",
                                  "firmware out of heap", "no such port"])
def test_a_port_without_a_board_or_firmware_answers_in_seconds_with_what_to_do(what, tmp_path, capsys):
    cleanup = []
    if what == "nothing":
        master, slave = pty.openpty()
        cleanup += [lambda: os.close(master), lambda: os.close(slave)]
        port, message = os.ttyname(slave), "is not a MicroPython board: no REPL answered"
    elif what == "not a board":
        junk = _Junk()
        cleanup.append(junk.close)
        port, message = junk.port, "is not a MicroPython board"
    elif what == "no firmware":
        board = VirtualBoard(str(tmp_path / "flash"))
        port = board.start()
        cleanup.append(board.stop)
        message = f"{port} is a MicroPython board without the microapp firmware; install it with: " \
                  f"python tools/flash.py firmware --port {port}"
    elif what == "firmware out of heap":  # as the firmware fails on a board too small for it
        flash = tmp_path / "flash"
        install_to_dir(str(flash))
        (flash / "firmware" / "board_main.mpy").unlink()
        (flash / "firmware" / "board_main.py").write_text(
            "def main():\n    pass\nraise MemoryError('memory allocation failed, allocating 752 bytes')\n")
        board = VirtualBoard(str(flash))
        port = board.start()
        cleanup.append(board.stop)
        message = (f"the firmware on {port} did not start; it raised MemoryError: memory allocation "
                   f"failed, allocating 752 bytes (File \"firmware/board_main.py\", line 3, in <module>) "
                   f"(the firmware does not fit this board's heap from /flash: tools/flash.py firmware "
                   f"--romfs runs it from flash, docs/flashing.md)")
    else:
        port, message = str(tmp_path / "ttyNone"), "no such port"
    try:
        code, out, err = run_cli(capsys, "run", "examples/hello.py", "--port", port,
                                 "--state", str(tmp_path / "state.json"))
    finally:
        for close in cleanup:
            close()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err
    if what != "no such port":
        assert "tools/flash.py firmware --port" in err


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_second_program_on_a_busy_board_is_told_at_once_and_the_first_run_is_untouched(tmp_path):
    """A `microapp run --port` holds the board; another one, tools/flash.py and a plain serial
    link are refused with the holder's PID, and the first run ends clean."""
    flash = tmp_path / "flash"
    install_to_dir(str(flash))
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        _busy_board(board, tmp_path)


def _busy_board(board_under_test, tmp_path):  # board_under_test: the test's own board
    out = tmp_path / "first.json"
    first = subprocess.Popen([sys.executable, "-m", "host.cli", "run", "examples/hello.py", "--port",
                              board_under_test.port, "--ticks", "10000000", "--quiet", "--json", str(out),
                              "--state", str(tmp_path / "s1.json")],
                             cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": ROOT})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and first.poll() is None:  # until the first run holds the port
            try:
                port_lock.release(port_lock.acquire(board_under_test.port))
            except port_lock.PortBusy:
                break
            time.sleep(0.05)
        assert first.poll() is None, first.communicate()[1]
        second = subprocess.run([sys.executable, "-m", "host.cli", "run", "examples/hello.py", "--port",
                                 board_under_test.port, "--state", str(tmp_path / "s2.json")],
                                cwd=ROOT, capture_output=True, text=True, timeout=15,
                                env={**os.environ, "PYTHONPATH": ROOT})
        flash = subprocess.run([sys.executable, "tools/flash.py", "info", "--port", board_under_test.port],
                               cwd=ROOT, capture_output=True, text=True, timeout=15)
        with pytest.raises(BoardError, match=f"is in use by PID {first.pid} "):
            SerialLink(board_under_test.port)
        (tmp_path / "test_x.py").write_text("def test_x(dut):\n    dut.load('def loop():\\n    pass\\n')\n")
        plugin = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_x.py"),
                                 f"--board-port={board_under_test.port}"], cwd=str(tmp_path), capture_output=True,
                                text=True, timeout=30, env={**os.environ, "PYTHONPATH": ROOT})
    finally:
        first.send_signal(signal.SIGINT)  # the first run ends when asked, its summary whole
        _, first_err = first.communicate(timeout=60)
    assert second.returncode == 2
    assert second.stderr == (f"microapp: error: {board_under_test.port} is in use by PID {first.pid} "
                             f"({second.stderr.split('(', 1)[1].split(')', 1)[0]}); wait for it to finish or stop it\n")
    assert flash.returncode == 2 and f"in use by PID {first.pid}" in flash.stderr
    assert plugin.returncode == 2 and f"in use by PID {first.pid}" in plugin.stdout + plugin.stderr
    assert first.returncode == 130, first_err
    summary = json.loads(out.read_text())
    assert summary["interrupted"] == "Ctrl-C" and summary["ticks"] > 0
    assert summary["faults"] == [] and not summary["did_reboot"] and summary["enabled"]


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_board_lost_mid_run_ends_it_with_one_line_and_the_summary(tmp_path, capsys):
    flash = tmp_path / "flash"
    install_to_dir(str(flash))
    out = tmp_path / "out.json"
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        state = str(tmp_path / "s.json")
        timer = threading.Timer(6.0, board.stop)  # after the upload and a few hundred ticks
        timer.start()
        try:
            code, _, err = run_cli(capsys, "run", "examples/hello.py", "--port", board.port, "--ticks",
                                   "1000000", "--quiet", "--json", str(out), "--state", state)
        finally:
            timer.cancel()
    assert code == 1
    summary = json.loads(out.read_text())
    assert summary["interrupted"].startswith("lost the board: ") and summary["ticks"] > 0
    assert err.splitlines()[-1].startswith(f"microapp: run interrupted after {summary['ticks']} ticks: lost the board")
    assert "Traceback" not in err


@pytest.mark.slow
def test_realtime_paces_ticks_by_the_wall_clock(board_under_test, tmp_path, capsys):
    out = tmp_path / "board.json"
    code, _, err = run_cli(capsys, "run", "examples/hello.py", "--ticks", "4", "--port", board_under_test.port,
                           "--realtime", "--json", str(out), "--state", str(tmp_path / "s.json"), "--quiet")
    assert code == 0, err
    log = json.loads(out.read_text())["log"]
    # tick n comes no earlier than n * 100 ms of wall time after the start
    assert len(log) == 4 and all(t >= n / 10 for n, (t, _) in enumerate(log))


@pytest.mark.slow
def test_what_the_app_writes_to_the_boards_stdout_reaches_the_log(board_under_test, tmp_path, capsys):
    app = tmp_path / "raw.py"
    app.write_text("import sys\nfrom microapp import *\n\ndef setup():\n    pass\n\n"
                   "def loop():\n    sys.stdout.write('raw out\\n')\n    print('via log')\n")
    code, out, err = run_cli(capsys, "run", str(app), "--ticks", "2", "--port", board_under_test.port,
                             "--state", str(tmp_path / "s.json"))
    assert code == 0, err
    assert out.splitlines() == ["t=0.100s [board] raw out", "t=0.100s via log"]


@pytest.mark.slow
def test_an_app_that_does_not_import_on_the_board_says_where(board_under_test, tmp_path, capsys):
    app = tmp_path / "cfg.py"
    app.write_text("config = {}\n\nthreshold = config['sensor']\n")
    code, out, err = run_cli(capsys, "run", str(app), "--port", board_under_test.port,
                             "--state", str(tmp_path / "s.json"))
    assert code == 2 and out == ""
    assert err == f"microapp: error: {app}:3: does not import on the board: KeyError: sensor\n"
