"""Kafka topics for the suites that talk to the real broker: fresh names, creating topics, and a
collector that reads a topic from its beginning in the background so that a test can wait for
what it expects.

The collector only collects and wakes waiters; how long a wait may take and how a timeout reads
is the suite's own (the local backend's tests bound it with a plain timeout, the end-to-end tests
fail with what they observed).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

Record = Any
"""An aiokafka `ConsumerRecord` (aiokafka is untyped for mypy here)."""

FETCH_MS = 200
"""The longest one fetch waits when nothing comes (records that come are returned at once)."""


def topic_name(prefix: str) -> str:
    """A fresh topic name."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def create_topics(bootstrap_servers: str, topics: Mapping[str, int]) -> None:
    """Create each topic with its number of partitions (replication factor 1)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(name, num_partitions=count, replication_factor=1)
                for name, count in topics.items()
            ]
        )
    finally:
        await admin.close()


class TopicCollector:
    """Reads a topic from the beginning in the background; `records` grows as they come."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.records: list[Record] = []
        self._arrived = asyncio.Condition()

    async def run(self) -> None:
        """Consume until cancelled (no group: nothing is committed)."""
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=FETCH_MS)
                if batch:
                    async with self._arrived:
                        self._received([record for records in batch.values() for record in records])
                        self._arrived.notify_all()
        finally:
            await consumer.stop()

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition()` holds, re-checked as records arrive. Unbounded: the caller
        bounds it."""
        async with self._arrived:
            await self._arrived.wait_for(condition)

    def _received(self, records: list[Record]) -> None:
        """Keep records just consumed (called with the lock held; the waiters are woken after)."""
        self.records.extend(records)


Collecting = TypeVar("Collecting", bound=TopicCollector)


@asynccontextmanager
async def collecting(
    make: Callable[[str], Collecting], *, task_prefix: str
) -> AsyncIterator[Callable[[str], Collecting]]:
    """`start(topic)` makes a collector of `topic` and runs it in a task of its own; when the
    block ends, every such task is cancelled and awaited."""
    tasks: list[asyncio.Task[None]] = []

    def start(topic: str) -> Collecting:
        collector = make(topic)
        tasks.append(asyncio.create_task(collector.run(), name=f"{task_prefix}-{topic}"))
        return collector

    try:
        yield start
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
