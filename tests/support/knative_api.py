"""The events API wired to the real kube-apiserver, running as the shipped ServiceAccount.

Each harness gets its own API and trigger namespaces, the shipped RBAC applied there, a Knative
controller stand-in in the trigger namespace, and any number of API instances (replicas) sharing
one store, each with its own client authenticated as the ServiceAccount.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from kubernetes_asyncio import client

from events_api.app import create_app
from events_api.auth.settings import AuthMode, AuthSettings
from events_api.devstack.kubernetes import KubeApiServer
from events_api.settings import ApiSettings
from events_api.store.factory import open_store
from events_api.store.options import StoreOptions
from events_api.store.protocol import PipelineStore
from events_api.triggers.knative.backend import KnativeTriggerBackend
from events_api.triggers.knative.opening import open_knative_backend
from events_api.triggers.knative.settings import KnativeSettings
from support.api import Api, write_token_file
from support.knative_controllers import KnativeControllers
from support.kubernetes import api_client_for, create_namespace
from support.rbac import ApiIdentity, apply_shipped_rbac


@dataclass
class KnativeHarness:
    """Namespaces, identity and helpers shared by the API instances of one test."""

    apiserver: KubeApiServer
    workdir: Path
    trigger_namespace: str
    identity: ApiIdentity
    controllers: KnativeControllers
    admin: client.ApiClient
    knative: KnativeSettings
    tokens: dict[str, str] = field(default_factory=dict)
    database_url: str | None = None
    """The instances' shared PostgreSQL store; None: a SQLite file in `workdir`."""
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    _instances: int = 0

    async def instance(self) -> Api:
        """Start one more API instance (a replica) on the shared store; stopped with the harness."""
        self._instances += 1
        name = f"api-{self.trigger_namespace}-{self._instances}"
        sa_client = await api_client_for(self.apiserver, self.identity.token, name=name)
        self._stack.push_async_callback(sa_client.close)

        def triggers(_: ApiSettings) -> AbstractAsyncContextManager[KnativeTriggerBackend]:
            return open_knative_backend(self.knative, api=sa_client)

        def store(settings: ApiSettings) -> AbstractAsyncContextManager[PipelineStore]:
            # Replicas share one SQLite file here; on a loaded 2-core machine its lock waits
            # outlast the production defaults (production replicas share PostgreSQL).
            patient = StoreOptions(operation_timeout_seconds=30, sqlite_busy_timeout_seconds=20)
            return open_store(
                database_url=self.database_url,
                sqlite_path=Path(settings.sqlite_path),
                options=patient,
            )

        app = create_app(
            ApiSettings(
                sqlite_path=str(self.workdir / "store.sqlite3"), status_wait_max_seconds=30
            ),
            store=store,
            auth_settings=AuthSettings(
                mode=AuthMode.STATIC, static_tokens_file=str(self.workdir / "tokens.json")
            ),
            triggers=triggers,
        )
        await self._stack.enter_async_context(app.router.lifespan_context(app))
        http = await self._stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")
        )
        api = Api(app=app, client=http, tokens=self.tokens)
        backend = api.context.triggers
        assert isinstance(backend, KnativeTriggerBackend)
        # Settled: every kind listed, or known to be unavailable (a missing CRD, say).
        async with asyncio.timeout(30):
            while not backend.ready:  # noqa: ASYNC110 - the cache offers no event for this
                await asyncio.sleep(0.05)
        return api

    def objects(self, plural: str) -> list[dict[str, Any]]:
        """The live objects of a kind in the trigger namespace (admin; for assertions)."""
        group = {
            "services": "serving.knative.dev/v1",
            "kafkasources": "sources.knative.dev/v1",
            "kafkasinks": "eventing.knative.dev/v1alpha1",
        }[plural]
        path = f"/apis/{group}/namespaces/{self.trigger_namespace}/{plural}"
        items: list[dict[str, Any]] = self.apiserver.request("GET", path)["items"]
        return items


@asynccontextmanager
async def knative_harness(
    apiserver: KubeApiServer,
    admin: client.ApiClient,
    workdir: Path,
    *,
    database_url: str | None = None,
    **settings: Any,
) -> AsyncIterator[KnativeHarness]:
    """Fresh namespaces, the shipped RBAC, the controller stand-in; instances via `.instance()`."""
    api_namespace = create_namespace(apiserver)
    trigger_namespace = create_namespace(apiserver)
    identity = apply_shipped_rbac(
        apiserver, api_namespace=api_namespace, trigger_namespace=trigger_namespace
    )
    knative = KnativeSettings(
        namespace=trigger_namespace,
        runner_image="registry.example.com/pipeline-events-runner:1",
        kafka_bootstrap_servers=("kafka.kafka.svc:9092",),
        **settings,
    )
    tokens = write_token_file(workdir / "tokens.json")
    async with KnativeControllers(admin, trigger_namespace) as controllers:
        harness = KnativeHarness(
            apiserver=apiserver,
            workdir=workdir,
            trigger_namespace=trigger_namespace,
            identity=identity,
            controllers=controllers,
            admin=admin,
            knative=knative,
            tokens=tokens,
            database_url=database_url,
        )
        async with harness._stack:
            yield harness
