"""The consumer against the real broker, delivering to a scripted runner stand-in: retries,
dead letters, ordering, and commits only after success or dead-lettering."""

import asyncio
import base64
import random
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from events_api.devstack import KafkaServer
from events_api.triggers.local.dead_letters import DeadLetterWriter
from events_api.triggers.local.delivery import Target
from events_api.triggers.local.dispatch_config import dispatch_config_for
from events_api.triggers.local.dispatcher import Dispatcher
from events_api.triggers.local.kafka_clients import KafkaClients
from events_api.triggers.local.settings import LocalSettings
from integration.local_backend.conftest import (
    BOUND_SECONDS,
    Collector,
    FakeRunner,
    make_version,
    new_topic,
    produce,
)
from pipeline_models import consumer_group

pytestmark = pytest.mark.kafka


@asynccontextmanager
async def dispatching(
    settings: LocalSettings, options: Mapping[str, Any], runner: FakeRunner
) -> AsyncIterator[Dispatcher]:
    """A started dispatcher for a version with `options`, delivering to `runner`."""
    version = make_version([{"type": "log", "id": "l", "message": "x"}], options=dict(options))
    config = dispatch_config_for(version, settings=settings)
    kafka = KafkaClients(settings.kafka_bootstrap_servers, request_timeout=10)
    target = Target()
    await target.switch(runner.url)
    async with httpx.AsyncClient(trust_env=False) as client:
        writer = DeadLetterWriter(
            producer=kafka, client=client, request_timeout=10, random=random.random
        )
        dispatcher = Dispatcher(
            config, settings=settings, target=target, client=client, dead_letters=writer
        )
        await dispatcher.start()
        try:
            yield dispatcher
        finally:
            await dispatcher.stop()
            await kafka.close()


async def until(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for a condition on state another task changes."""
    async with asyncio.timeout(BOUND_SECONDS):
        while not condition():  # noqa: ASYNC110 - the stand-in's state has no event to wait on
            await asyncio.sleep(0.05)


async def committed(kafka: KafkaServer, group: str, topic: str) -> int | None:
    """The group's committed offset of partition 0."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap_servers, group_id=group)
    await consumer.start()
    try:
        offset: int | None = await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()
    return offset


async def test_503_is_retried_and_422_dead_lettered_then_the_rest_continue(
    kafka_server: KafkaServer,
    local_settings: LocalSettings,
    fake_runner: FakeRunner,
    collect: Callable[[str], Collector],
) -> None:
    topic = await new_topic(kafka_server)
    dead = collect(topic + ".dlq")
    options = {
        "event": topic,
        "delivery": {"initial_offset": "earliest", "retry": 3, "backoff_delay_seconds": 0.01},
    }
    # Record 0: two 503s then 200. Record 1: 422 (permanent). Records 2 and 3: 200.
    fake_runner.statuses = [503, 503, 200, 422]
    await produce(kafka_server, topic, [{"seq": n} for n in range(4)], key=lambda n: b"k%d" % n)
    async with dispatching(local_settings, options, fake_runner) as dispatcher:
        await until(lambda: len(fake_runner.bodies) == 6)
        letters = await dead.wait_for(lambda records: len(records) == 1)
        await until(lambda: dispatcher.joined)
    seqs = [msgspec.json.decode(body)["seq"] for body in fake_runner.bodies]
    # Ordered: a record's retries all come before the next record.
    assert seqs == [0, 0, 0, 1, 2, 3]
    ids = [headers["ce-id"] for headers in fake_runner.headers]
    assert ids[:3] == ["partition:0/offset:0"] * 3
    assert fake_runner.headers[0]["ce-type"] == "dev.knative.kafka.event"
    assert fake_runner.headers[0]["ce-key"] == "k0"
    (letter,) = letters
    headers = {name: value.decode() for name, value in letter.headers}
    assert msgspec.json.decode(letter.value) == {"seq": 1}
    assert letter.key == b"k1"
    assert headers["ce_id"] == "partition:0/offset:1"
    assert headers["ce_knativeerrorcode"] == "422"
    assert headers["ce_knativeerrordest"] == fake_runner.url
    assert base64.b64decode(headers["ce_knativeerrordata"]) == b'{"error": "scripted"}'
    # Everything finished (delivered or dead-lettered) is committed.
    assert (
        await committed(kafka_server, consumer_group("local", "pipeline-local0test01"), topic) == 4
    )


async def test_exhausted_retries_go_to_the_dead_letter_with_the_last_status(
    kafka_server: KafkaServer,
    local_settings: LocalSettings,
    fake_runner: FakeRunner,
    collect: Callable[[str], Collector],
) -> None:
    topic = await new_topic(kafka_server)
    dead = collect("errors-" + topic)
    options = {
        "event": topic,
        "delivery": {
            "initial_offset": "earliest",
            "retry": 2,
            "backoff_policy": "linear",
            "backoff_delay_seconds": 0.01,
            "dead_letter": {"topic": "errors-" + topic},
        },
    }
    fake_runner.statuses = [503, 500, 429]
    await produce(kafka_server, topic, [{"seq": 0}, {"seq": 1}])
    async with dispatching(local_settings, options, fake_runner):
        (letter,) = await dead.wait_for(lambda records: len(records) == 1)
        await until(lambda: len(fake_runner.bodies) == 4)
    assert dict(letter.headers)["ce_knativeerrorcode"] == b"429"
    assert len(fake_runner.bodies) == 4  # 3 attempts for the first, 1 for the second


async def test_unordered_keeps_many_in_flight_but_commits_in_offset_order(
    kafka_server: KafkaServer, local_settings: LocalSettings, fake_runner: FakeRunner
) -> None:
    topic = await new_topic(kafka_server)
    options = {
        "event": topic,
        "delivery": {"initial_offset": "earliest", "ordering": "unordered"},
    }
    fake_runner.delay = 0.2
    await produce(kafka_server, topic, [{"seq": n} for n in range(20)])
    async with dispatching(local_settings, options, fake_runner):
        await until(lambda: len(fake_runner.bodies) == 20)
    assert fake_runner.most_in_flight > 1
    group = consumer_group("local", "pipeline-local0test01")
    assert await committed(kafka_server, group, topic) == 20


async def test_ordered_keeps_one_in_flight(
    kafka_server: KafkaServer, local_settings: LocalSettings, fake_runner: FakeRunner
) -> None:
    topic = await new_topic(kafka_server)
    options = {"event": topic, "delivery": {"initial_offset": "earliest"}}
    fake_runner.delay = 0.05
    await produce(kafka_server, topic, [{"seq": n} for n in range(10)])
    async with dispatching(local_settings, options, fake_runner):
        await until(lambda: len(fake_runner.bodies) == 10)
    assert fake_runner.most_in_flight == 1
    assert [msgspec.json.decode(b)["seq"] for b in fake_runner.bodies] == list(range(10))


async def test_a_record_not_yet_answered_is_not_committed_and_comes_again(
    kafka_server: KafkaServer, local_settings: LocalSettings, fake_runner: FakeRunner
) -> None:
    topic = await new_topic(kafka_server)
    options = {
        "event": topic,
        "delivery": {
            "initial_offset": "earliest",
            "retry": 100,
            "backoff_policy": "linear",
            "backoff_delay_seconds": 0.01,
        },
    }
    # The first record keeps failing while the dispatcher stops: nothing may be committed.
    fake_runner.statuses = [503] * 1000
    await produce(kafka_server, topic, [{"seq": 0}, {"seq": 1}])
    async with dispatching(local_settings, options, fake_runner):
        await until(lambda: len(fake_runner.bodies) >= 2)
    group = consumer_group("local", "pipeline-local0test01")
    # Only the starting offset, committed on assignment: the record at offset 0 is not done.
    assert await committed(kafka_server, group, topic) == 0
    # Started again (same group): the record comes again and, answered now, is committed.
    fake_runner.statuses = []
    fake_runner.bodies.clear()
    async with dispatching(local_settings, options, fake_runner):
        await until(lambda: len(fake_runner.bodies) == 2)
    assert [msgspec.json.decode(b)["seq"] for b in fake_runner.bodies] == [0, 1]
    assert await committed(kafka_server, group, topic) == 2
