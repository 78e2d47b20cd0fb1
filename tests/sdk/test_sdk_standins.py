"""The SDK's lazy stand-ins (firmware/microapp.py's _Lazy) find their name and module at their
first use, from one table in _Lazy.__getattr__: every stand-in must be in it and reach the
object of its module that it stands for (a stand-in missing from the table would fail only
when an app first used it)."""
import importlib

from firmware import microapp
from firmware.runtime import SDK_CELL


def test_every_stand_in_reaches_the_object_of_its_module():
    standins = {name: value for name, value in vars(microapp).items()
                if isinstance(value, microapp._Lazy)}
    assert {"Mesh", "MeshMsg", "BLE", "BleDevice", "CrownstoneSwitch", "on_signal"} <= set(standins)
    for name, standin in standins.items():
        target = standin.__getattr__(None)  # the object it stands for (imported at first use)
        assert standin.__name__ == name
        module = importlib.import_module(standin.__module__)
        assert module.__name__.startswith("firmware.sdk_") and getattr(module, name) is target
    assert SDK_CELL[1] is False  # the SDK's own import let through once, then closed again
