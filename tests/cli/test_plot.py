"""`microapp plot`: a run's summary drawn as tracks over time."""
import json

import pytest

from tests.cli.test_run_errors import microapp

matplotlib = pytest.importorskip("matplotlib", reason="the plot extra is not installed (pip install -e '.[plot]')")


def test_plot_draws_the_run(tmp_path):
    out, png = tmp_path / "out.json", tmp_path / "run.png"
    assert microapp("run", "examples/blink.py", "--ticks", "30", "--quiet", "--json", str(out),
                    "--state", str(tmp_path / "s.json")).returncode == 0
    r = microapp("plot", str(out), "-o", str(png))
    assert r.returncode == 0, r.stderr
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    from matplotlib import image
    pixels = image.imread(str(png))
    rows = pixels.shape[0]
    assert rows > 300  # log, pin 17 and mesh tracks
    assert (pixels[..., :3].std(axis=(0, 1)) > 0).all()  # something drawn, not a blank canvas


def test_plot_of_something_that_is_no_summary_is_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"x": 1}))
    r = microapp("plot", str(bad), "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a summary" in r.stderr
    r = microapp("plot", str(tmp_path / "none.json"))
    assert r.returncode == 2 and "No such file" in r.stderr
