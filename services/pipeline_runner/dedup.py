"""Dropping redeliveries: a per-pod window of recently *finished* events, keyed by source + id.

Knative delivers at least once (rebalances, restarts, a timeout after the work was done), and a
KafkaSource event's ``source`` (namespace, source name, topic) and ``id`` (partition, offset)
identify its record. The caller remembers a run that ended for good — a success or a permanent
failure — with its result, and a later duplicate gets that result without running; a run that
failed transiently is forgotten, so its redelivery runs again. While one delivery is being
processed, another of the same event is told to retry later
(:class:`pipeline_runner.errors.DuplicateInFlight`, a 429) rather than run twice at once.

Best effort by design: the window lives in one pod's memory (not shared between pods, lost on
restart), holds at most ``max_entries`` events (oldest forgotten first) for ``window_seconds``.
Steps with external effects must still tolerate an occasional second run.
"""

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from enum import Enum
from typing import Generic, TypeVar

from pipeline_models import DedupSettings

Result = TypeVar("Result")


class Claim(Enum):
    """What :meth:`DedupWindow.claim` found."""

    NEW = "new"
    """Process it; call :meth:`DedupWindow.release` when done."""
    DONE = "done"
    """Finished recently: give the remembered result without running it again."""
    IN_FLIGHT = "in_flight"
    """Another delivery of it is running now."""


class DedupWindow(Generic[Result]):
    """Remembers finished events (with their result) for a while, and the ones in flight."""

    def __init__(
        self, settings: DedupSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window = settings.window_seconds
        self._max_entries = settings.max_entries
        self._clock = clock
        self._done: OrderedDict[Hashable, tuple[float, Result]] = OrderedDict()
        self._in_flight: set[Hashable] = set()
        self._enabled = self._window > 0 and self._max_entries > 0
        self._next_expiry = float("inf")
        """When the oldest remembered event expires (or earlier): no look before then."""

    @property
    def enabled(self) -> bool:
        """False when the settings turn deduplication off (window or size 0)."""
        return self._enabled

    def claim(self, key: Hashable) -> tuple[Claim, Result | None]:
        """Register a delivery of ``key`` unless it is a duplicate; DONE comes with its result."""
        if not self._enabled:
            return Claim.NEW, None
        if self._clock() >= self._next_expiry:
            self._forget_expired()
        if key in self._done:
            return Claim.DONE, self._done[key][1]
        if key in self._in_flight:
            return Claim.IN_FLIGHT, None
        self._in_flight.add(key)
        return Claim.NEW, None

    def release(self, key: Hashable, *, remember: Result | None) -> None:
        """End a delivery claimed as NEW; ``remember`` a final result, or None to forget it."""
        if not self._enabled:
            return
        self._in_flight.discard(key)
        if remember is not None:
            expires = self._clock() + self._window
            if not self._done:
                self._next_expiry = expires
            # New to the window (claim found it absent; `_in_flight` kept other deliveries
            # out), so it goes to the end: insertion order stays expiry order.
            self._done[key] = (expires, remember)
            while len(self._done) > self._max_entries:
                self._done.popitem(last=False)

    def __len__(self) -> int:
        """Events remembered as done (expired ones may linger until the next claim)."""
        return len(self._done)

    def _forget_expired(self) -> None:
        now = self._clock()
        # Insertion order is expiry order: every entry gets the same window.
        while self._done:
            key, (expires, _) = next(iter(self._done.items()))
            if expires > now:
                self._next_expiry = expires
                return
            del self._done[key]
        self._next_expiry = float("inf")
