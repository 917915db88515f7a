"""Which answers are retried, and the backoff schedule: Knative's formulas, capped and jittered."""

import pytest

from events_api.triggers.local.retrying import BackoffSchedule, is_retryable, is_success


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (None, True),
        (500, True),
        (503, True),
        (599, True),
        (404, True),
        (408, True),
        (409, True),
        (429, True),
        (400, False),
        (401, False),
        (403, False),
        (410, False),
        (413, False),
        (422, False),
        (301, False),
    ],
)
def test_retried_statuses(status: int | None, retried: bool) -> None:
    assert is_retryable(status) is retried


@pytest.mark.parametrize(
    ("status", "success"), [(200, True), (204, True), (299, True), (300, False)]
)
def test_success_is_below_300(status: int, success: bool) -> None:
    assert is_success(status) is success


@pytest.mark.parametrize(
    ("policy", "delay", "cap", "waits"),
    [
        ("linear", 0.5, 600.0, [0.5, 1.0, 1.5, 2.0]),
        ("exponential", 0.3, 600.0, [0.6, 1.2, 2.4, 4.8]),
        ("exponential", 1.0, 5.0, [2.0, 4.0, 5.0, 5.0]),
        ("linear", 2.0, 3.0, [2.0, 3.0, 3.0, 3.0]),
    ],
)
def test_ceilings_follow_knative_then_the_cap(
    policy: str, delay: float, cap: float, waits: list[float]
) -> None:
    schedule = BackoffSchedule(policy=policy, delay=delay, retry=4, cap=cap)  # type: ignore[arg-type]
    assert [schedule.ceiling(n) for n in range(1, 5)] == pytest.approx(waits)
    assert schedule.attempts == 5


def test_the_default_schedule_is_knatives_614_seconds() -> None:
    schedule = BackoffSchedule(policy="exponential", delay=0.3, retry=10, cap=600.0)
    assert sum(schedule.ceiling(n) for n in range(1, 11)) == pytest.approx(613.8)


def test_huge_exponents_stay_finite() -> None:
    schedule = BackoffSchedule(policy="exponential", delay=3600, retry=100, cap=600.0)
    assert schedule.ceiling(100) == 600.0


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 4.0), (0.5, 3.6), (0.999999, 3.2)])
def test_jitter_only_shortens(draw: float, expected: float) -> None:
    schedule = BackoffSchedule(policy="linear", delay=2.0, retry=3, cap=600.0, jitter=0.2)
    assert schedule.wait(2, random=lambda: draw) == pytest.approx(expected, rel=1e-5)
