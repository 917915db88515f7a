"""The Kafka producer ``kafka`` steps share: one per pod, started on first use, stopped at exit.

A pipeline without kafka steps never connects to Kafka. The first send starts the producer
(under a lock, so concurrent first sends start it once); a start that fails leaves nothing
behind and the next send tries again. aiokafka's errors are translated here, once:
retriable ones and timeouts → :class:`KafkaUnavailable`; the rest (a record too large, a topic
the credentials may not write) → :class:`KafkaRejected`. Credentials and TLS material come from
the environment variables the settings *name* (filled by Kubernetes from secrets).
"""

import asyncio
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.helpers import create_ssl_context

from pipeline_models import KafkaSettings
from pipeline_runner.errors import KafkaRejected, KafkaUnavailable

Headers = Sequence[tuple[str, bytes]]


class RecordProducer:
    """Produces records with acknowledgement from all in-sync replicas."""

    def __init__(self, settings: KafkaSettings, *, env: Mapping[str, str]) -> None:
        self._settings = settings
        self._env = env
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def started(self) -> bool:
        """True once a send has connected the producer (and until :meth:`close`)."""
        return self._producer is not None

    async def send(
        self, topic: str, *, value: bytes, key: bytes | None, headers: Headers
    ) -> dict[str, Any]:
        """Produce one record and wait for the acknowledgement.

        Returns:
            ``{"topic", "partition", "offset"}`` of the written record.
        """
        producer = await self._started_producer()
        try:
            async with asyncio.timeout(self._settings.produce_timeout_seconds):
                metadata = await producer.send_and_wait(
                    topic, value=value, key=key, headers=list(headers)
                )
        except TimeoutError as error:
            raise KafkaUnavailable(
                f"producing to {topic!r} was not acknowledged within "
                f"{self._settings.produce_timeout_seconds} s"
            ) from error
        except KafkaError as error:
            raise _translate(error, f"producing to {topic!r} failed") from error
        return {"topic": metadata.topic, "partition": metadata.partition, "offset": metadata.offset}

    async def close(self) -> None:
        """Flush and stop the producer; safe to call twice, and before any send."""
        async with self._lock:
            self._closed = True
            producer, self._producer = self._producer, None
        if producer is not None:
            await asyncio.shield(producer.stop())

    async def _started_producer(self) -> AIOKafkaProducer:
        if not self._settings.bootstrap_servers:
            raise KafkaRejected(
                "no Kafka cluster is configured for kafka steps (runner settings kafka."
                "bootstrap_servers is empty); ask the operator of the events API"
            )
        async with self._lock:
            if self._closed:
                raise KafkaUnavailable("the runner is shutting down")
            if self._producer is None:
                self._producer = await self._start()
            return self._producer

    async def _start(self) -> AIOKafkaProducer:
        settings = self._settings
        timeout_ms = int(settings.produce_timeout_seconds * 1000)
        producer = AIOKafkaProducer(
            bootstrap_servers=list(settings.bootstrap_servers),
            client_id=settings.client_id,
            acks="all",
            request_timeout_ms=timeout_ms,
            security_protocol=settings.security_protocol,
            ssl_context=self._ssl_context(),
            **self._sasl_options(),
        )
        try:
            async with asyncio.timeout(settings.produce_timeout_seconds):
                await producer.start()
        except BaseException as error:
            # Whatever interrupted the start (a timeout, a broker error, a cancellation), the
            # half-started client must not leak its connections and tasks.
            await asyncio.shield(producer.stop())
            if isinstance(error, TimeoutError):
                raise KafkaUnavailable(
                    f"cannot connect to Kafka at {','.join(settings.bootstrap_servers)}"
                ) from error
            if isinstance(error, KafkaError):
                raise _translate(error, "cannot connect to Kafka") from error
            raise
        return producer

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self._settings.security_protocol not in ("SSL", "SASL_SSL"):
            return None
        context: ssl.SSLContext = create_ssl_context(
            cafile=self._path(self._settings.ssl_ca_file_env),
            certfile=self._path(self._settings.ssl_cert_file_env),
            keyfile=self._path(self._settings.ssl_key_file_env),
        )
        return context

    def _sasl_options(self) -> dict[str, Any]:
        if not self._settings.security_protocol.startswith("SASL"):
            return {}
        return {
            "sasl_mechanism": self._settings.sasl_mechanism or "PLAIN",
            "sasl_plain_username": self._path(self._settings.sasl_username_env),
            "sasl_plain_password": self._path(self._settings.sasl_password_env),
        }

    def _path(self, env_name: str | None) -> str | None:
        return None if env_name is None else self._env.get(env_name)


def _translate(error: KafkaError, context: str) -> KafkaUnavailable | KafkaRejected:
    if getattr(error, "retriable", False):
        return KafkaUnavailable(f"{context}: {error!r}")
    return KafkaRejected(f"{context}: {error!r}")
