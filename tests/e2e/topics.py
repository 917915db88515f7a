"""Kafka for the end-to-end tests: keyed records in, results read back and tallied (topics are
made with `support.kafka_topics`).

Every record a test produces is a JSON object with a unique `id`; the pipelines copy it into
their results, so a :class:`Tally` can say, per id, what is missing, what is unexpected and what
came more than once — at least once means duplicates are possible, so they are counted, never
hidden.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec
from aiokafka import AIOKafkaProducer

from e2e.waiting import bounded
from support.kafka_topics import TopicCollector


@dataclass(frozen=True, slots=True, kw_only=True)
class Produced:
    """A record as written: its id, key, value and where it landed."""

    id: str
    key: bytes | None
    value: dict[str, Any]
    partition: int
    offset: int


async def produce(
    bootstrap_servers: str, topic: str, records: Iterable[tuple[bytes | None, dict[str, Any]]]
) -> list[Produced]:
    """Produce each (key, JSON value) in order (idempotent producer: per-partition order holds);
    where each landed."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    try:
        pending = [
            (key, value, await producer.send(topic, msgspec.json.encode(value), key=key))
            for key, value in records
        ]
        written = [(key, value, await future) for key, value, future in pending]
    finally:
        await producer.stop()
    return [
        Produced(
            id=value["id"],
            key=key,
            value=value,
            partition=metadata.partition,
            offset=metadata.offset,
        )
        for key, value, metadata in written
    ]


class TopicReader(TopicCollector):
    """Reads a topic from the beginning in the background; `records` grows as they come."""

    def values(self) -> list[dict[str, Any]]:
        """The records' JSON values, in (partition, offset) order."""
        ordered = sorted(self.records, key=lambda record: (record.partition, record.offset))
        return [msgspec.json.decode(record.value) for record in ordered if record.value]

    def tally(self, expected: Iterable[str]) -> "Tally":
        """What arrived, by id, against the ids expected."""
        return Tally.of(expected, [value["id"] for value in self.values()])

    async def wait_for(
        self,
        condition: Callable[[], bool],
        what: str,
        *,
        describe: Callable[[], str] = lambda: "",
    ) -> None:
        """Wait (bounded) until `condition()` holds, re-checked as records arrive."""
        async with bounded(f"{what} ({self.topic})", describe=lambda: self._describe(describe)):
            await self.wait_until(condition)

    async def wait_for_ids(
        self, expected: Iterable[str], *, describe: Callable[[], str] = lambda: ""
    ) -> "Tally":
        """Wait (bounded) until every expected id arrived; the tally then."""
        wanted = set(expected)

        def complete() -> bool:
            return not self.tally(wanted).missing

        await self.wait_for(
            complete,
            f"all {len(wanted)} results arrive",
            describe=lambda: f"{self.tally(wanted).summary()}\n{describe()}",
        )
        return self.tally(wanted)

    def _describe(self, more: Callable[[], str]) -> str:
        return f"{len(self.records)} records read from {self.topic}\n{more()}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Results against expectations, by record id."""

    expected: frozenset[str]
    counts: Counter[str]
    missing: frozenset[str]
    unexpected: frozenset[str]

    @classmethod
    def of(cls, expected: Iterable[str], arrived: Iterable[str]) -> "Tally":
        """Count `arrived` against `expected`."""
        wanted = frozenset(expected)
        counts = Counter(arrived)
        return cls(
            expected=wanted,
            counts=counts,
            missing=wanted - counts.keys(),
            unexpected=frozenset(counts.keys() - wanted),
        )

    @property
    def duplicates(self) -> int:
        """Results beyond the first of each id."""
        return sum(count - 1 for count in self.counts.values() if count > 1)

    @property
    def duplicated_ids(self) -> list[str]:
        """Ids that came more than once, sorted."""
        return sorted(name for name, count in self.counts.items() if count > 1)

    def summary(self) -> str:
        """One line for messages and reports."""
        return (
            f"{len(self.expected)} expected, {sum(self.counts.values())} results, "
            f"{len(self.missing)} missing (e.g. {sorted(self.missing)[:10]}), "
            f"{len(self.unexpected)} unexpected (e.g. {sorted(self.unexpected)[:10]}), "
            f"{self.duplicates} duplicates of {len(self.duplicated_ids)} ids "
            f"(e.g. {self.duplicated_ids[:10]})"
        )


def sequences_by_key(values: Iterable[dict[str, Any]]) -> dict[str, list[int]]:
    """Each key's `seq`s in the order its results were written (values in offset order)."""
    found: dict[str, list[int]] = {}
    for value in values:
        found.setdefault(value["key"], []).append(value["seq"])
    return found
