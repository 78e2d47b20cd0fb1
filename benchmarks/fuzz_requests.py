"""Fuzz the host's request path: a firmware stand-in that writes random and mutated bytes into
the request buffer (any type, ack, call id, length, interrupt id, payload) at every resume, and
now and then into the interrupt answer in b2m. The host must never raise: each buffer ends as a
handled request, an error ack, or a protocol fault (the app is then enabled again and the
fuzzing goes on).

    python benchmarks/fuzz_requests.py N [--seed S]

prints `fuzz_cases: N`, `host_exceptions: 0` (exceptions the controller let escape plus request
handlers that raised), and what the host made of the cases.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from host.simulator import Simulation  # noqa: E402
from host.world.scenario import parse_scenario  # noqa: E402
from shared_buffers import protocol as P  # noqa: E402
from host.sdk_types import mesh, pin  # noqa: E402
from shared_buffers.buffers import new_buffer  # noqa: E402

# Well-formed requests to mutate: (type, bluenet's struct from byte 2).
CORPUS = [
    (P.LOG, b"\x03\x01\x05hello"), (P.LOG, b"\x02\x01\x04\x2a\x00\x00\x00"), (P.LOG, b"\x03\x00\x04part"),
    (P.LOG, b"\x04\x01\x03\x01\x02\x03"), (P.LOG, b"\x05\x01\x04\x00\x00\xc0\x3f"),
    (P.PIN, b"\x04\x01\x01\x03\x00\x00"), (P.PIN, b"\x05\x01\x03\x01\x00\x00"),
    (P.PIN, b"\x04\x02\x00\x00\x01\x00"), (P.PIN, b"\x05\x02\x00\x00\x02\x01"),
    (P.MESH, b"\x02"), (P.MESH, b"\x01\x00\x00\x03abc"), (P.MESH, b"\x01\x07\x01\x07\x01\x02\x03\x04\x05\x06\x07"),
    (P.MESH, b"\x03"), (P.BLE, b"\x02\x01"), (P.BLE, b"\x02\x02"), (P.BLE, b"\x02\x03"), (P.BLE, b"\x05"),
    (P.BLE, b"\x02\x05\x03\x04abcd"), (P.SIGNAL, b"\x01\x02"), (P.SIGNAL, b"\x02"),
    # the world's types (issue 9)
    (P.SWITCH, b"\x01\x32"), (P.SWITCH, b"\x01\xfd"), (P.SWITCH, b"\x02\x00"), (P.POWER_USAGE, b"\x01" + bytes(4)),
    (P.PRESENCE, b"\x00" + bytes(8)), (P.SERVICE_DATA, b"\x34\x12\x03abc"),
    (P.TWI, b"\x03\x00\x01\x00"), (P.TWI, b"\x02\x48\x01\x01\x00"), (P.TWI, b"\x01\x48\x00\x02"),
    (P.TWI, b"\x02\x50\x01\x03\x10ab"), (P.TWI, b"\x01\x50\x01\x2a"),
    (P.CONTROL_COMMAND, b"\x05\x14\x00\x01\x00\x64"), (P.CONTROL_COMMAND, b"\x05\x17\x00\x01\x00\x00"),
    (P.CONTROL_COMMAND, b"\x05\x16\x00\x01\x00\x32"), (P.CONTROL_COMMAND, b"\x05\x0c\x00\x01\x00\x00"),
    (P.CONTROL_COMMAND, b"\x05\x15\x00\x05\x00\x02\x01\x64\x09\xfd"),  # multi-switch
    (P.CONTROL_COMMAND, b"\x05\x1e\x00\x04\x00\x00\xf1\x53\x65"),      # set time
    (P.CONTROL_COMMAND, b"\x05\x22\x00\x08\x00" + bytes(4) + b"\x00\xd2\x00\x00"),  # sun time
    (P.CONTROL_COMMAND, b"\x05\x21\x00\x0e\x00\x00\x01\x00\x01\x01\x05\x1e\x00\x04\x00\x00\xf1\x53\x65"),  # mesh
    (P.MESSAGE, b"\x01"), (P.MESSAGE, b"\x02\x03\x00abc"), (P.BLUENET_EVENT, b"\x01\x81\x00"),
    (P.BLUENET_EVENT, b"\x01\xc4\x01"), (P.BLUENET_EVENT, b"\x01\x83\x00"), (P.BLUENET_EVENT, b"\x01\xd7\x01"),
    (P.ASSETS, b"\x01"),
]
WORLD_TYPES = (P.SWITCH, P.POWER_USAGE, P.PRESENCE, P.SERVICE_DATA, P.TWI, P.CONTROL_COMMAND,
               P.MESSAGE, P.BLUENET_EVENT, P.ASSETS)
# A world for them: a dimmable load, two I2C devices, people coming and going, messages, assets.
FUZZ_WORLD = """
timeline = [
  { t = 0.05, enter = "hall" },
  { t = 0.1, message = "hello", every = 0.3, until = 30000 },
  { t = 0.2, asset = "010203", every = 0.5, until = 30000 },
  { t = 0.3, tap = true, every = 0.9, until = 30000 },
  { t = 0.4, load = 2000, every = 1.1, until = 30000 },
  { t = 5, leave = "hall" },
]
[stone]
uptime_s = 60
[load]
watts = 100
dimmable = true
noise_mw = 100
[rooms]
hall = 2
[people]
ann = 0
[[i2c]]
address = 0x48
device = "tmp102"
heater = true
[[i2c]]
address = 0x50
device = "register"
"""
_BOUNDARY = (0, 1, 2, 3, 4, 5, 6, 0x0B, 0x10, 0x2F, 0x30, 0x31, 0x7F, 0x80, 0xFE, 0xFF)


class FuzzLink:
    """A Link whose microapp side is `write(m2b, b2m)`, called at every resume."""

    def __init__(self, write: Callable[[bytearray, bytearray], None]) -> None:
        self.m2b = new_buffer()
        self.b2m = new_buffer()
        self.resumes = 0
        self._write = write

    def resume(self) -> None:
        self.resumes += 1
        self._write(self.m2b, self.b2m)

    def restart(self) -> None:
        pass


def write_case(rng: random.Random, m2b: bytearray, b2m: bytearray) -> None:
    """One fuzz case: random bytes, a mutated well-formed request, or random header fields."""
    entry = b2m[P.OFF_CALL_ID]
    kind = rng.random()
    if kind < 0.2:
        m2b[:] = rng.randbytes(P.BUFFER_SIZE)
    elif kind < 0.7:
        msg_type, struct = rng.choice(CORPUS)
        m2b[0], m2b[1] = msg_type, P.REQUEST
        m2b[2:2 + len(struct)] = struct
        m2b[P.OFF_CALL_ID], m2b[P.OFF_USED] = entry, 2 + len(struct)
        for _ in range(rng.randrange(4)):
            at = rng.randrange(2 + len(struct) + 2)
            m2b[at] = rng.choice(_BOUNDARY) if rng.random() < 0.5 else m2b[at] ^ (1 << rng.randrange(8))
    elif kind < 0.9:
        m2b[0] = rng.randrange(P.TYPE_COUNT + 2)
        m2b[1] = P.REQUEST if rng.random() < 0.6 else rng.randrange(0x12)
        m2b[2:P.BLUENET_SIZE] = rng.randbytes(P.BLUENET_SIZE - 2)
        m2b[P.OFF_CALL_ID] = entry if rng.random() < 0.8 else rng.randrange(256)
        m2b[P.OFF_USED] = rng.randrange(P.BLUENET_SIZE + 1) if rng.random() < 0.9 else rng.randrange(256)
    else:  # a final status, mostly well formed
        m2b[0], m2b[1] = P.YIELD, rng.choice((P.NO_REQUEST, P.ERROR, rng.randrange(256)))
        m2b[P.OFF_YIELD_TYPE] = rng.choice((P.YIELD_SETUP, P.YIELD_LOOP, P.YIELD_ASYNC, rng.randrange(256)))
        m2b[P.OFF_YIELD_SLOTS] = rng.randrange(5)
        m2b[P.OFF_CALL_ID], m2b[P.OFF_USED] = entry, P.YIELD_STRUCT
        m2b[P.OFF_FLAGS] = rng.choice((0, 0, P.FLAG_RAISED, rng.randrange(256)))
        m2b[P.OFF_TEXT_LEN] = rng.choice((0, 5, rng.randrange(256)))
    if rng.random() < 0.1:  # an interrupt answer (or garbage) in b2m
        b2m[1] = rng.choice((P.IN_PROGRESS, P.SUCCESS, P.ERROR, P.ERR_BUSY, rng.randrange(256)))
        if rng.random() < 0.3:
            b2m[P.OFF_CALL_ID:P.OFF_CALL_ID + 4] = rng.randbytes(4)
        if rng.random() < 0.2:
            b2m[P.OFF_FLAGS:P.OFF_FLAGS + 2] = rng.randbytes(2)


def fuzz(n: int, seed: int = 0) -> dict:
    """Feed at least n cases; returns the figures (host_exceptions must be 0)."""
    rng = random.Random(seed)
    link = FuzzLink(lambda m2b, b2m: write_case(rng, m2b, b2m))
    sim = Simulation(None, link=link, scenario=parse_scenario(FUZZ_WORLD))
    c = sim.controller
    escaped: list[str] = []
    faults = 0

    def listen() -> None:  # as if the app had asked: interrupts exercise the answer path
        c.registry.register((P.MESH << 8) | P.MESH_READ)
        for p in (0, 2, 4, 6):
            c.registry.register((P.PIN << 8) | p)
        for key in ((P.MESSAGE << 8) | P.MESSAGE_RECEIVED, (P.ASSETS << 8) | P.ASSET_EVENT):
            c.registry.register(key)
    listen()
    while link.resumes < n:
        try:
            if rng.random() < 0.25:
                source = rng.randrange(8)
                if source & 1:
                    c.interrupt(P.MESH, *mesh.interrupt(source, rng.randbytes(rng.randrange(8))))
                else:
                    c.interrupt(P.PIN, *pin.interrupt(source & 6))
            else:
                sim.step()
            if not c.enabled:
                faults += len(c.faults)
                c.faults.clear()
                c.enable()
                listen()
        except Exception:
            escaped.append(traceback.format_exc())
        if len(sim.device.log) > 10_000 or len(sim.world.history.entries) > 10_000:
            sim.device.log.clear()  # what the fuzzed app logs and does to its world is not kept
            sim.world.history.entries.clear()
            sim.device.mesh_sent.clear()
            sim.device.pin_changes.clear()
    return {
        "fuzz_cases": link.resumes,
        "host_exceptions": len(escaped) + c.host_errors,
        "protocol_faults": faults + sum(1 for f in c.faults if f["where"] == "protocol"),
        "requests_handled": sum(c.requests),
        "world_requests_handled": sum(c.requests[t] for t in WORLD_TYPES),
        "world_types_reached": sum(1 for t in WORLD_TYPES if c.requests[t]),
        "interrupts_generated": c.interrupts["generated"],
        "uncounted_events": c.accounting()["uncounted"],
        "first_exception": escaped[0] if escaped else "",
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="how many buffers to feed")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    figures = fuzz(args.n, args.seed)
    elapsed = time.perf_counter() - start
    first = figures.pop("first_exception")
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(f"fuzz_cases_per_s: {figures['fuzz_cases'] / elapsed:.0f}")
    if first:
        print(first, file=sys.stderr)
    return 1 if figures["host_exceptions"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
