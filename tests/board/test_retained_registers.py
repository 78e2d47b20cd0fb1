"""The virtual board's retained registers: machine.mem_backup(0) and (1), as the nrf port has
them (POWER.GPREGRET and GPREGRET2, a byte each): a value written survives a soft reset, a
hard reset and a Ctrl-C restart of the board's VM, and is 0 again at power-on (a new board on
the same flash)."""
from __future__ import annotations

from pathlib import Path

import pytest
from mpremote.transport import TransportExecError
from mpremote.transport_serial import SerialTransport

from host.board import VirtualBoard


def exec_on(board: VirtualBoard, code: str) -> str:
    t = SerialTransport(board.port)
    try:
        t.enter_raw_repl()  # a soft reset first: the value must survive it too
        return t.exec(code).decode().strip()
    finally:
        t.close()


def test_a_retained_register_outlives_every_reset_but_power_on(tmp_path: Path) -> None:
    with VirtualBoard(str(tmp_path)) as board:
        assert exec_on(board, "import machine\nr = machine.mem_backup(-1)\n"
                              "print(len(r), len(r[0]), r[0].itemsize, r[0][0], r[1][0])") == "2 1 1 0 0"
        exec_on(board, "import machine\nmachine.mem_backup(1)[0] = 0x152\nmachine.mem_backup()[0] = 7")
        assert exec_on(board, "import machine\nprint(machine.mem_backup(1)[0], machine.mem_backup(0)[0])") == "82 7"
        board.hard_reset()
        assert exec_on(board, "import machine\nprint(machine.mem_backup(1)[0])") == "82"
        t = SerialTransport(board.port)
        try:  # a program that never ends, stopped with Ctrl-C: the VM is replaced
            t.enter_raw_repl()
            t.exec_raw_no_follow("while True:\n    pass\n")
        finally:
            t.close()
        assert exec_on(board, "import machine\nprint(machine.mem_backup(1)[0])") == "82"
    with VirtualBoard(str(tmp_path)) as board:  # power-on: the registers are cleared
        assert exec_on(board, "import machine\nprint(machine.mem_backup(1)[0], machine.mem_backup(0)[0])") == "0 0"


@pytest.mark.parametrize("code", ["machine.mem_backup(2)", "machine.mem_backup(1)[1] = 0"])
def test_a_region_or_index_that_is_not_there_is_refused(tmp_path: Path, code: str) -> None:
    with VirtualBoard(str(tmp_path)) as board:
        with pytest.raises(TransportExecError) as e:
            exec_on(board, "import machine\n" + code)
        assert ("ValueError" in e.value.error_output) or ("IndexError" in e.value.error_output)
