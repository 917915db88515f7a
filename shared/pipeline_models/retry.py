"""A step's retry policy: retry as data on the step, and the pure backoff schedule.

The runner retries a step only for *transient* failures (connection errors, timeouts, 5xx, 408,
429); permanent failures (a 4xx from an HTTP step with ``permanent_on_4xx``, an expression that
cannot be evaluated) fail at once. Attempts stay within the pipeline deadline whatever the policy
says, so a generous policy cannot outlive the Knative request.
"""

from typing import Annotated

import msgspec

MAX_ATTEMPTS = 10
MAX_BACKOFF_SECONDS = 300.0


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How often and how patiently a step is retried after a transient failure."""

    max_attempts: Annotated[int, msgspec.Meta(ge=1, le=MAX_ATTEMPTS)] = 1
    """Attempts in total, the first included; 1 (the default) means no retry."""
    initial_backoff_seconds: Annotated[float, msgspec.Meta(ge=0, le=60)] = 0.5
    """Wait before the second attempt."""
    max_backoff_seconds: Annotated[float, msgspec.Meta(ge=0, le=MAX_BACKOFF_SECONDS)] = 10.0
    """Upper bound of any single wait; must not be below ``initial_backoff_seconds``."""
    backoff_multiplier: Annotated[float, msgspec.Meta(ge=1, le=10)] = 2.0
    """Each wait is the previous one times this (1 = constant backoff)."""


def backoff_seconds(policy: RetryPolicy, *, failed_attempts: int) -> float:
    """The wait before the next attempt, after ``failed_attempts`` (≥ 1) failures.

    Deterministic (no jitter): ``initial * multiplier**(failed_attempts - 1)``, capped.
    """
    exponent = max(failed_attempts - 1, 0)
    # Cap the exponent: the result is capped anyway and huge powers only overflow floats.
    raw = policy.initial_backoff_seconds * policy.backoff_multiplier ** min(exponent, 64)
    return min(raw, policy.max_backoff_seconds)


def retry_policy_problem(policy: RetryPolicy) -> str | None:
    """Say what is inconsistent in ``policy`` (its field ranges are checked on decoding)."""
    if policy.max_backoff_seconds < policy.initial_backoff_seconds:
        return (
            f"max_backoff_seconds ({policy.max_backoff_seconds}) must not be below "
            f"initial_backoff_seconds ({policy.initial_backoff_seconds})"
        )
    return None
