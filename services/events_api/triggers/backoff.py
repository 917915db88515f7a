"""Capped exponential backoff with jitter, for the trigger backends' retries.

The Knative watches wait this long before reconnecting, converging before retrying a conflict,
and the local backend before restarting a crashed runner. Pure arithmetic, so the bounds are
tested without a clock. Full jitter (a uniform draw between 0 and the capped exponential ceiling)
spreads the replicas of the API apart after an apiserver restart, instead of having every watch
of every replica reconnect in lock-step.
"""

from collections.abc import Callable
from dataclasses import dataclass

Random = Callable[[], float]
"""A source of floats in [0, 1), like `random.random` (injected so tests can pin it)."""


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Capped exponential backoff with full jitter.

    Attributes:
        base: the ceiling of the first retry, in seconds.
        cap: the largest ceiling, in seconds (e.g. `KnativeSettings.watch_backoff_max_seconds`).
    """

    base: float = 0.5
    cap: float = 30.0

    def ceiling(self, failures: int) -> float:
        """The most we may wait after `failures` consecutive failures (0 for none)."""
        if failures <= 0:
            return 0.0
        # Bound the exponent before raising 2 to it: a long outage must not overflow the float.
        exponent = min(failures - 1, 62)
        return float(min(self.cap, self.base * 2.0**exponent))

    def delay(self, failures: int, *, random: Random) -> float:
        """A jittered wait in [0, ceiling(failures)] after `failures` consecutive failures."""
        return self.ceiling(failures) * random()

    def half_jittered(self, failures: int, *, random: Random) -> float:
        """A wait in [ceiling/2, ceiling]: jittered, yet never near 0 (a crash loop must slow)."""
        ceiling = self.ceiling(failures)
        return ceiling / 2 + ceiling / 2 * random()
