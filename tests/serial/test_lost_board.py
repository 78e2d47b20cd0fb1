"""A board lost in the middle of tools/flash.py: one line, no traceback (issue 12, item 5; the
same for `microapp run --port` and the plugin is in test_cli_port.py and test_pytest_plugin.py)."""
import os
import subprocess
import sys

import pytest

from host.board.virtual_board import VirtualBoard

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_flash_tool_on_a_board_that_goes_away_says_so_in_one_line(tmp_path):
    board = VirtualBoard.for_profile("pca10040", str(tmp_path / "flash"), paced=False)
    port = board.start()
    try:
        proc = subprocess.Popen([sys.executable, "tools/flash.py", "firmware", "--port", port], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = ""
        while "[2/" not in seen:  # stop it in the middle of sending the firmware's files
            line = proc.stderr.readline()
            assert line, seen
            seen += line
    finally:
        board.stop()
    out, err = proc.communicate(timeout=30)
    err = seen + err
    assert proc.returncode == 2, (out, err)
    lines = [line for line in err.splitlines() if line.startswith("flash.py: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
