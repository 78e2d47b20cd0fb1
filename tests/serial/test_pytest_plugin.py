"""The pytest plugin (entry point `microapp`) seen from a test suite using it: a virtual board
for the session without --board-port, the given board with it (here: a virtual board standing
in for hardware, so the apps go over the raw REPL), expect() and its failure message, and a
log file per board per test."""
import pytest

from host.board.virtual_board import VirtualBoard, profile_heap
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
    with VirtualBoard(str(flash), heap_size=profile_heap("pca10056")) as board:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--board-port", board.port,
                                              "--board-log-dir", str(logs))
    check_run(result, logs)
    assert sorted(p.name for p in (flash / "test_apps").iterdir()) == ["app_1.py", "app_2.py"]
