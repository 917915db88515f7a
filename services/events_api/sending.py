"""`pipeline-events send TOPIC`: produce test records to Kafka, to try a pipeline by hand.

One record per value (given as arguments, or one per line on standard input), with an optional
key and headers. Bounded by a timeout; Kafka's errors become one `SendFailed` with a message.
"""

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

_STOP_SECONDS = 10.0


class SendFailed(Exception):
    """The records could not be produced (the message says why and what to check)."""


@dataclass(frozen=True)
class OutgoingRecord:
    """A record to produce."""

    value: bytes
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


def parse_header(text: str) -> tuple[str, bytes]:
    """`NAME=VALUE` as a Kafka header.

    Raises:
        ValueError: there is no `=` or the name is empty.
    """
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise ValueError(f"a header is NAME=VALUE, got {text!r}")
    return name, value.encode()


def records_from(
    values: Iterable[str], *, key: str | None, headers: Sequence[tuple[str, bytes]]
) -> list[OutgoingRecord]:
    """One record per value, each with the same key and headers."""
    encoded_key = None if key is None else key.encode()
    return [
        OutgoingRecord(value=value.encode(), key=encoded_key, headers=tuple(headers))
        for value in values
    ]


async def send_records(
    bootstrap_servers: str,
    topic: str,
    records: Sequence[OutgoingRecord],
    *,
    within_seconds: float = 30.0,
) -> list[tuple[int, int]]:
    """Produce `records` to `topic` and wait for the broker's acknowledgements.

    Returns:
        The (partition, offset) of each record, in order.

    Raises:
        SendFailed: Kafka could not be reached or refused the records within `within_seconds`.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        request_timeout_ms=int(within_seconds * 1000),
    )
    placed: list[tuple[int, int]] = []
    try:
        async with asyncio.timeout(within_seconds):
            await producer.start()
            for record in records:
                metadata = await producer.send_and_wait(
                    topic, record.value, key=record.key, headers=list(record.headers)
                )
                placed.append((metadata.partition, metadata.offset))
    except TimeoutError as error:
        raise SendFailed(
            f"Kafka at {bootstrap_servers} did not acknowledge within {within_seconds:.0f} s; "
            "check that it runs and that the address is right"
        ) from error
    except KafkaError as error:
        raise SendFailed(f"Kafka at {bootstrap_servers} refused the records: {error}") from error
    finally:
        # Also after a failed or timed-out start: the producer owns connections and a task.
        async with asyncio.timeout(_STOP_SECONDS):
            await producer.stop()
    return placed
