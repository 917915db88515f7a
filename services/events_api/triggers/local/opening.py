"""Open the local backend for an application's lifetime: its HTTP client, Kafka clients, and
the backend; on exit every trigger is stopped (offsets committed, runners stopped by PID) and
every client closed. Runners a killed API left behind are killed first (their PID files).
"""

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx

from events_api.triggers.local.backend import LocalTriggerBackend
from events_api.triggers.local.dead_letters import DeadLetterWriter
from events_api.triggers.local.kafka_clients import KafkaClients
from events_api.triggers.local.processes import kill_orphans
from events_api.triggers.local.settings import LocalSettings

logger = logging.getLogger(__name__)

MAX_CONNECTIONS = 256
"""Connections to runners at once (ordered: one per partition; unordered: up to 50 each)."""


@asynccontextmanager
async def open_local_backend(settings: LocalSettings) -> AsyncIterator[LocalTriggerBackend]:
    """The backend, ready to start triggers; everything stopped and closed on exit."""
    orphans = await asyncio.to_thread(kill_orphans, Path(settings.data_dir) / "runners")
    if orphans:
        logger.warning("killed runners left by a previous API process: pids %s", orphans)
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                limits=httpx.Limits(
                    max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
                ),
                # Runners are local processes: proxies from the environment never apply.
                trust_env=False,
                follow_redirects=False,
            )
        )
        kafka = KafkaClients(
            settings.kafka_bootstrap_servers, request_timeout=settings.kafka_request_timeout_seconds
        )
        stack.push_async_callback(kafka.close)

        dead_letters = DeadLetterWriter(
            producer=kafka,
            client=client,
            request_timeout=settings.kafka_request_timeout_seconds,
            random=random.random,
        )
        backend = LocalTriggerBackend(
            settings=settings, kafka=kafka, client=client, dead_letters=dead_letters
        )
        stack.push_async_callback(backend.close)
        yield backend
