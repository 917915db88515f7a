"""`reset=true`: move a stopped consumer group's offsets to the pipeline's `initial_offset`.

Knative's reset deletes and recreates the KafkaSource, which deletes the consumer group with its
offsets, so consumption restarts at `initialOffset`. aiokafka cannot delete a group, so the
local backend commits, for every partition of the topic, the beginning (`earliest`) or the end
(`latest`) offset — the same position the next consumer would start from. The group must have
no active member: the trigger's own consumer is stopped first.
"""

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from events_api.triggers.local.dispatch_config import DispatchConfig
from events_api.triggers.local.kafka_clients import KAFKA_ERRORS, KafkaClients, unavailable
from events_api.triggers.local.settings import LocalSettings


async def reset_offsets(
    config: DispatchConfig, *, settings: LocalSettings, kafka: KafkaClients
) -> None:
    """Commit `config.initial_offset`'s position for every partition of the topic.

    Raises:
        BackendUnavailable: Kafka cannot be reached or refused the commit.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=list(settings.kafka_bootstrap_servers),
        group_id=config.group,
        enable_auto_commit=False,
    )
    try:
        async with asyncio.timeout(settings.kafka_request_timeout_seconds * 3):
            await consumer.start()
            # The producer waits for the topic's metadata (the consumer's look-up would not).
            producer = await kafka.producer()
            partitions = await producer.partitions_for(config.topic)
            assigned = [TopicPartition(config.topic, number) for number in sorted(partitions)]
            if not assigned:
                return
            consumer.assign(assigned)
            if config.initial_offset == "earliest":
                positions = await consumer.beginning_offsets(assigned)
            else:
                positions = await consumer.end_offsets(assigned)
            await consumer.commit(positions)
    except KAFKA_ERRORS as error:
        raise unavailable(error, settings.kafka_bootstrap_servers) from error
    finally:
        await consumer.stop()
