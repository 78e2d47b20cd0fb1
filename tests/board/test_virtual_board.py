"""The virtual board against a real MicroPython VM and a real pty, through pyserial and mpremote."""

from __future__ import annotations

import hashlib
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from mpremote.transport import TransportExecError
from mpremote.transport_serial import SerialTransport

from host.board import VirtualBoard
from host.board.virtual_board import BARE_ALLOC

BANNER_END = b'Type "help()" for more information.\r\n>>> '
RAW_HEADER = b"raw REPL; CTRL-B to exit\r\n>"
ROOT = Path(__file__).resolve().parents[2]


def read_until(port: serial.Serial, ending: bytes, timeout: float = 5.0) -> bytes:
    """Read until `ending`; fail with what was read when it does not come."""
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(ending):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {ending!r} within {timeout} s; got {data[-400:]!r}")
        data += port.read(1)
    return data


def sync(port: serial.Serial) -> None:
    """Get to a known point at the friendly REPL.

    Opening the port (pyserial flushes its input) may or may not have thrown away the boot
    banner, as with a real board: evaluate something and read up to its result.
    """
    port.write(b"'sy' + 'nc'\r")
    read_until(port, b"'sync'\r\n>>> ")


def open_port(board: VirtualBoard) -> serial.Serial:
    port = serial.Serial(board.port, timeout=0.05)
    sync(port)
    return port


@pytest.fixture
def flash(tmp_path: Path) -> Path:
    d = tmp_path / "flash"
    d.mkdir()
    return d


@pytest.fixture
def board(flash: Path) -> Iterator[VirtualBoard]:
    with VirtualBoard(str(flash)) as b:
        yield b


@pytest.fixture
def port(board: VirtualBoard) -> Iterator[serial.Serial]:
    with open_port(board) as s:
        yield s


@pytest.fixture
def transport(board: VirtualBoard) -> Iterator[SerialTransport]:
    t = SerialTransport(board.port)
    try:
        t.enter_raw_repl()
        yield t
    finally:
        t.close()


# -- friendly REPL ------------------------------------------------------------------------
def test_start_gives_a_pty_path_and_the_banner(board: VirtualBoard, flash: Path) -> None:
    assert board.port.startswith("/dev/pts/")
    assert board.flash_dir == str(flash)
    with open_port(board) as s:
        s.write(b"\x02")
        banner = read_until(s, BANNER_END)
    assert banner.startswith(b"\r\nMicroPython v1.")


def test_friendly_repl_evaluates_an_expression(port: serial.Serial) -> None:
    port.write(b"1+1\r")
    assert read_until(port, b">>> ") == b"1+1\r\n2\r\n>>> "


def test_friendly_repl_compound_statement_ctrl_c_and_ctrl_b(port: serial.Serial) -> None:
    port.write(b"for i in range(3):\r")
    assert read_until(port, b"...     ") == b"for i in range(3):\r\n...     "
    port.write(b"print(i * 10)\r\r\r\r")
    assert b"0\r\n10\r\n20\r\n>>> " in read_until(port, b"20\r\n>>> ")
    port.write(b"abc\x03")
    assert read_until(port, b">>> ") == b"abc\r\n>>> "
    port.write(b"\x02")
    assert read_until(port, BANNER_END).startswith(b"\r\nMicroPython v1.")


def test_friendly_repl_shows_tracebacks_and_keeps_state(port: serial.Serial) -> None:
    port.write(b"x = 41\r")
    read_until(port, b">>> ")
    port.write(b"x + 1\r")
    assert b"42\r\n" in read_until(port, b">>> ")
    port.write(b"1/0\r")
    out = read_until(port, b">>> ")
    assert b'Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\n' in out
    assert b"ZeroDivisionError: divide by zero\r\n>>> " in out


# -- raw REPL and raw-paste -----------------------------------------------------------------
def enter_raw(port: serial.Serial) -> None:
    port.write(b"\r\x01")
    read_until(port, RAW_HEADER)


def raw_exec(port: serial.Serial, code: bytes) -> tuple[bytes, bytes]:
    port.write(code + b"\x04")
    read_until(port, b"OK")
    out = read_until(port, b"\x04")[:-1]
    err = read_until(port, b"\x04")[:-1]
    assert port.read(1) == b">"
    return out, err


def test_raw_repl_exec_stdout(port: serial.Serial) -> None:
    enter_raw(port)
    assert raw_exec(port, b"print('hello')\nprint(6 * 7)") == (b"hello\r\n42\r\n", b"")


def test_raw_repl_exec_exception_goes_to_stderr(port: serial.Serial) -> None:
    enter_raw(port)
    out, err = raw_exec(port, b"print('before')\ndef f():\n    raise ValueError('boom')\nf()")
    assert out == b"before\r\n"
    assert err == (
        b"Traceback (most recent call last):\r\n"
        b'  File "<stdin>", line 4, in <module>\r\n'
        b'  File "<stdin>", line 3, in f\r\n'
        b"ValueError: boom\r\n"
    )


def test_raw_repl_ctrl_b_leaves_to_the_friendly_repl(port: serial.Serial) -> None:
    enter_raw(port)
    port.write(b"\x02")
    assert read_until(port, BANNER_END).startswith(b"\r\nMicroPython v1.")
    port.write(b"2**10\r")
    assert b"1024\r\n" in read_until(port, b">>> ")


def long_program(size: int) -> tuple[bytes, int, int]:
    """A program of about `size` bytes; it prints its sum and line count."""
    lines = [b"total = 0"]
    i = 0
    while sum(len(line) + 1 for line in lines) < size:
        lines.append(b"total += %d  # filler text to make the program long" % i)
        i += 1
    lines.append(b"print(total, %d)" % i)
    return b"\n".join(lines) + b"\n", sum(range(i)), i


@pytest.mark.parametrize("window", [32, 128])
def test_raw_paste_of_a_long_program_with_flow_control(flash: Path, window: int) -> None:
    program, total, count = long_program(6000)
    with VirtualBoard(str(flash), raw_paste_window=window) as b, open_port(b) as s:
        enter_raw(s)
        s.write(b"\x05A\x01")
        assert read_until(s, b"R\x01", timeout=2) == b"R\x01"
        header = s.read(3)
        assert struct.unpack("<H", header[:2])[0] == window and header[2:] == b"\x01"
        credit, sent, acks = 2 * window, 0, 0
        while sent < len(program):
            while credit == 0 or s.in_waiting:
                assert read_until(s, b"\x01") == b"\x01"
                credit += window
                acks += 1
            chunk = program[sent : sent + credit]
            s.write(chunk)
            sent += len(chunk)
            credit -= len(chunk)
        s.write(b"\x04")
        assert read_until(s, b"\x04").replace(b"\x01", b"") == b"\x04"
        out = read_until(s, b"\x04")[:-1]
        err = read_until(s, b"\x04")[:-1]
        assert (out, err) == (b"%d %d\r\n" % (total, count), b"")
        assert s.read(1) == b">"
        assert acks >= len(program) // window - 3


def test_raw_paste_ctrl_c_cancels(port: serial.Serial) -> None:
    enter_raw(port)
    port.write(b"\x05A\x01")
    read_until(port, b"R\x01")
    port.read(3)
    port.write(b"print('never')\x03")
    assert read_until(port, b">") == b"\x04\x04KeyboardInterrupt: \r\n\x04>"
    assert raw_exec(port, b"print('next')") == (b"next\r\n", b"")


# -- mpremote --------------------------------------------------------------------------------
def test_mpremote_exec_and_eval(transport: SerialTransport) -> None:
    assert transport.exec("print('hi')") == b"hi\r\n"
    assert transport.eval("[1, 2] * 2") == [1, 2, 1, 2]
    with pytest.raises(TransportExecError) as info:
        transport.exec("import nosuchmodule")
    assert "ImportError" in info.value.error_output


def test_mpremote_exec_of_a_long_program(transport: SerialTransport) -> None:
    program, total, count = long_program(8000)
    assert transport.exec(program) == b"%d %d\r\n" % (total, count)


def test_mpremote_file_round_trip_hash_listdir_stat(transport: SerialTransport, flash: Path) -> None:
    data = os.urandom(3000) + bytes(range(256))
    transport.fs_writefile("/flash/blob.bin", data)
    assert (flash / "blob.bin").read_bytes() == data
    assert bytes(transport.fs_readfile("/flash/blob.bin")) == data
    assert transport.fs_hashfile("/flash/blob.bin", "sha256") == hashlib.sha256(data).digest()
    transport.fs_mkdir("/flash/lib")
    names = {entry.name: entry for entry in transport.fs_listdir("/flash")}
    assert set(names) == {"blob.bin", "lib"}
    assert names["blob.bin"].st_size == len(data)  # as littlefs/FAT on a board report it
    assert names["lib"].st_mode & 0x4000
    assert transport.fs_stat("/flash/blob.bin").st_size == len(data)
    assert transport.fs_isdir("/flash/lib") and not transport.fs_exists("/flash/nothing")


def test_files_are_relative_to_flash_which_is_the_cwd(transport: SerialTransport, flash: Path) -> None:
    assert transport.eval("__import__('os').getcwd()") == "/flash"
    transport.exec("f = open('note.txt', 'w')\nf.write('x')\nf.close()")
    assert (flash / "note.txt").read_text() == "x"
    (flash / "helper.py").write_text("VALUE = 7\n")
    assert transport.eval("__import__('helper').VALUE") == 7


# -- soft reset, boot.py, main.py -------------------------------------------------------------
def test_soft_reset_runs_boot_and_main_from_flash(board: VirtualBoard, flash: Path) -> None:
    (flash / "boot.py").write_text("print('boot.py ran')\n")
    (flash / "main.py").write_text(
        "import os\nprint('main.py ran in', os.getcwd())\n"
        "f = open('main_was_here.txt', 'w')\nf.write('yes')\nf.close()\n"
    )
    with open_port(board) as s:
        s.write(b"\x04")
        out = read_until(s, BANNER_END)
    assert out.startswith(b"\r\nMPY: soft reboot\r\nboot.py ran\r\nmain.py ran in /flash\r\n")
    assert (flash / "main_was_here.txt").read_text() == "yes"


def test_soft_reset_from_raw_repl_runs_boot_py_only_and_stays_raw(
    board: VirtualBoard, flash: Path
) -> None:
    (flash / "boot.py").write_text("print('boot.py ran')\n")
    (flash / "main.py").write_text("print('main.py ran')\n")
    with open_port(board) as s:
        enter_raw(s)
        s.write(b"\x04")
        out = read_until(s, RAW_HEADER)
    assert out == b"OK\r\nMPY: soft reboot\r\nboot.py ran\r\n" + RAW_HEADER


def test_heap_is_fresh_after_soft_reset(transport: SerialTransport) -> None:
    transport.exec("leftover = 42")
    assert transport.eval("'leftover' in globals()") is True
    transport.enter_raw_repl(soft_reset=True)
    assert transport.eval("'leftover' in globals()") is False


def test_sys_exit_soft_resets(port: serial.Serial) -> None:
    port.write(b"import sys\r")
    read_until(port, b">>> ")
    port.write(b"sys.exit()\r")
    assert b"MPY: soft reboot\r\n" in read_until(port, BANNER_END)


def test_sys_exit_in_main_py_ends_it_without_a_reset_loop(board: VirtualBoard, flash: Path) -> None:
    (flash / "main.py").write_text("import sys\nprint('main.py exits')\nsys.exit()\n")
    with open_port(board) as s:
        s.write(b"\x04")
        out = read_until(s, BANNER_END)
        assert out == b"\r\nMPY: soft reboot\r\nmain.py exits\r\n" + out[out.index(b"MicroPython") :]
        s.write(b"1+1\r")
        assert read_until(s, b">>> ") == b"1+1\r\n2\r\n>>> "


def test_a_crashed_vm_is_restarted_into_the_friendly_repl(port: serial.Serial) -> None:
    port.write(b"import uctypes\r")
    read_until(port, b">>> ")
    port.write(b"uctypes.bytearray_at(8, 8)[0]\r")  # reads address 8: the VM process segfaults
    out = read_until(port, b">>> ")
    assert out.endswith(
        b"VMFault: the MicroPython VM stopped (killed by SIGSEGV); "
        b"restarted with a fresh heap\r\n>>> "
    )
    port.write(b"6*7\r")
    assert read_until(port, b">>> ") == b"6*7\r\n42\r\n>>> "


def test_a_crash_in_raw_repl_code_is_the_commands_error(transport: SerialTransport) -> None:
    transport.exec("keep = 1")
    with pytest.raises(TransportExecError) as info:
        transport.exec("import uctypes\nuctypes.bytearray_at(8, 8)[0]")
    assert info.value.error_output == (
        "VMFault: the MicroPython VM stopped (killed by SIGSEGV); "
        "restarted with a fresh heap\r\n"
    )
    assert transport.eval("'keep' in globals()") is False
    assert transport.eval("6 * 7") == 42


def test_the_repl_survives_garbage_collections(flash: Path) -> None:
    # The case that broke the WASI build: a function whose frame lives on the GC heap (many
    # locals and a loop) while collections run. Its locals must survive.
    big_frame = (
        "def f():\n"
        "    a = b = c = d = e = g = h = k = 1\n"
        "    s = 0\n"
        "    for i in range(2000):\n"
        "        s += len(bytearray(300)) + a + b + c + d + e + g + h + k\n"
        "    return s\n"
        "print(f())"
    )
    with VirtualBoard(str(flash), heap_size=64 * 1024) as b:
        t = SerialTransport(b.port)
        try:
            t.enter_raw_repl()
            assert t.exec(big_frame) == b"%d\r\n" % (2000 * 308)
            t.exec("keep = [1, 2, 3]")
            for _ in range(5):
                t.exec("import gc\ngc.collect()")
                t.exec("x = 0\nfor i in range(3000):\n    x += len(bytearray(200))")  # many collections
                with pytest.raises(TransportExecError) as info:
                    t.exec("y = bytearray(70000)")
                assert "MemoryError: memory allocation failed" in info.value.error_output
                assert t.eval("keep") == [1, 2, 3]
            data = os.urandom(20_000)
            t.fs_writefile("/flash/data.bin", data)
            assert bytes(t.fs_readfile("/flash/data.bin")) == data
        finally:
            t.close()


def test_hard_reset_runs_main_again(board: VirtualBoard, flash: Path) -> None:
    (flash / "main.py").write_text("print('main.py ran')\n")
    with open_port(board) as s:
        board.hard_reset()
        out = read_until(s, BANNER_END)
        assert out.startswith(b"main.py ran\r\nMicroPython") and b"soft reboot" not in out
        board.hard_reset()
        assert read_until(s, BANNER_END) == out


def test_hard_reset_clears_the_heap(board: VirtualBoard) -> None:
    t = SerialTransport(board.port)
    try:
        t.enter_raw_repl(soft_reset=False)
        t.exec("leftover = 1")
        board.hard_reset()
        t.enter_raw_repl(soft_reset=False)
        assert t.eval("'leftover' in globals()") is False
    finally:
        t.close()


# -- Ctrl-C ---------------------------------------------------------------------------------
def test_ctrl_c_stops_a_runaway_main_py_and_mpremote_gets_in(flash: Path) -> None:
    (flash / "main.py").write_text("print('spinning')\nwhile True:\n    pass\n")
    with VirtualBoard(str(flash)) as b:
        with serial.Serial(b.port, timeout=0.05) as s:
            b.hard_reset()  # boot output from before the port was opened may be gone
            read_until(s, b"spinning\r\n")
            s.write(b"\x03")
            assert b"KeyboardInterrupt: \r\nMicroPython" in read_until(s, BANNER_END)
        # and from cold, as mpremote does against a board running a runaway main.py
        b.hard_reset()
        t = SerialTransport(b.port)
        try:
            t.enter_raw_repl()  # Ctrl-C, Ctrl-A, Ctrl-D (soft reset: main.py not run)
            assert t.eval("1 + 1") == 2
        finally:
            t.close()


def test_ctrl_c_stops_runaway_raw_repl_code(transport: SerialTransport) -> None:
    transport.exec_raw_no_follow("while True:\n    pass")
    time.sleep(0.2)
    transport.serial.write(b"\x03")
    assert transport.follow(5) == (b"", b"KeyboardInterrupt: \r\n")
    assert transport.eval("'alive'") == "alive"


def test_ctrl_c_stops_friendly_repl_code_in_a_long_sleep(port: serial.Serial) -> None:
    port.write(b"import time\r")
    read_until(port, b">>> ")
    port.write(b"time.sleep(60)\r")
    read_until(port, b"time.sleep(60)\r\n")
    started = time.monotonic()
    port.write(b"\x03")
    assert read_until(port, b">>> ") == b"KeyboardInterrupt: \r\n>>> "
    assert time.monotonic() - started < 1.0


def test_ctrl_c_at_a_prompt_keeps_the_heap(transport: SerialTransport) -> None:
    transport.exec("kept = 'yes'")
    transport.enter_raw_repl(soft_reset=False)  # sends Ctrl-C at the raw prompt
    assert transport.eval("kept") == "yes"


# -- user code that owns the serial port ------------------------------------------------------
ECHO_MAIN = """\
import sys
r = sys.stdin.buffer.readinto
w = sys.stdout.buffer.write
b = bytearray(16)
while True:
    r(b)
    w(b)
"""


def test_main_py_reading_stdin_gets_every_byte_but_ctrl_c_unchanged(flash: Path) -> None:
    (flash / "main.py").write_text(ECHO_MAIN)
    payload = bytes(b for b in range(256) if b != 3) * 4
    payload += bytes(16 - len(payload) % 16)
    with VirtualBoard(str(flash)) as b, serial.Serial(b.port, timeout=0.05) as s:
        b.hard_reset()  # from here on, all output is the echo
        s.write(payload)
        got = b""
        deadline = time.monotonic() + 5
        while len(got) < len(payload) and time.monotonic() < deadline:
            got += s.read(len(payload) - len(got))
        assert got == payload
        s.write(b"\x03")  # and it still stops for Ctrl-C
        assert read_until(s, BANNER_END).startswith(b"KeyboardInterrupt: \r\nMicroPython")


def test_echo_round_trips_are_fast(flash: Path) -> None:
    (flash / "main.py").write_text(ECHO_MAIN)
    message = bytes(range(0x40, 0x50))
    with VirtualBoard(str(flash)) as b, serial.Serial(b.port, timeout=2) as s:
        b.hard_reset()
        for _ in range(50):
            s.write(message)
            assert s.read(16) == message
        n, started = 1000, time.perf_counter()
        for _ in range(n):
            s.write(message)
            assert s.read(16) == message
        rate = n / (time.perf_counter() - started)
    assert rate > 1000, f"{rate:.0f} round trips/s"


# -- stopping never hangs ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "main_py",
    [
        "while True:\n    pass\n",
        "import time\ntime.sleep(3600)\n",
        "import sys\nsys.stdin.buffer.read(10)\n",
        "while True:\n    print('flood' * 50)\n",
    ],
    ids=["spin", "sleep", "stdin", "flood-nobody-reads"],
)
def test_stop_returns_promptly_whatever_user_code_does(flash: Path, main_py: str) -> None:
    (flash / "main.py").write_text(main_py)
    others = set(threading.enumerate())  # a session's board of other tests may be running

    def own_threads() -> list[str]:
        return [t.name for t in threading.enumerate()
                if t not in others and t.name.startswith(("vboard", "virtual-board"))]
    b = VirtualBoard(str(flash))
    b.start()
    time.sleep(0.3)
    started = time.monotonic()
    b.stop()
    assert time.monotonic() - started < 5  # not stuck behind the user code (it returns at once)
    deadline = time.monotonic() + 2
    while own_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert own_threads() == []


def test_heap_size_sets_the_micropython_heap(flash: Path) -> None:
    with VirtualBoard(str(flash), heap_size=64 * 1024) as b:
        t = SerialTransport(b.port)
        try:
            t.enter_raw_repl()
            free = t.eval("__import__('gc').mem_free()")
            # what the board leaves at the prompt, less what this command itself allocated
            assert 64 * 1024 - 4096 < free <= 64 * 1024 - BARE_ALLOC
            with pytest.raises(TransportExecError, match="MemoryError"):
                t.exec("x = bytearray(64 * 1024)")
            assert t.eval("len(bytearray(32 * 1024))") == 32 * 1024  # collected, usable again
        finally:
            t.close()
    with pytest.raises(ValueError):
        VirtualBoard(heap_size=4 * 1024)


def test_temporary_flash_is_created_and_removed() -> None:
    b = VirtualBoard()
    b.start()
    flash = b.flash_dir
    assert os.path.isdir(flash)
    b.stop()
    assert not os.path.exists(flash)


def test_two_boards_are_independent(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "main.py").write_text("while True:\n    pass\n")
    with VirtualBoard(str(tmp_path / "a")) as spinning, VirtualBoard(str(tmp_path / "b")) as idle:
        t = SerialTransport(idle.port)
        try:
            t.enter_raw_repl(soft_reset=False)
            t.exec("kept = 1")
            with serial.Serial(spinning.port, timeout=0.05) as s:
                s.write(b"\x03")  # stops the VM of the other board only
                read_until(s, BANNER_END)
            assert t.eval("kept") == 1
        finally:
            t.close()


# -- the CLI entry point ----------------------------------------------------------------------
@pytest.mark.slow
def test_run_board_command_serves_until_sigterm(tmp_path: Path) -> None:
    code = "import sys; from host.board import run_board_command; sys.exit(run_board_command(sys.argv[1]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path / "flash")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("virtual board on /dev/pts/") and "Ctrl-C to stop" in line
        port_path = line.split()[3]
        t = SerialTransport(port_path)
        try:
            t.enter_raw_repl()
            assert t.eval("6 * 7") == 42
        finally:
            t.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_empty_path_is_the_working_directory_as_in_a_boards_vfs(transport: SerialTransport) -> None:
    # mpremote's `cp -r DIR :` stats '' (the destination) and needs a directory
    assert transport.eval("__import__('os').stat('')[0] & 0x4000") == 0x4000
    assert transport.eval("__import__('os').listdir('')") == transport.eval("__import__('os').listdir()")
    assert transport.fs_isdir("")
