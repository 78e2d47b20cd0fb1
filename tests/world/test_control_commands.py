"""CONTROL_COMMAND as bluenet's CommandHandler answers a microapp (access MEMBER, source
MICROAPP, no result buffer): every command a member may give, with its checks and result, and
the ones that change the world (the switch, multi-switch, the time, the sun times)."""
import textwrap

import pytest

from host.simulator import Simulation
from host.world.scenario import parse_scenario
from shared_buffers import protocol as P

APP = """
    from microapp import *
    COMMANDS = {commands!r}
    def send(kind, payload, protocol=5):
        m2b = getOutgoingMessagePayload()
        m2b[0] = 10  # CONTROL_COMMAND
        m2b[1] = 2   # REQUEST
        m2b[2] = protocol
        m2b[3:5] = kind.to_bytes(2, "little")
        m2b[5:7] = len(payload).to_bytes(2, "little")
        m2b[7:7 + len(payload)] = payload
        return sendMessage(7 + len(payload))
    n = 0
    def loop():
        global n
        if n < len(COMMANDS):
            at, kind, payload, protocol = COMMANDS[n]
            if millis() >= at:
                n += 1
                print("ack", kind, send(kind, payload, protocol))
"""
WORLD = "[stone]\nid = 7\n[load]\nwatts = 100\n"


def run(commands, world=WORLD, ticks=None):
    """commands: (ms, type, payload[, protocol]); the acks in order, and the summary."""
    commands = [(c[0], c[1], bytes(c[2]), c[3] if len(c) > 3 else 5) for c in commands]
    app = textwrap.dedent(APP.format(commands=commands))
    ticks = ticks or max(c[0] for c in commands) // 100 + 3
    summary = Simulation(app, scenario=parse_scenario(world)).run(ticks)
    acks = [int(text.split()[2]) for _, text in summary["log"] if text.startswith("ack")]
    assert len(acks) == len(commands) and summary["host_errors"] == 0
    return acks, summary


def history(summary, what):
    return [h for h in summary["world"]["history"] if h["what"] == what]


def u16(v):
    return bytes((v & 0xFF, v >> 8))


def u32(v):
    return v.to_bytes(4, "little")


@pytest.mark.parametrize("kind, payload, ack, result", [
    (0, bytes(10), P.ERR_DISABLED, "ERR_NOT_AVAILABLE"),            # SETUP: not in setup mode
    (1, b"\x00", P.ERROR, "ERR_NO_ACCESS"),                         # FACTORY_RESET: admin
    (2, b"\x00", P.ERROR, "ERR_WRONG_PAYLOAD_LENGTH"),              # STATE_GET: no header
    (2, bytes(4), P.ERROR, "ERR_BUFFER_TOO_SMALL"),                 # ... no result buffer
    (3, bytes(3), P.ERROR, "ERR_WRONG_PAYLOAD_LENGTH"),             # STATE_SET
    (3, bytes(5), P.SUCCESS, "ERR_SUCCESS"),
    (4, b"\x00", P.SUCCESS, "ERR_SUCCESS"),                         # GET_BOOTLOADER_VERSION (bug)
    (5, b"\x00", P.ERROR, "ERR_BUFFER_TOO_SMALL"),                  # GET_UICR_DATA
    (7, b"\x00", P.ERROR, "ERR_BUFFER_TOO_SMALL"),                  # GET_MAC_ADDRESS
    (8, b"\x00", P.ERR_NOT_IMPLEMENTED, "ERR_NOT_IMPLEMENTED"),     # GET_HARDWARE_VERSION
    (9, b"\x00", P.ERR_NOT_IMPLEMENTED, "ERR_NOT_IMPLEMENTED"),     # GET_FIRMWARE_VERSION
    (10, b"\x00", P.ERROR, "ERR_NO_ACCESS"),                        # RESET: admin
    (12, b"\x00", P.SUCCESS, "ERR_SUCCESS"),                        # NOP
    (13, b"\x00", P.SUCCESS, "ERR_SUCCESS"),                        # DISCONNECT
    (14, b"\x00", P.ERROR, "ERR_NO_ACCESS"),                        # no such type: NOT_SET
    (31, b"\x00", P.SUCCESS, "ERR_SUCCESS"),                        # INCREASE_TX (BASIC)
    (34, bytes(7), P.ERROR, "ERR_WRONG_PAYLOAD_LENGTH"),            # SET_SUN_TIME
    (34, u32(86401) + u32(0), P.ERROR, "ERR_WRONG_PARAMETER"),
    (35, b"\x00", P.ERROR, "ERR_BUFFER_TOO_SMALL"),                 # GET_TIME
    (40, b"\x01", P.ERROR, "ERR_NO_ACCESS"),                        # ALLOW_DIMMING: admin
    (60, bytes(20), P.SUCCESS, "ERR_SUCCESS"),                      # SAVE_BEHAVIOUR (not modelled)
    (62, b"\x00\x00", P.ERROR, "ERR_WRONG_PAYLOAD_LENGTH"),         # REMOVE_BEHAVIOUR
    (62, b"\x00", P.SUCCESS, "ERR_SUCCESS"),
    (63, b"\x00", P.ERR_NOT_FOUND, "ERR_NOT_FOUND"),                # GET_BEHAVIOUR: none stored
    (64, b"\x00", P.ERROR, "ERR_WRONG_PAYLOAD_LENGTH"),             # GET_BEHAVIOUR_INDICES
    (70, bytes(10), P.ERROR, "ERR_WRONG_PAYLOAD_LENGTH"),           # REGISTER_TRACKED_DEVICE
    (70, bytes(11), P.SUCCESS, "ERR_SUCCESS"),
    (71, bytes(7), P.SUCCESS, "ERR_SUCCESS"),                       # TRACKED_DEVICE_HEARTBEAT
    (96, b"hi", P.ERROR, "ERR_NO_ACCESS"),                          # MICROAPP_MESSAGE: admin
])
def test_each_command_a_microapp_sends_is_answered_as_bluenet_answers_it(kind, payload, ack, result):
    acks, summary = run([(100, kind, payload)])
    assert acks == [ack]
    [h] = history(summary, "control")
    assert (h["type"], h["ack"], h["result"], h["payload"]) == (kind, ack, result, payload.hex())
    assert history(summary, "switch") == []


def test_a_wrong_protocol_is_refused():
    acks, summary = run([(100, 12, b"\x00", 4)])
    assert acks == [P.ERROR]
    assert history(summary, "control")[0]["result"] == "ERR_PROTOCOL_UNSUPPORTED"


def multi(*items, count=None):
    return bytes((len(items) if count is None else count,)) + b"".join(bytes(i) for i in items)


def test_multi_switch_acts_on_this_stones_items_and_sends_the_others_on():
    acks, summary = run([(100, 21, multi((3, 100), (7, 100), (0, 0), (9, 0))),
                         (200, 21, multi((7, 0))),
                         (300, 21, multi((7, 0xFD), (7, 0xFD)))])  # toggle twice: on, off
    assert acks == [P.SUCCESS] * 3
    switches = [(h["t"], h["source"], h["relay"]) for h in history(summary, "switch")]
    assert switches == [(0.1, "multi_switch", 1), (0.2, "multi_switch", 0),
                        (0.3, "multi_switch", 1), (0.3, "multi_switch", 0)]
    out = [(h["stone"], h["value"]) for h in history(summary, "multi_switch_out")]
    assert out == [(3, 100), (9, 0)]      # id 0 is skipped
    assert history(summary, "control") == []


@pytest.mark.parametrize("payload", [multi((7, 100), count=2), multi(count=21), b"\x01\x07"])
def test_a_multi_switch_shorter_than_its_count_is_an_invalid_message(payload):
    acks, summary = run([(100, 21, payload)])
    assert acks == [P.ERROR]
    assert history(summary, "control")[0]["result"] == "ERR_INVALID_MESSAGE"
    assert history(summary, "switch") == []


def test_multi_switch_counts_past_five_items_as_bluenet_reads_them():
    items = [(8 + i, 100) for i in range(6)] + [(7, 100)]  # 7 items: more than multi_switch_t's 5
    acks, summary = run([(100, 21, multi(*items))])
    assert acks == [P.SUCCESS] and len(history(summary, "multi_switch_out")) == 6
    assert history(summary, "switch")[0]["relay"] == 1


def test_multi_switch_on_a_guidestone_is_acked_and_switches_nothing():
    acks, summary = run([(100, 21, multi((7, 100)))], world='[stone]\nid = 7\ndevice = "guidestone"\n')
    assert acks == [P.SUCCESS] and history(summary, "switch") == []


def test_set_time_sets_the_posix_time_and_is_throttled_for_a_minute():
    acks, summary = run([(100, 30, u32(0)),                # 0: ERR_WRONG_PARAMETER
                         (200, 30, u32(1_700_000_000)),
                         (300, 30, u32(1_700_000_100)),    # within 60 s: ERR_BUSY
                         (60_100, 30, u32(1_700_000_100)),
                         (60_200, 30, b"\x01\x02\x03")])   # not 4 bytes
    assert acks == [P.ERROR, P.SUCCESS, P.ERR_BUSY, P.ERR_BUSY, P.ERROR]
    assert [h["result"] for h in history(summary, "control")] == [
        "ERR_WRONG_PARAMETER", "ERR_SUCCESS", "ERR_BUSY", "ERR_BUSY", "ERR_WRONG_PAYLOAD_LENGTH"]
    assert [(h["t"], h["posix"]) for h in history(summary, "time_set")] == [(0.2, 1_700_000_000)]


def test_set_time_after_the_throttle_sets_it_again():
    acks, summary = run([(200, 30, u32(1_700_000_000)), (60_200, 30, u32(1_800_000_000))])
    assert acks == [P.SUCCESS, P.SUCCESS]
    assert [h["posix"] for h in history(summary, "time_set")] == [1_700_000_000, 1_800_000_000]


def test_set_sun_time_sets_them_and_is_throttled_for_half_an_hour():
    acks, summary = run([(100, 34, u32(6 * 3600) + u32(21 * 3600)),
                         (200, 34, u32(7 * 3600) + u32(20 * 3600))])
    assert acks == [P.SUCCESS, P.ERR_BUSY]
    assert [(h["sunrise"], h["sunset"]) for h in history(summary, "sun_time")] == [(6 * 3600, 21 * 3600)]


def mesh_command(ids, inner, data, kind=0):
    return bytes((kind, 1, 0, len(ids))) + bytes(ids) + b"\x05" + u16(inner) + u16(len(data)) + data


@pytest.mark.parametrize("payload, ack, result", [
    (b"\x00\x01\x00", P.ERROR, "ERR_INVALID_MESSAGE"),                       # header too short
    (mesh_command([], 30, u32(5), kind=1), P.ERROR, "ERR_WRONG_PARAMETER"),   # type not 0
    (mesh_command([7], 30, u32(5))[:8], P.ERROR, "ERR_WRONG_PAYLOAD_LENGTH"),  # control header cut
    (mesh_command([7], 30, u32(5))[:-1], P.ERROR, "ERR_WRONG_PAYLOAD_LENGTH"),  # payload cut
    (mesh_command([7], 12, b"\x00"), P.ERR_DISABLED, "ERR_NOT_AVAILABLE"),    # NOP: not via mesh
    (mesh_command([7], 10, b"\x00"), P.ERROR, "ERR_NO_ACCESS"),               # RESET: admin
])
def test_a_mesh_command_is_checked_as_bluenet_checks_it(payload, ack, result):
    acks, summary = run([(100, 33, payload)])
    assert acks == [ack]
    assert history(summary, "control")[0]["result"] == result
    assert history(summary, "time_set") == [] and history(summary, "mesh_command_out") == []


def test_a_mesh_command_for_this_stone_runs_here_and_for_others_goes_out():
    acks, summary = run([(100, 33, mesh_command([7], 30, u32(1_700_000_000))),
                         (200, 33, mesh_command([8, 9], 3, bytes(5)))])
    assert acks == [P.SUCCESS, P.SUCCESS]
    assert [h["posix"] for h in history(summary, "time_set")] == [1_700_000_000]
    assert [(h["ids"], h["type"]) for h in history(summary, "mesh_command_out")] == [("0809", 3)]


def test_a_mesh_command_for_this_stone_answers_the_inner_commands_result():
    acks, summary = run([(100, 33, mesh_command([7], 30, u32(0)))])
    assert acks == [P.ERROR]
    assert history(summary, "control")[0]["result"] == "ERR_WRONG_PARAMETER"
