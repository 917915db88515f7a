"""`source_ready` means what it says: a record produced the moment the status reports it is
processed, with the default `initial_offset: latest` and a consumer group that never committed.

(Knative's KafkaSource has the condition `InitialOffsetsCommitted` for this: the source is not
ready before its consumer group's starting offsets are fixed; a consumer that only holds its
partitions has not yet looked up where "latest" is, and skips whatever is produced meanwhile.)
"""

from collections.abc import Callable

import msgspec
import pytest
from aiokafka import AIOKafkaProducer

from e2e.api_process import ApiProcess
from e2e.enrichment import EnrichmentServer
from e2e.flow import create_pipeline, enrich_pipeline, start_trigger, stop_trigger
from e2e.topics import TopicReader
from e2e.waiting import bounded
from events_api.devstack import KafkaServer
from support.kafka_topics import create_topics, topic_name

pytestmark = pytest.mark.kafka

PARTITIONS = 4


async def test_records_produced_as_soon_as_the_source_is_ready_are_processed(
    kafka_server: KafkaServer,
    api: ApiProcess,
    enrichment: EnrichmentServer,
    read_topic: Callable[[str], TopicReader],
) -> None:
    source, output = topic_name("e2e"), topic_name("e2e")
    await create_topics(kafka_server.bootstrap_servers, {source: PARTITIONS, output: 1})
    outputs = read_topic(output)
    body = enrich_pipeline(source=source, output=output, enrichment_url=enrichment.url)
    pipeline_id = await create_pipeline(api, body)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_server.bootstrap_servers)
    await producer.start()
    try:
        # Connected and the topic's metadata known: the first send goes out at once.
        await producer.partitions_for(source)
        await start_trigger(api, pipeline_id)
        status: dict[str, object] = {}
        async with bounded("the source is ready", describe=lambda: f"{status}\n{api.describe()}"):
            while not status.get("source_ready"):
                response = await api.client.get(f"/api/v1/events/{pipeline_id}", headers=api.auth())
                assert response.status_code == 200, response.text
                status = response.json()
        sent = [
            await producer.send(
                source,
                msgspec.json.encode({"id": f"p{partition}", "seq": 0, "word": "w"}),
                key=f"key-{partition}".encode(),
                partition=partition,
            )
            for partition in range(PARTITIONS)
        ]
        for future in sent:
            await future
    finally:
        await producer.stop()

    tally = await outputs.wait_for_ids(
        [f"p{partition}" for partition in range(PARTITIONS)], describe=api.describe
    )
    assert not tally.unexpected, tally.summary()
    await stop_trigger(api, pipeline_id)
