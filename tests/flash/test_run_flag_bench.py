"""benchmarks/run_flag_bench.py runs the firmware's run flag on the file systems of a real board's
/flash (littlefs v1, v2) and the virtual board's, with and without a retained register: with
the nrf port's (machine.mem_backup) a reset in the middle of an entry is found on littlefs v2 and
the flag costs the flash no erase; the harness counts erases and sees a flag that persists."""
from __future__ import annotations

from benchmarks.run_flag_bench import figures


def test_with_a_retained_register_the_flag_survives_a_reset_and_spares_the_flash() -> None:
    got = figures()
    assert got["run_flag_found_after_reset_lfs2_register"] == 1, got
    assert got["run_flag_erases_per_1000_entries_lfs2_register"] == 0, got
    assert got["run_flag_found_after_reset_posix"] == 1, got
    # the harness sees what a file flag costs: littlefs v1 rewrites a block at every write
    assert got["run_flag_erases_per_1000_entries_lfs1"] > 0, got
    # littlefs v2's open file holds its cache (128 bytes at the default sizes) beside its state
    assert got["run_flag_heap_bytes_lfs2"] >= got["run_flag_heap_bytes_posix"] + 128, got
