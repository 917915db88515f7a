"""Dead letters: a record whose delivery failed for good, sent where Knative would send it.

The event gets Knative's error extensions — `knativeerrordest` (the URL of the last attempt),
`knativeerrorcode` (the last status, absent when there was no answer) and `knativeerrordata`
(Base64 of the first KiB of the last answer's body) — and then

* to a **topic** (the pipeline's `dead_letter.topic`, else dev mode's `<topic>.dlq`), the way a
  KafkaSink writes an event: Kafka binding, binary mode — each attribute a `ce_<name>` header,
  `content-type` for the data's type, the data as the value; the record keeps its key;
* to a **URI** (`dead_letter.uri`): POSTed in HTTP binary mode.

A dead letter that cannot be written is retried (capped backoff) until it is, or the trigger
stops: the record's offset is committed only after its dead letter is safe (at-least-once).
"""

import asyncio
import base64
import logging
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from events_api.triggers.local.delivery import Outcome, Sleep
from events_api.triggers.local.encoding import EventRequest
from events_api.triggers.local.records import KafkaRecord
from events_api.triggers.local.retrying import BackoffSchedule, Random, is_success

logger = logging.getLogger(__name__)

_RETRY_SCHEDULE = BackoffSchedule(policy="exponential", delay=0.5, retry=0, cap=30.0, jitter=0.5)
"""Waits between attempts to write one dead letter (0.5 s doubling to 30 s, jittered)."""


def error_extensions(outcome: Outcome) -> dict[str, str]:
    """Knative's `knativeerror*` extensions for a failed delivery."""
    extensions = {"knativeerrordest": outcome.url}
    if outcome.status is not None:
        extensions["knativeerrorcode"] = str(outcome.status)
    extensions["knativeerrordata"] = base64.b64encode(outcome.data).decode()
    return extensions


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """What to produce to a dead-letter topic."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


def dead_letter_record(
    record: KafkaRecord, event: EventRequest, outcome: Outcome
) -> DeadLetterRecord:
    """The event with its error extensions, in the Kafka binding's binary mode."""
    headers: list[tuple[str, bytes]] = []
    for name, value in event.headers:
        if name.startswith(b"ce-"):
            headers.append(("ce_" + name[3:].decode(), value))
        elif name == b"content-type":
            headers.append(("content-type", value))
    headers += [("ce_" + name, value.encode()) for name, value in error_extensions(outcome).items()]
    return DeadLetterRecord(key=record.key, value=event.body or None, headers=tuple(headers))


def dead_letter_request(event: EventRequest, outcome: Outcome) -> EventRequest:
    """The event with its error extensions, as a binary-mode HTTP request."""
    extra = tuple(
        (b"ce-" + name.encode(), value.encode())
        for name, value in error_extensions(outcome).items()
    )
    return EventRequest(headers=event.headers + extra, body=event.body)


class Producer(Protocol):
    """What the writer needs of aiokafka's producer."""

    async def send_and_wait(
        self, topic: str, value: Any = None, key: Any = None, headers: Any = None
    ) -> Any:
        """Produce one record and wait for the broker's acknowledgement."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetterDestination:
    """A topic or a URI (exactly one)."""

    topic: str | None = None
    uri: str | None = None

    def describe(self) -> str:
        """For messages and the start answer."""
        return f"topic {self.topic}" if self.topic is not None else f"URI {self.uri}"


class DeadLetterWriter:
    """Writes dead letters, retrying until each is safely written."""

    def __init__(
        self,
        *,
        producer: Producer,
        client: httpx.AsyncClient,
        request_timeout: float,
        random: Random,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._producer = producer
        self._client = client
        self._timeout = request_timeout
        self._random = random
        self._sleep = sleep

    async def write(
        self,
        destination: DeadLetterDestination,
        record: KafkaRecord,
        event: EventRequest,
        outcome: Outcome,
    ) -> None:
        """Write the dead letter; returns once it is written (retries meanwhile)."""
        failures = 0
        while True:
            try:
                await self._write_once(destination, record, event, outcome)
            except Exception as error:  # noqa: BLE001 - any failure is retried; logged below
                failures += 1
                logger.warning(
                    "cannot write the dead letter of %s/%d@%d to %s (attempt %d): %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    destination.describe(),
                    failures,
                    error,
                )
                await self._sleep(_RETRY_SCHEDULE.wait(failures, random=self._random))
            else:
                logger.warning(
                    "record %s/%d@%d failed after %d attempts (%s); sent to %s",
                    record.topic,
                    record.partition,
                    record.offset,
                    outcome.attempts,
                    outcome.status if outcome.status is not None else outcome.error,
                    destination.describe(),
                )
                return

    async def _write_once(
        self,
        destination: DeadLetterDestination,
        record: KafkaRecord,
        event: EventRequest,
        outcome: Outcome,
    ) -> None:
        if destination.topic is not None:
            letter = dead_letter_record(record, event, outcome)
            async with asyncio.timeout(self._timeout):
                await self._producer.send_and_wait(
                    destination.topic,
                    value=letter.value,
                    key=letter.key,
                    headers=list(letter.headers),
                )
            return
        if destination.uri is None:
            raise ValueError("a dead-letter destination names a topic or a URI")
        request = dead_letter_request(event, outcome)
        async with asyncio.timeout(self._timeout):
            response = await self._client.post(
                destination.uri,
                headers=list(request.headers),
                content=request.body,
                timeout=self._timeout,
            )
        if not is_success(response.status_code):
            raise DeadLetterRefused(f"{destination.uri} answered {response.status_code}")


class DeadLetterRefused(Exception):
    """The dead-letter URI answered a status of 300 or more."""
