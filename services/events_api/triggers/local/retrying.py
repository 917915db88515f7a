"""The KafkaSource's retry rules, as pure functions: what is retried, and how long to wait.

* Success is any status below 300. Retried: 5xx, 404, 408, 409, 429, and no answer at all
  (connection refused or reset, timeouts). Every other status is final: the record goes to the
  dead letter at once (KNATIVE.md, "Retries and offsets"). `Retry-After` is ignored, as there.
* Attempts are 1 + `retry`. The wait before retry n (n = 1, 2, …) is linear `delay * n` or
  exponential `delay * 2**n`, as Knative computes it — then capped at `cap` (Knative has no cap;
  the default schedule never reaches the local backend's: 0.3 s * 2**10 = 307 s) and jittered
  downwards: a uniform draw in `[(1 - jitter) * w, w]`. So a wait is never longer than Knative's,
  the whole schedule stays within `delivery_backoff_total_seconds`, and many records failing at
  once do not retry in lock-step.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

Random = Callable[[], float]
"""A source of floats in [0, 1), like `random.random` (injected so tests pin it)."""

RETRIED_STATUSES: Final = frozenset({404, 408, 409, 429})
_MAX_EXPONENT: Final = 62


def is_success(status: int) -> bool:
    """Whether a runner's answer ends the delivery successfully (any status below 300)."""
    return status < 300


def is_retryable(status: int | None) -> bool:
    """Whether a failed attempt is retried: 5xx, 404, 408, 409, 429, or no answer (None)."""
    return status is None or status >= 500 or status in RETRIED_STATUSES


@dataclass(frozen=True, slots=True, kw_only=True)
class BackoffSchedule:
    """A pipeline's delivery backoff, with the local backend's cap and jitter."""

    policy: Literal["linear", "exponential"]
    delay: float
    """The formula's `delay`, in seconds."""
    retry: int
    """Retries after the first attempt."""
    cap: float
    """The longest single wait, in seconds."""
    jitter: float = 0.0
    """Fraction of a wait that may be cut off at random (0: the exact formula)."""

    @property
    def attempts(self) -> int:
        """Attempts in all: the first, then each retry."""
        return 1 + self.retry

    def ceiling(self, retry_number: int) -> float:
        """The formula's wait before retry `retry_number` (1-based), capped."""
        if retry_number <= 0:
            return 0.0
        if self.policy == "linear":
            return min(self.cap, self.delay * retry_number)
        # Bound the exponent first: 100 retries must not overflow into inf.
        return min(self.cap, self.delay * 2.0 ** min(retry_number, _MAX_EXPONENT))

    def wait(self, retry_number: int, *, random: Random) -> float:
        """The jittered wait before retry `retry_number`: in `[(1 - jitter) * c, c]`."""
        ceiling = self.ceiling(retry_number)
        return ceiling * (1.0 - self.jitter * random())
