"""Commits advance in offset order only: one past the longest finished prefix."""

import pytest

from events_api.triggers.local.offsets import OffsetTracker

# (started offsets, finished offsets in order, committable after each finish)
CASES = [
    ([5], [5], [6]),
    ([5, 6, 7], [5, 6, 7], [6, 7, 8]),
    # A stuck record holds back everything after it, then releases it all at once.
    ([5, 6, 7], [7, 6, 5], [None, None, 8]),
    ([5, 6, 7], [6, 5, 7], [None, 7, 8]),
    # Gaps in offsets (compacted topics, transaction markers) are fine.
    ([10, 12, 20], [12, 10, 20], [None, 13, 21]),
]


@pytest.mark.parametrize(("started", "finished", "committable"), CASES)
def test_committable_is_one_past_the_finished_prefix(
    started: list[int], finished: list[int], committable: list[int | None]
) -> None:
    tracker = OffsetTracker()
    for offset in started:
        tracker.started(offset)
    seen = []
    for offset in finished:
        tracker.finished(offset)
        seen.append(tracker.committable)
    assert seen == committable
    assert tracker.in_flight == 0


def test_nothing_committable_before_anything_finished() -> None:
    tracker = OffsetTracker()
    tracker.started(1)
    assert tracker.committable is None
    assert tracker.in_flight == 1


def test_offsets_must_increase() -> None:
    tracker = OffsetTracker()
    tracker.started(5)
    tracker.finished(5)
    with pytest.raises(ValueError, match="must increase"):
        tracker.started(4)
