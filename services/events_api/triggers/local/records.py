"""The Kafka record as the local backend handles it: plain data, apart from aiokafka's types.

Keeping the record a frozen value of our own lets the CloudEvent encoding and the dead-letter
building stay pure functions, tested without a broker.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class KafkaRecord:
    """One consumed record: where it sits, and what it carries (raw bytes, never decoded)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    """The record's timestamp in milliseconds since the epoch (negative: none)."""
    key: bytes | None = None
    value: bytes | None = None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    """Kafka headers in record order; names may repeat."""


def record_from_consumer(record: Any) -> KafkaRecord:
    """Our record from an aiokafka `ConsumerRecord` (consumed without deserializers)."""
    return KafkaRecord(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp if record.timestamp is not None else -1,
        key=record.key,
        value=record.value,
        headers=tuple((str(name), value) for name, value in (record.headers or ())),
    )
