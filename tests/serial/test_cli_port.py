"""`microapp run APP --port URL`: the app is sent to the board's firmware over the raw REPL and
runs through the serial link in real time, with the simulator's output and JSON summary."""
import json

import pytest

from host.cli import main



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
    ([], "microapp: error: cannot open"),
    (["--strict-timing"], "microapp: error: --strict-timing measures calls in the simulator"),
])
def test_a_bad_port_or_option_is_a_one_line_error(tmp_path, capsys, extra, message):
    code, out, err = run_cli(capsys, "run", "examples/hello.py", "--port", str(tmp_path / "ttyNone"),
                             "--state", str(tmp_path / "state.json"), *extra)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(message)
