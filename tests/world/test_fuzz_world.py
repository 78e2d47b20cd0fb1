"""The fuzzer reaches every world type, and the host never raises on what it writes."""
import pytest

from benchmarks.fuzz_requests import WORLD_TYPES, fuzz


@pytest.mark.slow
def test_fuzzing_covers_the_world_types_without_a_host_exception():
    figures = fuzz(20_000, seed=3)
    assert figures["host_exceptions"] == 0, figures["first_exception"]
    assert figures["world_types_reached"] == len(WORLD_TYPES) == 9
    assert figures["world_requests_handled"] > 1000
    assert figures["uncounted_events"] == 0
