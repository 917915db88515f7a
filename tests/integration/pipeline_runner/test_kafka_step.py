"""kafka steps against the real broker: lazy start, records as written, errors as classified."""

import asyncio
import uuid
from typing import Any

import httpx
import msgspec
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.structs import ConsumerRecord

from events_api.devstack import KafkaServer
from pipeline_models import KafkaSettings
from pipeline_runner.app import create_app
from pipeline_runner.errors import KafkaRejected, KafkaUnavailable
from pipeline_runner.producing import RecordProducer
from pipeline_runner.runtime import Runtime
from unit.pipeline_runner.helpers import runner_env

pytestmark = pytest.mark.kafka


async def new_topic(kafka: KafkaServer) -> str:
    topic = f"runner-{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    return topic


async def consume(kafka: KafkaServer, topic: str, count: int) -> list[ConsumerRecord[Any, Any]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka.bootstrap_servers,
        group_id=f"check-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        async with asyncio.timeout(60):
            while len(records) < count:
                batch = await consumer.getmany(timeout_ms=1000)
                for partition_records in batch.values():
                    records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


def kafka_event_headers() -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": "partition:0/offset:12",
        "ce-source": "/apis/v1/namespaces/t/kafkasources/in#orders",
        "ce-type": "dev.knative.kafka.event",
        "ce-key": "customer-7",
    }


async def test_a_kafka_step_produces_the_rendered_record(kafka_server: KafkaServer) -> None:
    topic = await new_topic(kafka_server)
    steps: list[dict[str, Any]] = [
        {
            "type": "kafka",
            "id": "forward",
            "topic": topic,
            "key": "${{ event.key }}",
            "value": {"total": "${{ event.data.n }}", "from": "${{ event.id }}"},
            "headers": {"x-origin": "${{ event.type }}"},
        },
        {
            "type": "kafka",
            "id": "wrapped",
            "topic": topic,
            "format": "cloudevent",
            "value": "${{ steps.forward }}",
        },
    ]
    env = runner_env(steps, kafka={"bootstrap_servers": [kafka_server.bootstrap_servers]})
    app = create_app(env, handle_signals=False, configure_logs=False)
    runtime: Runtime = app.state.runtime
    async with app.router.lifespan_context(app):
        started_before_any_event = runtime.producer.started
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://runner") as client:
            response = await client.post("/", headers=kafka_event_headers(), content=b'{"n": 3}')
        started_by_the_event = runtime.producer.started

    assert not started_before_any_event
    assert started_by_the_event
    assert response.status_code == 200, response.text
    plain, wrapped = await consume(kafka_server, topic, 2)
    assert plain.key == b"customer-7"
    assert msgspec.json.decode(plain.value) == {"total": 3, "from": "partition:0/offset:12"}
    assert dict(plain.headers) == {
        "x-origin": b"dev.knative.kafka.event",
        "content-type": b"application/json",
    }
    event = msgspec.json.decode(wrapped.value)
    assert event["data"] == {"topic": topic, "partition": 0, "offset": plain.offset}
    assert event["source"] == "/pipelines/pipeline-abc123def456/steps/wrapped"
    assert event["specversion"] == "1.0"
    assert dict(wrapped.headers)["content-type"] == b"application/cloudevents+json"


async def test_the_producer_starts_once_for_concurrent_first_sends(
    kafka_server: KafkaServer,
) -> None:
    topic = await new_topic(kafka_server)
    producer = RecordProducer(
        KafkaSettings(bootstrap_servers=(kafka_server.bootstrap_servers,)), env={}
    )
    try:
        results = await asyncio.gather(
            *(producer.send(topic, value=b"%d" % n, key=None, headers=()) for n in range(5))
        )
    finally:
        await producer.close()
        await producer.close()

    assert sorted(result["offset"] for result in results) == [0, 1, 2, 3, 4]
    assert not producer.started


async def test_an_unreachable_cluster_is_a_retryable_failure() -> None:
    producer = RecordProducer(
        KafkaSettings(bootstrap_servers=("127.0.0.1:1",), produce_timeout_seconds=2), env={}
    )
    try:
        with pytest.raises(KafkaUnavailable) as raised:
            await producer.send("t", value=b"v", key=None, headers=())
    finally:
        await producer.close()

    assert raised.value.retryable
    assert not producer.started


async def test_no_configured_cluster_is_a_permanent_failure() -> None:
    producer = RecordProducer(KafkaSettings(), env={})

    with pytest.raises(KafkaRejected, match="no Kafka cluster is configured") as raised:
        await producer.send("t", value=b"v", key=None, headers=())

    assert not raised.value.retryable


async def test_a_record_the_broker_refuses_is_a_permanent_failure(
    kafka_server: KafkaServer,
) -> None:
    topic = await new_topic(kafka_server)
    producer = RecordProducer(
        KafkaSettings(bootstrap_servers=(kafka_server.bootstrap_servers,)), env={}
    )
    try:
        with pytest.raises(KafkaRejected) as raised:
            await producer.send(topic, value=b"x" * 2_000_000, key=None, headers=())
    finally:
        await producer.close()

    assert not raised.value.retryable
