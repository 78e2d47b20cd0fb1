"""The pytest plugin (entry point `microapp`) seen from a test suite using it: a virtual board
for the session without --board-port, the given board with it (here: a virtual board standing
in for hardware, so the apps go over the raw REPL), expect() and its failure message, and a
log file per board per test."""
import pytest

from host.board.virtual_board import VirtualBoard
from host.board_install import install_to_dir

pytest_plugins = ["pytester"]

SUITE = '''
def test_counts(microapp_board):
    run = microapp_board("""
        n = 0
        def loop():
            global n
            n += 1
            print("count", n)
    """)
    assert run.expect(r"count (\\d+)").group(1) == "1"
    assert run.expect(r"count 3").group(0) == "count 3"


def test_waits_in_vain(microapp_board):
    run = microapp_board("def loop():\\n    print('tick')\\n")
    run.expect("tock", timeout=0.3)
'''


def check_run(result, log_dir) -> None:
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*no log line matched 'tock' within 0.3 s*",
        "*app output so far (last 30 of * lines):*",
        "*s tick",
        "*log file: *test_waits_in_vain*.log*",
    ])
    logs = sorted(p.name for p in log_dir.iterdir())
    assert len(logs) == 2 and "test_suite.py_test_counts-" in logs[0] and "test_waits_in_vain-" in logs[1]
    counts = (log_dir / logs[0]).read_text()
    assert "app: t=0.300s count 3" in counts
    assert "host->app b2m=CONTINUE/NO_REQUEST" in counts  # the switches, as a trace


def test_without_a_port_the_session_gets_a_virtual_board(pytester, tmp_path):
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--board-log-dir", str(tmp_path))
    check_run(result, tmp_path)


def test_with_a_port_the_apps_go_to_that_board_over_its_repl(pytester, tmp_path):
    flash = tmp_path / "flash"
    install_to_dir(str(flash))
    logs = tmp_path / "logs"
    pytester.makepyfile(test_suite=SUITE)
    # A PCA10056's heap: the firmware no longer leaves a PCA10040 room for the raw REPL's
    # transfers (issue 11 item 2 is open); this test is about the plugin, not the heap.
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--board-port", board.port,
                                              "--board-log-dir", str(logs))
    check_run(result, logs)
    assert sorted(p.name for p in (flash / "test_apps").iterdir()) == ["app_1.py", "app_2.py"]



# One test, every link: the same suite on the simulator, the virtual board and a "real" board
# (a virtual board behind --board-port, reached over its REPL), with --count 2.
DUT_SUITE = '''
import pytest

APP = """
from microapp import *

def on_message(msg):
    print("got", msg.dataPtr, "from", msg.stoneId)

def setup():
    Mesh.setIncomingMeshMsgHandler(on_message)
    Mesh.listen()

def loop():
    print("at", millis())
"""


@pytest.mark.microapp(APP, events='0.25 mesh from=7 data="hi"')
def test_same_everywhere(dut):
    duts = dut if isinstance(dut, tuple) else (dut,)
    for d in duts:
        assert d.expect(r"at (\\d+)").group(1) == "100"
        assert d.expect_exact("got b'hi' from 7") == "t=0.250s got b'hi' from 7"
        assert d.summary()["faults"] == []


def test_events_from_a_file(dut, tmp_path):
    d = dut[0] if isinstance(dut, tuple) else dut
    events = tmp_path / "e.events"
    events.write_text('0.15 mesh from=3 data="yo"\\n')
    d.load(APP, events=str(events))
    d.expect_exact("got b'yo' from 3")


def test_times_out_with_the_output_so_far(dut):
    d = dut[0] if isinstance(dut, tuple) else dut
    d.load(APP)
    d.expect_exact("never printed", timeout=0.3)
'''


def check_dut_run(result, log_dir, devices: int) -> None:
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*no log line contains 'never printed' within 0.3 s*",
        "*app output so far*",
        "*s at *",
        "*log file: *test_times_out_with_the_output_so_far*.log*",
    ])
    logs = sorted(p.name for p in log_dir.iterdir() if "test_same_everywhere" in p.name)
    assert len(logs) == devices  # one log per device per test


@pytest.mark.slow
@pytest.mark.parametrize("target, count", [("sim", 1), ("sim", 2), ("virtual", 1), ("virtual", 2)])
def test_one_suite_on_the_simulator_and_on_virtual_boards(pytester, tmp_path, target, count):
    pytester.makepyfile(test_suite=DUT_SUITE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--target", target, "--count", str(count),
                                          "--board-log-dir", str(tmp_path))
    check_dut_run(result, tmp_path, count)
    if target == "virtual":
        assert "board console:" in result.stdout.str()


@pytest.mark.slow
def test_one_suite_on_boards_given_by_port(pytester, tmp_path):
    boards = []
    try:
        for i in range(2):
            flash = tmp_path / f"flash{i}"
            install_to_dir(str(flash))
            board = VirtualBoard.for_profile("pca10040", str(flash), paced=False)
            board.start()
            boards.append(board)
        pytester.makepyfile(test_suite=DUT_SUITE)
        logs = tmp_path / "logs"
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--count", "2",
                                              "--board-port=" + ",".join(b.port for b in boards),
                                              "--board-log-dir", str(logs))
    finally:
        for board in boards:
            board.stop()
    check_dut_run(result, logs, 2)


LOST = None  # the virtual board the suite below loses


@pytest.mark.slow
def test_a_lost_board_fails_the_test_with_its_log_and_last_output(pytester, tmp_path):
    global LOST
    flash = tmp_path / "flash"
    install_to_dir(str(flash))
    pytester.makepyfile(test_suite='''
from tests.serial import test_pytest_plugin as outer

def test_board_goes_away(dut):
    dut.load("def loop():\\n    print('alive')\\n")
    dut.expect_exact("alive")
    outer.LOST.stop()
    dut.expect_exact("never", timeout=5)
''')
    LOST = VirtualBoard.for_profile("pca10040", str(flash), paced=False)
    LOST.start()
    try:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--board-port={LOST.port}",
                                              "--board-log-dir", str(tmp_path / "logs"))
    finally:
        LOST.stop()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert f"lost the board {LOST.port}:" in out and "board console:" in out
    assert "log file: " in out and "test_board_goes_away" in out and "Traceback" not in out
