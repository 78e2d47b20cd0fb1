"""run.sh: the project's venv, the command run where it was typed."""
import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_run_sh_keeps_the_callers_directory(tmp_path):
    shutil.copy(ROOT / "examples" / "hello.py", tmp_path / "mine.py")
    done = subprocess.run([str(ROOT / "run.sh"), "microapp", "run", "mine.py", "--ticks", "2", "--quiet",
                           "--json", "out.json"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text())["ticks"] == 2  # written here, not in the project
    assert not (ROOT / "out.json").exists()
