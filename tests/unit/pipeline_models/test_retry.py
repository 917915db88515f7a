"""Step retry policies."""

import pytest

from pipeline_models import RetryPolicy, StepId, backoff_seconds, status_accepted
from pipeline_models.retry import retry_policy_problem
from pipeline_models.steps import HttpStep, StatusRange


@pytest.mark.parametrize(
    ("failed", "expected"), [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (6, 10.0), (1000, 10.0)]
)
def test_backoff_grows_and_is_capped(failed: int, expected: float) -> None:
    assert backoff_seconds(RetryPolicy(), failed_attempts=failed) == expected


def test_constant_backoff() -> None:
    policy = RetryPolicy(backoff_multiplier=1.0, initial_backoff_seconds=2.0)
    assert [backoff_seconds(policy, failed_attempts=n) for n in (1, 2, 3)] == [2.0, 2.0, 2.0]


def test_policy_consistency() -> None:
    assert retry_policy_problem(RetryPolicy()) is None
    bad = RetryPolicy(initial_backoff_seconds=5.0, max_backoff_seconds=1.0)
    assert retry_policy_problem(bad) is not None


@pytest.mark.parametrize(
    ("status", "accepted"), [(200, True), (204, True), (299, True), (302, False), (418, True)]
)
def test_status_accepted(status: int, accepted: bool) -> None:
    step = HttpStep(
        id=StepId("h"), url="https://x", accept_status=(StatusRange(min=200, max=299), 418)
    )
    assert status_accepted(step, status) is accepted
