"""The local backend against the real Kafka broker and real runner processes.

Helpers: fresh topics, producing, consuming until a condition holds (bounded), pipeline versions
built from steps and options, and a tiny HTTP server standing in for a runner whose answers the
test scripts (503s to retry, 422s to dead-letter). Reading topics and speaking HTTP are
`support.kafka_topics` and `support.tiny_http`, shared with the end-to-end tests.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiokafka import AIOKafkaProducer

from events_api.devstack import KafkaServer
from events_api.triggers.local.backend import LocalTriggerBackend
from events_api.triggers.local.opening import open_local_backend
from events_api.triggers.local.settings import LocalSettings
from pipeline_models import PipelineId, PipelineVersion, validate_pipeline_spec
from support.kafka_topics import Record, TopicCollector, collecting, create_topics, topic_name
from support.tiny_http import Request, serve_connection

BOUND_SECONDS = 90
"""The most any wait in these tests may take (never a timing assertion: a bound)."""


@pytest.fixture
def local_settings(kafka_server: KafkaServer, tmp_path: Path) -> LocalSettings:
    """Settings for tests: the session's broker, quick backoffs, data under `tmp_path`."""
    return LocalSettings(
        kafka_bootstrap_servers=(kafka_server.bootstrap_servers,),
        data_dir=str(tmp_path / "local"),
        runner_stop_timeout_seconds=10,
        drain_seconds=2,
    )


@pytest.fixture
async def backend(local_settings: LocalSettings) -> AsyncIterator[LocalTriggerBackend]:
    """The local backend, closed (every trigger stopped) after the test."""
    async with open_local_backend(local_settings) as opened:
        yield opened


async def new_topic(kafka: KafkaServer, *, partitions: int = 1) -> str:
    """A fresh topic."""
    topic = topic_name("local")
    await create_topics(kafka.bootstrap_servers, {topic: partitions})
    return topic


async def produce(
    kafka: KafkaServer,
    topic: str,
    values: list[Any],
    *,
    key: Callable[[int], bytes | None] = lambda _: None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    """Produce each value as a JSON record (keys from `key(index)`)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers)
    await producer.start()
    try:
        for index, value in enumerate(values):
            await producer.send_and_wait(
                topic, msgspec.json.encode(value), key=key(index), headers=headers or []
            )
    finally:
        await producer.stop()


class Collector(TopicCollector):
    """Reads a topic from the beginning in the background; `records` grows as they come."""

    def __init__(self, kafka: KafkaServer, topic: str) -> None:
        super().__init__(kafka.bootstrap_servers, topic)

    def values(self) -> list[Any]:
        """The records' values, JSON-decoded, in the order they were read."""
        return [msgspec.json.decode(record.value) for record in self.records if record.value]

    async def wait_for(self, condition: Callable[[list[Record]], bool]) -> list[Record]:
        """Wait (bounded) until `condition(records)` holds; the records."""
        async with asyncio.timeout(BOUND_SECONDS):
            await self.wait_until(lambda: condition(self.records))
        return self.records


@pytest.fixture
async def collect(kafka_server: KafkaServer) -> AsyncIterator[Callable[[str], Collector]]:
    """`collect(topic)` starts a collector, stopped after the test."""
    async with collecting(
        lambda topic: Collector(kafka_server, topic), task_prefix="collect"
    ) as start:
        yield start


def make_version(
    steps: list[dict[str, Any]],
    *,
    options: dict[str, Any],
    pipeline_id: str = "pipeline-local0test01",
    version: int = 1,
) -> PipelineVersion:
    """A validated pipeline version."""
    spec = validate_pipeline_spec({"name": "test", "options": options, "steps": steps})
    return PipelineVersion(
        pipeline_id=PipelineId(pipeline_id),
        version=version,
        spec=spec,
        created_at=datetime(2026, 5, 1, tzinfo=UTC),
    )


def forward_to(topic: str, *, marker: str = "v1") -> list[dict[str, Any]]:
    """Steps: produce `{"seq", "id", "by"}` for each event to `topic`."""
    return [
        {
            "type": "kafka",
            "id": "out",
            "topic": topic,
            "key": "${{ event.key }}",
            "value": {"seq": "${{ event.data.seq }}", "id": "${{ event.id }}", "by": marker},
        }
    ]


@dataclass
class FakeRunner:
    """A stand-in runner on 127.0.0.1: answers `statuses` in turn (then 200), records bodies."""

    statuses: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    delay: float = 0.0
    in_flight: int = 0
    most_in_flight: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one keep-alive connection until the client closes it."""
        await serve_connection(reader, writer, self._answer)

    async def _answer(self, request: Request) -> tuple[int, bytes]:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        status = self.statuses.pop(0) if self.statuses else 200
        self.headers.append(request.headers)
        self.bodies.append(request.body)
        return status, b'{"error": "scripted"}'


@pytest.fixture
async def fake_runner() -> AsyncIterator[FakeRunner]:
    """A scripted runner stand-in, listening until the test ends."""
    runner = FakeRunner()
    server = await asyncio.start_server(runner.handle, "127.0.0.1", 0)
    runner.port = server.sockets[0].getsockname()[1]
    async with server:
        yield runner
        server.close()
        await server.wait_closed()
