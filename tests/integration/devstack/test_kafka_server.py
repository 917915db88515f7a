"""The provisioned broker is a real Kafka: topics, keyed produce, and a consumer group."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from events_api.devstack import KafkaServer

pytestmark = pytest.mark.kafka


async def test_records_produced_are_consumed_by_a_group(kafka_server: KafkaServer) -> None:
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_server.bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()

    sent = {f"key-{n}".encode(): f'{{"n": {n}}}'.encode() for n in range(20)}
    producer = AIOKafkaProducer(bootstrap_servers=kafka_server.bootstrap_servers, acks="all")
    await producer.start()
    try:
        for key, value in sent.items():
            await producer.send_and_wait(topic, value, key=key, headers=[("X-Test", b"1")])
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_server.bootstrap_servers,
        group_id=f"group-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: dict[bytes, bytes] = {}
    partitions: set[int] = set()
    try:
        async with asyncio.timeout(60):
            while len(received) < len(sent):
                batches = await consumer.getmany(timeout_ms=1000)
                for records in batches.values():
                    for record in records:
                        received[record.key] = record.value
                        partitions.add(record.partition)
                        assert record.headers == (("X-Test", b"1"),)
        await consumer.commit()
    finally:
        await consumer.stop()

    assert received == sent
    assert len(partitions) > 1, "keys should spread over the topic's three partitions"
