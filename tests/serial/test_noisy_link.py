"""A noisy line (issues 12 and 14): 1%, 5% and 10% of the bytes either way flipped, dropped,
doubled, preceded by garbage or hit by a burst; old frames replayed both ways; a line with no
frame end; a line too bad to carry frames. Every request is handled exactly once and in order
(the app's numbers and the board's own count say so), replays are never handled, the host's
receive buffer stays bounded, and a bad line is reported as one, not as a hung app."""
import os
import pty
import threading
import time
import tty

import pytest
import serial

from host.board.virtual_board import VirtualBoard
from host.board_install import install_to_dir
from host.limits import Limits
from host.links.serial_link import BadLine, BoardError, SerialLink
from host.simulator import Simulation
from shared_buffers import serial_frame as F
from shared_buffers import serial_host as H
from tests.serial.noisy_port import KeyLossPort, NoisyPort, ReplayPort

APP = """
from microapp import *
sent = 0
def loop():
    global sent
    if sent == %d:
        return
    for _ in range(10):
        print("n", sent)
        sent += 1
    if sent == %d:
        Mesh.sendMeshMsg(b"%%d" %% sent)   # the board's own count of requests made
"""


def run_counting_app(board, port, requests: int) -> tuple[dict, SerialLink]:
    path = board.install_app(APP % (requests, requests))
    with SerialLink(port, path, resend_ms=20, watchdog_ms=20000, hello_ms=30000) as link:
        sim = Simulation(None, limits=Limits(entry_budget=10**6), link=link)
        summary = sim.run(requests // 2)
    return summary, link


def assert_each_handled_once_in_order(summary: dict, requests: int) -> None:
    assert summary["faults"] == []
    assert [text for _, text in summary["log"]] == [f"n {i}" for i in range(requests)]
    assert summary["requests"].get("LOG") == requests and summary["requests"].get("MESH") == 1
    assert [sent[2] for sent in summary["mesh_sent"]] == [str(requests).encode().hex()]


@pytest.mark.slow
@pytest.mark.parametrize("rate, requests", [(0.01, 300), (0.05, 200), (0.10, 60)])
def test_requests_over_a_noisy_line_are_each_handled_once_in_order(board_under_test, rate, requests):
    noisy = NoisyPort(serial.serial_for_url(board_under_test.port), rate=rate, seed=int(rate * 1000))
    summary, link = run_counting_app(board_under_test, noisy, requests)
    assert_each_handled_once_in_order(summary, requests)
    # the line was noisy both ways, in every way, and the link noticed
    assert min(noisy.damaged.values()) > 0
    assert link.stats["corrupt"] > 0 and link.stats["resent"] > 0 and not link.bad_line


@pytest.mark.slow
def test_replayed_frames_either_way_are_never_handled(board_under_test):
    port = ReplayPort(serial.serial_for_url(board_under_test.port), rate=0.3, seed=12)
    summary, link = run_counting_app(board_under_test, port, 200)
    assert_each_handled_once_in_order(summary, 200)
    assert port.replayed["to_board"] > 20 and port.replayed["to_host"] > 20
    assert link.stats["stale"] > 0  # old answers came and were dropped


def test_a_replayed_boot_banner_is_no_reset(tmp_path):
    """A fresh board's boot INFO passes through the line, so the line may replay it during the
    run: the link asks the board again instead of taking the app's session for lost."""
    install_to_dir(str(tmp_path), romfs=True)
    (tmp_path / "app.py").write_text(APP % (40, 40))
    with VirtualBoard.for_profile("pca10040", str(tmp_path), paced=False) as board:
        port = ReplayPort(serial.serial_for_url(board.port), rate=0.3, seed=12)
        with SerialLink(port, "app.py", resend_ms=20, watchdog_ms=20000, hello_ms=30000) as link:
            summary = Simulation(None, limits=Limits(entry_budget=10**6), link=link).run(20)
    assert_each_handled_once_in_order(summary, 40)
    assert port.replayed["to_host"] > 0 and link.stats["stale"] > 0


@pytest.mark.slow
def test_the_reset_sequence_gets_through_a_noisy_line(board_under_test):
    path = board_under_test.install_app(APP % (20, 20))
    port = KeyLossPort(serial.serial_for_url(board_under_test.port), rate=0.10, seed=8)
    with SerialLink(port, path, reset=True, resend_ms=20, watchdog_ms=20000, hello_ms=10000,
                    boot_ms=20000) as link:
        assert link.stats["resets"] == 1 and link.stats["reset_tries"] >= 2  # the lost Ctrl-D
        sim = Simulation(None, limits=Limits(entry_budget=10**6), link=link)
        summary = sim.run(10)
    assert_each_handled_once_in_order(summary, 20)


class FloodingBoard:
    """A 'board' on a pty that prints bytes without end and never a frame flag."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._flood, daemon=True)
        self.thread.start()

    def _flood(self) -> None:
        junk = bytes(b for b in range(256) if b != F.FLAG) * 64
        while not self.stop.is_set():
            try:
                os.write(self.master, junk)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.thread.join(1)
        os.close(self.master)
        os.close(self._slave)


@pytest.mark.slow
def test_a_line_with_no_frame_end_keeps_the_hosts_buffer_bounded():
    board = FloodingBoard()
    sizes = []
    import host.links.serial_link as serial_link
    original = serial_link.SerialLink._fill

    def fill(self, until):
        got = original(self, until)
        sizes.append(len(self._splitter) + sum(len(p) for p in self._pieces) + len(self._partial))
        return got

    serial_link.SerialLink._fill = fill
    try:
        with pytest.raises(BoardError):
            SerialLink(board.port, hello_ms=300, boot_ms=600)
    finally:
        serial_link.SerialLink._fill = original
        board.close()
    assert len(sizes) > 100  # it was flooded, many reads long
    assert max(sizes) <= H.MAX_WIRE + 4096 + 200


def test_a_line_that_delivers_only_corrupt_frames_is_a_bad_line_not_a_hung_app(microapp_board):
    run = microapp_board("from microapp import *\ndef loop():\n    print('tick')\n")
    run.run(2)
    port, fd = run.link.serial, run.link._fd
    run.link.serial = NoisyPort(port, rate=0.6, seed=3, to_board=False)  # the board's answers mangled
    run.link._fd = None  # read through the noisy port, not the pty's descriptor
    with pytest.raises(BadLine, match="serial line .* is bad"):
        run.run(3)
    assert run.link.bad_line
    summary = run.summary()
    assert summary["faults"] == [] and summary["did_reboot"] is False and summary["enabled"] is True
    run.link.serial, run.link._fd = port, fd
