"""One partition's deliveries: in offset order, one (ordered) or up to N (unordered) at a time.

A lane takes records in offset order from its queue and hands each to the delivery function in
a task of its own, at most `concurrency` at once: with 1, the next record waits for the previous
one and all its retries (Knative's `ordered`); with N, up to N are in flight (`unordered`). Either
way commits advance in offset order (:class:`OffsetTracker`). A lane owns its tasks: `stop`
stops taking records, lets the in-flight ones finish within a deadline and cancels the rest
(their offsets stay uncommitted, so they are delivered again: at-least-once).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from events_api.triggers.local.offsets import OffsetTracker
from events_api.triggers.local.records import KafkaRecord

logger = logging.getLogger(__name__)

Handle = Callable[[KafkaRecord], Awaitable[None]]


class PartitionLane:
    """Deliveries of one partition, and which of its offsets may be committed."""

    def __init__(
        self,
        name: str,
        *,
        concurrency: int,
        handle: Handle,
        on_progress: Callable[[], None],
    ) -> None:
        self.name = name
        self.tracker = OffsetTracker()
        self.committed: int | None = None
        """The last offset committed for this lane (set by the dispatcher)."""
        self.failure: BaseException | None = None
        """A delivery task's unexpected error (a bug): the lane stops taking records."""
        self._handle = handle
        self._on_progress = on_progress
        self._queue: asyncio.Queue[KafkaRecord] = asyncio.Queue()
        self._slots = asyncio.Semaphore(concurrency)
        self._deliveries: set[asyncio.Task[None]] = set()
        self._feeder: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start taking records from the queue."""
        self._feeder = asyncio.create_task(self._feed(), name=f"local-lane-{self.name}")

    def put(self, record: KafkaRecord) -> None:
        """Queue a record (records arrive in offset order)."""
        self._queue.put_nowait(record)

    @property
    def backlog(self) -> int:
        """Records queued or in flight (fetching pauses when this grows too large)."""
        return self._queue.qsize() + self.tracker.in_flight

    async def _feed(self) -> None:
        while True:
            record = await self._queue.get()
            await self._slots.acquire()
            self.tracker.started(record.offset)
            task = asyncio.create_task(
                self._deliver(record), name=f"local-delivery-{self.name}@{record.offset}"
            )
            self._deliveries.add(task)
            task.add_done_callback(self._delivery_done)

    async def _deliver(self, record: KafkaRecord) -> None:
        try:
            await self._handle(record)
        finally:
            self._slots.release()
        self.tracker.finished(record.offset)
        self._on_progress()

    def _delivery_done(self, task: asyncio.Task[None]) -> None:
        self._deliveries.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and self.failure is None:
            # A bug: its offset never counts as finished, so nothing after it is committed.
            self.failure = error
            logger.error("delivery task %s failed", task.get_name(), exc_info=error)
            if self._feeder is not None:
                self._feeder.cancel()

    async def stop(self, *, drain_seconds: float) -> None:
        """Stop taking records; wait up to `drain_seconds` for in-flight ones, cancel the rest."""
        if self._feeder is not None:
            self._feeder.cancel()
            await asyncio.gather(self._feeder, return_exceptions=True)
        pending = set(self._deliveries)
        if pending and drain_seconds > 0:
            _, pending = await asyncio.wait(pending, timeout=drain_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
