"""Board profiles: a real board's heap (scaled for the 64-bit VM), raw-paste window and baud."""
from __future__ import annotations

import pytest
from mpremote.transport_serial import SerialTransport

from host.board.profiles import PROFILES, profile
from host.board.virtual_board import BARE_ALLOC, WORD_SCALE, VirtualBoard, profile_heap
from host.cli import main


def test_the_profiles_follow_the_nrf_ports_linker_figures() -> None:
    # RAM - 8 KiB stack - 4 KiB .data/.bss; with s132/s140 6.1.1 also - 0x39c0
    assert PROFILES["pca10040"].heap == 64 * 1024 - 8192 - 4096 == 53248
    assert PROFILES["pca10040"].heap_with_softdevice == 53248 - 0x39C0
    assert PROFILES["pca10056"].heap == 256 * 1024 - 8192 - 4096
    assert all(p.repl_buffer == 64 and p.raw_paste_window == 32 and p.baud == 115200
               for p in PROFILES.values())
    with pytest.raises(ValueError, match="known: pca10040, pca10056"):
        profile("pca10001")


@pytest.mark.parametrize("name", ["pca10040", "pca10056"])
def test_a_profile_board_has_the_profiles_heap_and_window(name: str) -> None:
    board = VirtualBoard.for_profile(name, paced=False, log=lambda _m: None)
    assert board.baud is None and board.raw_paste_window == 32
    assert board.heap_size == profile_heap(name) == int(PROFILES[name].heap * WORD_SCALE) // 16 * 16
    with board:
        t = SerialTransport(board.port)
        try:
            t.enter_raw_repl()
            free = t.eval("__import__('gc').mem_free()")
            assert board.heap_size - BARE_ALLOC - 2048 < free <= board.heap_size - BARE_ALLOC
            assert t.eval("hasattr(__import__('machine'), 'WDT')") is False
        finally:
            t.close()
    assert VirtualBoard.for_profile(name).baud == 115200  # paced by default


def test_microapp_board_takes_only_the_known_profiles(capsys) -> None:
    assert main(["board", "--profile", "pca10001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'pca10001'" in err[0]
