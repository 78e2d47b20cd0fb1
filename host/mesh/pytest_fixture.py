"""The `mesh` pytest fixture: run a scenario, get per-stone logs, summaries and network figures.

    pytest_plugins = ["host.mesh.pytest_fixture"]     # in a conftest.py

    def test_pong(mesh):
        result = mesh("examples/mesh/ping_pong.toml", minutes=0.5)
        assert any("pong" in line for line in result.stone_log(1))
        assert result.network["targeted"]["acked"] > 0

A scenario may also be given as TOML text, with its apps as {file name: source}; they are
written to the test's tmp_path.
"""
from __future__ import annotations

import os
import textwrap

import pytest

from host.mesh.runner import MeshResult, MeshRun
from host.mesh.scenario import load


class MeshFixture:
    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.last: MeshRun | None = None
        self._n = 0

    def __call__(self, scenario: str, apps: dict[str, str] | None = None, seed: int | None = None,
                 minutes: float | None = None, **options) -> MeshResult:
        """scenario: a .toml path, or TOML text when `apps` is given (or it has a newline).
        options go to MeshRun (limits, policy, skip_broken, recorder, watchdog)."""
        if apps is not None or "\n" in scenario:
            self._n += 1
            for name, source in (apps or {}).items():
                (self.tmp_path / name).write_text(textwrap.dedent(source))
            path = self.tmp_path / f"scenario{self._n}.toml"
            path.write_text(textwrap.dedent(scenario))
            scenario = str(path)
        self.last = MeshRun(load(os.fspath(scenario)), seed, **options)
        return self.last.run(minutes)


@pytest.fixture
def mesh(tmp_path) -> MeshFixture:
    return MeshFixture(tmp_path)
