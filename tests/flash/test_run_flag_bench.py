"""benchmarks/run_flag_bench.py runs the firmware's run flag on the file systems of a real board's
/flash (littlefs v1, v2) and the virtual board's: the harness sees a flag that persists (the
virtual board's VfsPosix) and counts the flash's erases."""
from __future__ import annotations

from benchmarks.run_flag_bench import figures


def test_the_harness_finds_a_flag_that_persists_and_counts_erases() -> None:
    got = figures()
    assert got["run_flag_found_after_reset_posix"] == 1, got
    # littlefs v1 rewrites a block at every write (no cache): the device's erase count moves
    assert got["run_flag_erases_per_1000_entries_lfs1"] > 0, got
    assert set(got) == {f"run_flag_{what}_{fs}" for fs in ("lfs1", "lfs2") for what in
                        ("erases_per_1000_entries", "found_after_reset", "heap_bytes")} | {
        "run_flag_found_after_reset_posix", "run_flag_heap_bytes_posix"}
    # littlefs v2's open file holds its cache (128 bytes at the default sizes) beside its state
    assert got["run_flag_heap_bytes_lfs2"] >= got["run_flag_heap_bytes_posix"] + 128, got
