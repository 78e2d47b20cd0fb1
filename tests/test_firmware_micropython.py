"""firmware/ and shared_buffers/ in the real MicroPython VM: the same scripted tick-and-interrupt
run at buffer level gives the same trace there as under CPython; and they type-check against the
micropython-nrf-stubs."""
import os
import subprocess
import sys

import pytest

from tests.micropython_vm import ROOT, run_micropython

SCRIPT = os.path.join(ROOT, "tests", "scripted_host.py")


def cpython_trace() -> str:
    return subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, check=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}).stdout


@pytest.mark.slow
def test_the_runtime_runs_the_same_in_micropython_as_in_cpython():
    with open(SCRIPT, encoding="utf-8") as f:
        code, out, err = run_micropython(f.read())
    assert (code, err) == (0, "")
    expected = cpython_trace()
    assert out == expected
    lines = out.splitlines()
    # what the script covers: a tick with a print, an accepted interrupt whose handler outlives
    # its budget, a second interrupt refused with ERR_BUSY (stack depth 1), the handler finishing
    assert "app->host CONTINUE/NO_REQUEST LOG/REQUEST" in lines
    assert "app->host MESH/IN_PROGRESS LOG/REQUEST" in lines
    assert "app->host MESH/ERR_BUSY LOG/SUCCESS" in lines
    assert "app->host MESH/SUCCESS YIELD/SUCCESS" in lines  # the handler finishing in a tick
    assert "  log Hello 200" in lines and "  log third line" in lines
    assert lines[-1] == "busy_refused 1 depth 0"


def test_micropython_vm_reports_its_build():
    code, out, _ = run_micropython("import sys\nprint(sys.implementation.name, sys.implementation._build)")
    assert (code, out.strip()) == (0, "micropython wasi")


def _micropython_typeshed(tmp) -> tuple[str, str]:
    """A typeshed of MicroPython's stdlib (micropython-stdlib-stubs) and a stub path holding the
    nRF port's modules (micropython-nrf-stubs); returns (typeshed dir, stub dir)."""
    import importlib.metadata
    import shutil

    def installed(dist: str) -> tuple[str, list[str]]:
        files = importlib.metadata.files(dist) or []
        site = str(files[0].locate()).rsplit(str(files[0]), 1)[0]
        return site, [str(f) for f in files]

    site, stdlib_files = installed("micropython-stdlib-stubs")
    typeshed = os.path.join(tmp, "typeshed")
    shutil.copytree(os.path.join(site, "stdlib"), os.path.join(typeshed, "stdlib"))
    import mypy
    ext = os.path.join(os.path.dirname(mypy.__file__), "typeshed", "stubs", "mypy-extensions")
    shutil.copytree(ext, os.path.join(typeshed, "stubs", "mypy-extensions"))
    stubs = os.path.join(tmp, "nrf")
    shutil.copytree(os.path.join(site, "_mpy_shed"), os.path.join(stubs, "_mpy_shed"))
    _, nrf_files = installed("micropython-nrf-stubs")
    for name in nrf_files:
        if name.endswith(".pyi") and "/" not in name:
            shutil.copy(os.path.join(site, name), stubs)
    return typeshed, stubs


def test_firmware_and_shared_buffers_type_check_against_the_nrf_stubs(tmp_path):
    typeshed, stubs = _micropython_typeshed(str(tmp_path))
    stub_modules = sorted(n[:-4] for n in os.listdir(stubs) if n.endswith(".pyi"))
    config = tmp_path / "mypy.ini"
    # The stubs' own inconsistencies are not ours to report.
    config.write_text("[mypy]\npython_version = 3.11\n"
                      f"[mypy-_mpy_shed.*,{','.join(stub_modules)}]\nignore_errors = True\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--custom-typeshed-dir", typeshed,
         "--no-incremental", "--cache-dir", str(tmp_path / "cache"), "firmware", "shared_buffers"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "MYPYPATH": stubs})
    assert result.returncode == 0, result.stdout + result.stderr
    # the check has teeth: a CPython-only module is rejected under these stubs
    bad = tmp_path / "bad.py"
    bad.write_text("import dataclasses\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--custom-typeshed-dir", typeshed,
         "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(bad)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "MYPYPATH": stubs})
    assert "dataclasses" in result.stdout and result.returncode == 1
