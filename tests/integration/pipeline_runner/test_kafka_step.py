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
from cloudevents.kafka import KafkaMessage, from_binary

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
            "key": "${{ event.key }}",
            "value": "${{ steps.forward }}",
            "headers": {"x-origin": "runner", "content-type": "text/plain", "ce_id": "forged"},
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
    # Binary mode of the Kafka binding: attributes in ce_* headers, the data as the value.
    headers = dict(wrapped.headers)
    assert headers["content-type"] == b"application/json"
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"dev.pipeline-events.record"
    assert headers["x-origin"] == b"runner"
    assert wrapped.key == b"customer-7"
    assert msgspec.json.decode(wrapped.value) == {
        "topic": topic,
        "partition": 0,
        "offset": plain.offset,
    }
    # A consumer reads it back with the CloudEvents SDK.
    event = from_binary(
        KafkaMessage(
            headers={k: v for k, v in wrapped.headers}, key=wrapped.key, value=wrapped.value
        )
    )
    assert event["source"] == "/pipelines/pipeline-abc123def456/steps/wrapped"
    assert event["type"] == "dev.pipeline-events.record"
    assert event["datacontenttype"] == "application/json"
    assert event["partitionkey"] == b"customer-7"
    assert event["id"] != "forged"
    assert event.data == {"topic": topic, "partition": 0, "offset": plain.offset}


async def test_a_redelivered_event_produces_a_cloudevent_with_the_same_id(
    kafka_server: KafkaServer,
) -> None:
    topic = await new_topic(kafka_server)
    steps: list[dict[str, Any]] = [
        {"type": "kafka", "id": "out", "topic": topic, "format": "cloudevent", "value": 1}
    ]
    env = runner_env(
        steps,
        kafka={"bootstrap_servers": [kafka_server.bootstrap_servers]},
        dedup={"window_seconds": 0},
    )
    app = create_app(env, handle_signals=False, configure_logs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://runner") as client:
            for _ in range(2):
                response = await client.post("/", headers=kafka_event_headers(), content=b"{}")
                assert response.status_code == 200, response.text

    first, second = await consume(kafka_server, topic, 2)
    assert dict(first.headers)["ce_id"] == dict(second.headers)["ce_id"]
    assert first.key is None


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


async def post_event(env: dict[str, str], body: bytes) -> httpx.Response:
    app = create_app(env, handle_signals=False, configure_logs=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://runner") as client:
            return await client.post("/", headers=kafka_event_headers(), content=body)


async def test_a_record_the_broker_refuses_answers_422_step_failed(
    kafka_server: KafkaServer,
) -> None:
    topic = await new_topic(kafka_server)
    steps = [{"type": "kafka", "id": "out", "topic": topic, "value": "${{ event.data }}"}]
    env = runner_env(
        steps,
        kafka={"bootstrap_servers": [kafka_server.bootstrap_servers]},
        max_body_bytes=4_000_000,
    )

    # A record of 2 MB: over the producer's and the broker's 1 MiB default.
    response = await post_event(env, b"x" * 2_000_000)

    assert (response.status_code, response.json()["error"]) == (422, "step_failed")
    assert "MessageSizeTooLarge" in response.json()["message"]


async def test_an_unreachable_cluster_answers_503_step_unavailable() -> None:
    steps = [{"type": "kafka", "id": "out", "topic": "t", "value": "${{ event.data }}"}]
    env = runner_env(
        steps, kafka={"bootstrap_servers": ["127.0.0.1:1"], "produce_timeout_seconds": 2}
    )

    response = await post_event(env, b'{"n": 1}')

    assert (response.status_code, response.json()["error"]) == (503, "step_unavailable")
    assert "cannot connect to Kafka" in response.json()["message"]
