"""The watches' reconnection backoff: exponential, capped, fully jittered."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events_api.triggers.backoff import Backoff


def test_the_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=4.0)
    assert [backoff.ceiling(n) for n in range(7)] == [0.0, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_the_jitter_spans_zero_to_the_ceiling() -> None:
    backoff = Backoff(base=1.0, cap=30.0)
    assert backoff.delay(3, random=lambda: 0.0) == 0.0
    assert backoff.delay(3, random=lambda: 0.5) == 2.0
    assert backoff.delay(3, random=lambda: 0.999) < backoff.ceiling(3)


@given(
    failures=st.integers(min_value=-5, max_value=10_000),
    draw=st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
    cap=st.floats(min_value=0.01, max_value=3600.0),
)
def test_a_delay_is_never_negative_nor_above_the_cap(
    failures: int, draw: float, cap: float
) -> None:
    delay = Backoff(base=0.5, cap=cap).delay(failures, random=lambda: draw)
    assert 0.0 <= delay <= cap


@given(failures=st.integers(min_value=0, max_value=200))
def test_the_ceiling_never_shrinks_as_failures_grow(failures: int) -> None:
    backoff = Backoff(base=0.25, cap=30.0)
    assert backoff.ceiling(failures) <= backoff.ceiling(failures + 1)


@pytest.mark.parametrize("draw", [0.0, 0.5, 0.999])
def test_half_jitter_stays_in_the_upper_half(draw: float) -> None:
    backoff = Backoff(base=1.0, cap=30.0)
    for failures in range(1, 10):
        ceiling = backoff.ceiling(failures)
        assert ceiling / 2 <= backoff.half_jittered(failures, random=lambda: draw) <= ceiling
