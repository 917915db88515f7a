"""Which offset of a partition may be committed: the pure bookkeeping behind at-least-once.

Records are delivered in offset order, one at a time (ordered) or several at once (unordered),
and finish in any order; a commit may only cover records that all finished (a 2xx, or a dead
letter), so the committable position is one past the longest finished prefix. A stuck record
therefore holds back its partition's commits — exactly as Knative's unordered dispatcher does.
"""

from collections import deque


class OffsetTracker:
    """One partition's started and finished offsets; tells the next offset to commit."""

    def __init__(self) -> None:
        self._pending: deque[int] = deque()
        self._finished: set[int] = set()
        self._committable: int | None = None

    def started(self, offset: int) -> None:
        """A record was taken for delivery; offsets must arrive in increasing order.

        Raises:
            ValueError: `offset` is not above every offset started before.
        """
        last = self._pending[-1] if self._pending else self._committable
        if last is not None and offset < last:
            raise ValueError(f"offset {offset} started after {last}: offsets must increase")
        self._pending.append(offset)

    def finished(self, offset: int) -> None:
        """The record at `offset` is done for good (delivered or dead-lettered)."""
        self._finished.add(offset)
        while self._pending and self._pending[0] in self._finished:
            done = self._pending.popleft()
            self._finished.discard(done)
            self._committable = done + 1

    @property
    def committable(self) -> int | None:
        """The offset to commit (one past the finished prefix); None before any finished."""
        return self._committable

    @property
    def in_flight(self) -> int:
        """Records started and not yet part of the committable prefix."""
        return len(self._pending)
