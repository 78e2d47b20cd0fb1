"""Many stones, each with its microapp, on one virtual clock, with bluenet's mesh between them
(docs/mesh.md): scenario.py reads a scenario, radio.py is the mesh, network.py the clock,
runner.py runs a scenario, cli.py is `microapp mesh` and `microapp diagram`."""
