"""A restarted app starts from a fresh namespace, and the replaced one is freed: nothing the
host or the SDK keeps (handlers, registrations, the last exception's traceback) holds the old
app's objects, so a long run of an app that keeps faulting stays small."""
import gc

from host.events import parse_events
from host.faults import FaultPolicy
from host.limits import Limits
from host.sdk_constants import fold
from host.simulator import Simulation

# Every kind of reference an app hands the SDK: a mesh handler, a pin handler, a BLE handler, a
# world object; it faults in the mesh handler, so it is restarted at every message.
FAULTING_APP = """
from microapp import *
class Held:
    pass
held = None
def on_mesh(msg):
    raise ValueError("again")
def on_pin():
    pass
def on_scan(device):
    pass
def setup():
    global held
    held = Held()
    Mesh.setIncomingMeshMsgHandler(on_mesh)
    Mesh.listen()
    attachInterrupt(digitalPinToInterrupt(1), on_pin, CHANGE)
    BLE.setEventHandler(BLEDeviceScanned, on_scan)
    CrownstoneSwitch.isOn()
def loop():
    Serial.println(1)
"""


def live_helds() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o).__name__ == "Held")


def test_a_restarted_app_leaves_nothing_of_the_replaced_one_alive():
    events = parse_events("\n".join(f"{t / 2:g}s mesh from=3 data=ab" for t in range(2, 80)))
    sim = Simulation(compile(fold(FAULTING_APP), "faulting.py", "exec"), events, Limits(),
                     policy=FaultPolicy.parse("restart"))
    sim.run(20)
    assert sim.controller.restarts >= 1 and live_helds() == 1
    sim.run(400)
    assert sim.controller.restarts >= 60  # one per message
    assert live_helds() == 1  # the running app's; none of the replaced ones
