from host.mesh.pytest_fixture import mesh  # noqa: F401  (the fixture these tests use)
