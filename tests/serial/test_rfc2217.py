"""A board in another room: `microapp run --port rfc2217://...` and the pytest plugin through
pyserial's RFC 2217 server in front of a virtual board (docs/board.md, "A board in another room")."""
import pytest

from host.board.virtual_board import VirtualBoard
from host.board_install import install_to_dir
from host.cli import main
from tests.serial.rfc2217_server import Rfc2217Server

pytest_plugins = ["pytester"]


@pytest.fixture
def remote_board(tmp_path):
    flash = tmp_path / "flash"
    install_to_dir(str(flash))
    with VirtualBoard.for_profile("pca10040", str(flash), paced=False) as board:
        server = Rfc2217Server(board.port)
        try:
            yield server, flash
        finally:
            server.close()


@pytest.mark.slow
def test_microapp_run_over_rfc2217(remote_board, tmp_path, capsys):
    server, flash = remote_board
    code = main(["run", "examples/hello.py", "--port", server.url, "--ticks", "3",
                 "--state", str(tmp_path / "s.json")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == ["t=0.000s hello from setup, stone 1", "t=0.100s hello 1", "t=0.200s hello 2"]
    assert not (flash / "run_app.py").exists()  # cleaned up over the network too


@pytest.mark.slow
def test_the_plugin_over_rfc2217(remote_board, pytester, tmp_path):
    server, flash = remote_board
    pytester.makepyfile(test_remote='''
def test_remote(dut):
    dut.load("def loop():\\n    print('from afar')\\n")
    assert dut.expect_exact("from afar") == "t=0.100s from afar"
''')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--board-port={server.url}",
                                          "--board-log-dir", str(tmp_path / "logs"))
    result.assert_outcomes(passed=1)
    assert (flash / "test_apps" / "app_1.py").exists()  # sent over the board's REPL, through the server
