"""A long run stays small: the log streams to the --json file's spool (or is not kept without
--json), so the peak RSS of a million ticks of a logging app is that of a short run."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOGGING_APP = "n = 0\ndef loop():\n    global n\n    n += 1\n    print('tick', n)\n"
# The peak RSS (ru_maxrss, KiB) of the one child a fresh process runs: the CLI's own peak.
PEAK_OF_CHILD = ("import resource, subprocess, sys\n"
                 "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
                 "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
SHORT, LONG = 20_000, 1_000_000
SLACK_KIB = 4 * 1024


def peak_rss_kib(tmp_path, ticks: int, json_out: bool) -> int:
    app = tmp_path / "logger.py"
    app.write_text(LOGGING_APP)
    cli = [sys.executable, "-m", "host.cli", "run", str(app), "--ticks", str(ticks), "--quiet",
           "--state", str(tmp_path / "state.json")]
    if json_out:
        cli += ["--json", str(tmp_path / f"out-{ticks}.json")]
    return cli_peak_rss_kib(cli, 120)


def cli_peak_rss_kib(cli: list[str], timeout_s: float) -> int:
    """The peak RSS of a CLI run in a fresh process (it must exit 0)."""
    r = subprocess.run([sys.executable, "-c", PEAK_OF_CHILD, *cli], capture_output=True, text=True,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, timeout=timeout_s)
    code, peak = r.stdout.split()
    assert code == "0", r.stderr
    return int(peak)


@pytest.mark.slow
@pytest.mark.parametrize("json_out", [True, False], ids=["json", "no-json"])
def test_a_million_logging_ticks_take_no_more_memory_than_a_short_run(tmp_path, json_out):
    short = peak_rss_kib(tmp_path, SHORT, json_out)
    long = peak_rss_kib(tmp_path, LONG, json_out)
    assert long - short < SLACK_KIB, f"peak RSS {short} KiB after {SHORT} ticks, {long} KiB after {LONG}"
    if json_out:  # and nothing was lost on the way
        with open(tmp_path / f"out-{LONG}.json", encoding="utf-8") as f:
            log = json.load(f)["log"]
        assert len(log) == LONG - 1 and log[-1] == [(LONG - 1) / 10, f"tick {LONG - 1}"]  # loop() from tick 1
