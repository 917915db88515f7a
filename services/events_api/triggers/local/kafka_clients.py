"""The backend's Kafka clients, and the one place aiokafka's errors become ours.

A producer for dead letters is shared by every trigger and started on first use, so the API
starts (and serves pipelines) while Kafka is still down; a start then answers 503
(:class:`BackendUnavailable`) naming the bootstrap servers.
"""

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from events_api.triggers.errors import BackendUnavailable


def unavailable(error: BaseException, servers: tuple[str, ...]) -> BackendUnavailable:
    """Our error for a Kafka that cannot be reached or answered with an error."""
    return BackendUnavailable(
        f"Kafka at {','.join(servers)} is unavailable ({type(error).__name__}: {error}); "
        "check that it runs (PIPELINE_EVENTS_LOCAL_KAFKA_BOOTSTRAP_SERVERS) and retry"
    )


KAFKA_ERRORS = (KafkaError, OSError, TimeoutError)
"""What aiokafka raises when the cluster is unreachable, slow or refuses (translated once)."""


class KafkaClients:
    """The shared dead-letter producer, started lazily, stopped once."""

    def __init__(self, servers: tuple[str, ...], *, request_timeout: float) -> None:
        self.servers = servers
        self._timeout = request_timeout
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def producer(self) -> Any:
        """The started producer.

        Raises:
            BackendUnavailable: Kafka cannot be reached.
        """
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=list(self.servers),
                    client_id="pipeline-events-local-dead-letters",
                    acks="all",
                    enable_idempotence=True,
                    request_timeout_ms=int(self._timeout * 1000),
                )
                try:
                    async with asyncio.timeout(self._timeout):
                        await producer.start()
                except KAFKA_ERRORS as error:
                    await producer.stop()
                    raise unavailable(error, self.servers) from error
                self._producer = producer
            return self._producer

    async def ensure_topic(self, topic: str) -> bool:
        """Look the topic up, which creates it where the broker auto-creates topics (dev
        Kafka does); False when it is still unknown (the consumer then holds no partitions,
        and `source_ready` says so, until it appears).

        Raises:
            BackendUnavailable: Kafka cannot be reached.
        """
        producer = await self.producer()
        try:
            async with asyncio.timeout(self._timeout):
                partitions = await producer.partitions_for(topic)
        except KAFKA_ERRORS:
            return False
        return bool(partitions)

    async def send_and_wait(
        self, topic: str, value: Any = None, key: Any = None, headers: Any = None
    ) -> Any:
        """Produce one record with the shared producer (started on first use).

        Raises:
            BackendUnavailable: Kafka cannot be reached.
            KafkaError: the broker refused the record.
        """
        producer = await self.producer()
        return await producer.send_and_wait(topic, value=value, key=key, headers=headers)

    async def close(self) -> None:
        """Stop the producer (flushing what it holds); safe to call twice."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()
