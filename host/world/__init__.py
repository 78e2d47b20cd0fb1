"""The world a Crownstone lives in: its switch and load, the power it measures, who is in which
room, the devices on its I2C bus, and the outside that talks to it; read from a scenario
(host/world/scenario.py) and driven by its timeline (host/world/world.py)."""
