"""An API restart loses nothing: the lifespan resumes every trigger whose intent is "started"."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from events_api.app import create_app
from events_api.auth.settings import AuthMode, AuthSettings
from events_api.devstack import KafkaServer
from events_api.settings import ApiSettings
from events_api.triggers.local.backend import LocalTriggerBackend
from events_api.triggers.local.opening import open_local_backend
from events_api.triggers.local.settings import LocalSettings
from integration.local_backend.conftest import (
    BOUND_SECONDS,
    Collector,
    forward_to,
    new_topic,
    produce,
)
from pipeline_models import PipelineId
from support.api import Api, write_token_file

pytestmark = pytest.mark.kafka


@asynccontextmanager
async def running_api(tmp_path: Path, local: LocalSettings) -> AsyncIterator[Api]:
    """The API over SQLite in `tmp_path` with the local backend (same files every time)."""
    tokens = write_token_file(tmp_path / "tokens.json")

    def triggers(_: ApiSettings) -> AbstractAsyncContextManager[LocalTriggerBackend]:
        return open_local_backend(local)

    app = create_app(
        ApiSettings(sqlite_path=str(tmp_path / "pipelines.sqlite3"), trigger_backend="local"),
        auth_settings=AuthSettings(
            mode=AuthMode.STATIC, static_tokens_file=str(tmp_path / "tokens.json")
        ),
        triggers=triggers,
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api", timeout=90) as client,
    ):
        yield Api(app=app, client=client, tokens=tokens)


async def ready_status(api: Api, pipeline_id: str) -> dict[str, Any]:
    """GET the status (long-polling), then until the consumer holds its partitions."""
    async with asyncio.timeout(BOUND_SECONDS):
        while True:
            response = await api.client.get(
                f"/api/v1/events/{pipeline_id}", params={"wait": "30"}, headers=api.auth("alice")
            )
            assert response.status_code == 200, response.text
            status: dict[str, Any] = response.json()
            if status["ready"] and status["source_ready"]:
                return status
            await asyncio.sleep(0.1)


async def test_an_api_restart_resumes_started_triggers_and_loses_nothing(
    kafka_server: KafkaServer,
    local_settings: LocalSettings,
    tmp_path: Path,
    collect: Callable[[str], Collector],
) -> None:
    source, output = await new_topic(kafka_server), await new_topic(kafka_server)
    outputs = collect(output)
    body = {"name": "resumed", "options": {"event": source}, "steps": forward_to(output)}

    async with running_api(tmp_path, local_settings) as api:
        created = await api.client.post("/api/v1/pipelines", json=body, headers=api.auth("alice"))
        assert created.status_code == 201, created.text
        pipeline_id = created.json()["id"]
        started = await api.client.post(f"/api/v1/events/{pipeline_id}", headers=api.auth("alice"))
        assert started.status_code == 200, started.text
        assert started.json()["dead_letter"] == f"topic {source}.dlq"
        status = await ready_status(api, pipeline_id)
        assert status["pipeline_version"] == 1
        await produce(kafka_server, source, [{"seq": n} for n in range(10)])
        await outputs.wait_for(lambda records: len(records) >= 10)
        backend: LocalTriggerBackend = api.context.triggers  # type: ignore[assignment]
        first_pids = backend.pids(PipelineId(pipeline_id))

    # The API is down: its runners went with it, the records wait in Kafka.
    await produce(kafka_server, source, [{"seq": n} for n in range(10, 25)])

    async with running_api(tmp_path, local_settings) as api:
        await ready_status(api, pipeline_id)
        await outputs.wait_for(
            lambda _: {value["seq"] for value in outputs.values()} >= set(range(25))
        )
        backend = api.context.triggers  # type: ignore[assignment]
        pids = backend.pids(PipelineId(pipeline_id))
        assert pids
        assert not set(pids) & set(first_pids)
        stopped = await api.client.delete(
            f"/api/v1/events/{pipeline_id}", headers=api.auth("alice")
        )
        assert stopped.status_code == 200, stopped.text
        assert backend.pids(PipelineId(pipeline_id)) == []

    # Stopped for good: a third start-up resumes nothing.
    async with running_api(tmp_path, local_settings) as api:
        missing = await api.client.get(f"/api/v1/events/{pipeline_id}", headers=api.auth("alice"))
        assert missing.status_code == 404
