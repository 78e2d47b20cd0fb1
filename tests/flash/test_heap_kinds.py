"""benchmarks/flash_bench.py's `heap --kinds`: the firmware's heap (32-bit, ROMFS) by kind of
object accounts for the whole figure, and names the name table's pools apart from the rest."""
from __future__ import annotations

from benchmarks.flash_bench import heap_32bit, heap_kinds_32bit


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
