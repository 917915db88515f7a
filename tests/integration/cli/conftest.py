"""A real API for the client's tests: served by uvicorn on 127.0.0.1 in a background thread.

The API is the real application (SQLite store, static tokens for alice, bob and reader) with a
trigger backend whose readiness the test scripts, so `events start --wait` can be made to
succeed after a few polls or never, without Kafka or a cluster.
"""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn

from events_api.app import create_app
from events_api.auth.settings import AuthMode, AuthSettings
from events_api.settings import ApiSettings
from events_api.triggers.protocol import StartOutcome, StartRequest
from pipeline_models import PipelineId, TenantId, TriggerStatus
from support.api import write_token_file

START_SECONDS = 30
"""The most the server may take to start or stop (a bound, never a timing assertion)."""

Key = tuple[TenantId, PipelineId]


@dataclass
class ScriptedBackend:
    """A trigger backend whose readiness the test scripts.

    A started trigger turns ready on its `ready_after_polls`-th status read; with None it never
    does, and a long-poll then waits out its whole `?wait=`, as a real backend would.
    """

    ready_after_polls: int | None = 1
    reason: str = "RevisionMissing"
    message: str = "the runner image cannot be pulled"
    dead_letter: str | None = None
    versions: dict[Key, int] = field(default_factory=dict)
    polls: dict[Key, int] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return True

    def missing_apis(self) -> list[str]:
        return []

    async def start(self, request: StartRequest) -> StartOutcome:
        key = (request.tenant, request.version.pipeline_id)
        self.versions[key] = request.version.version
        self.polls[key] = 0
        return StartOutcome(dead_letter=self.dead_letter, offsets_reset=request.reset)

    async def stop(self, tenant: TenantId, pipeline_id: PipelineId) -> bool:
        self.polls.pop((tenant, pipeline_id), None)
        return self.versions.pop((tenant, pipeline_id), None) is not None

    def _turns_ready(self, key: Key) -> bool:
        return self.ready_after_polls is not None and self.polls[key] >= self.ready_after_polls

    def status(self, tenant: TenantId, pipeline_id: PipelineId) -> TriggerStatus | None:
        key = (tenant, pipeline_id)
        if key not in self.versions:
            return None
        self.polls[key] += 1
        ready = self._turns_ready(key)
        return TriggerStatus(
            ready=ready,
            source_ready=ready,
            pipeline_version=self.versions[key],
            reason=None if ready else self.reason,
            message=None if ready else self.message,
        )

    async def wait_until_ready(
        self, tenant: TenantId, pipeline_id: PipelineId, *, version: int, wait_seconds: float
    ) -> None:
        if self.ready_after_polls is None:
            await asyncio.sleep(wait_seconds)


@dataclass
class ServedApi:
    """The API at `url`, its callers' tokens, and the backend the test scripts."""

    url: str
    tokens: dict[str, str]
    backend: ScriptedBackend


@contextlib.contextmanager
def serve_in_thread(server: uvicorn.Server, sock: socket.socket) -> Iterator[None]:
    """Run `server` on `sock` in a background thread until the block ends."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="api-server")
    thread.start()
    try:
        for _ in range(START_SECONDS * 20):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.05)
        assert server.started, "the API server did not start"
        yield
    finally:
        server.should_exit = True
        thread.join(START_SECONDS)
        assert not thread.is_alive(), "the API server did not stop"


@pytest.fixture
def served_api(tmp_path: Path) -> Iterator[ServedApi]:
    """The real API on 127.0.0.1 (a kernel-chosen port), with a scripted trigger backend."""
    folder = tmp_path / "api"
    folder.mkdir()
    tokens = write_token_file(folder / "tokens.json")
    backend = ScriptedBackend()

    @contextlib.asynccontextmanager
    async def triggers(_: ApiSettings) -> AsyncIterator[ScriptedBackend]:
        yield backend

    app = create_app(
        ApiSettings(sqlite_path=str(folder / "pipelines.sqlite3"), status_wait_max_seconds=30),
        auth_settings=AuthSettings(
            mode=AuthMode.STATIC, static_tokens_file=str(folder / "tokens.json")
        ),
        triggers=triggers,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        ws="none",
        http="h11",
        log_level="warning",
        log_config=None,
        # A long-poll still in flight must not hold the test's teardown.
        timeout_graceful_shutdown=5,
    )
    with sock, serve_in_thread(uvicorn.Server(config), sock):
        yield ServedApi(url=f"http://127.0.0.1:{port}", tokens=tokens, backend=backend)


@pytest.fixture
def client_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No API URL, token or config from the developer's machine; a fresh cache and config home.

    Returns the cache folder (`pipeline-events dev` keeps its token in `<cache>/dev/dev-token`).
    """
    for name in ("PIPELINE_EVENTS_API_URL", "PIPELINE_EVENTS_TOKEN", "PIPELINE_EVENTS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PIPELINE_EVENTS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "cache"
