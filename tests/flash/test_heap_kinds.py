"""benchmarks/flash_bench.py's `heap --kinds`: the firmware's heap (32-bit, ROMFS) by kind of
object accounts for the whole figure, and names the name table's pools apart from the rest;
`heap --split`: by module, with the pools apart too (no step holds one)."""
from __future__ import annotations

from benchmarks.flash_bench import heap_32bit, heap_kinds_32bit, heap_split_32bit


def test_the_kinds_add_up_to_the_firmware_heap() -> None:
    kinds = heap_kinds_32bit()
    count = kinds.pop("heap_32bit_kind_names_count")
    total = heap_32bit(True)
    # the kinds' probe interns a few names more (micropython, its calls): a block or four
    assert 0 <= sum(kinds.values()) - total <= 64, (kinds, total)
    assert all(v >= 0 for v in kinds.values()), kinds
    # the pools hold ~7 bytes a name (hash, length, pointer), allocated ahead in doubling steps
    assert 7 * count <= kinds["heap_32bit_kind_names"] + 7 * 20 <= 7 * 2 * count + 400, kinds
    assert kinds["heap_32bit_kind_functions"] >= 16 * 40  # the SDK alone defines more functions


def test_the_split_leaves_the_pools_to_the_names_line() -> None:
    total = heap_32bit(True)
    split = heap_split_32bit(total)
    names = split.pop("heap_32bit_names")
    pools = heap_kinds_32bit()["heap_32bit_kind_names"]
    # what the names take beside the steps is the pools the kinds see (and the text of the
    # names the import system makes, module paths): had a step allocated a pool, the 80- or
    # 160-entry one (592, 1 152 bytes), it would be missing here
    assert pools - 64 <= names <= pools + 256, (split, names, pools)
    assert all(-64 <= v < 2500 for v in split.values()), split
    assert split["heap_32bit_microapp"] > 16 * 40 and split["heap_32bit_Board()"] >= 4 * 98
