"""The benchmark's baseline: the Events API answering a status GET by reading the Service from the
Kubernetes API on every request, instead of from the watch-based readiness cache.

Everything else is the product's: the same `create_app` (routes, auth, middleware, JSON
encoding), the same store read of the trigger's intent, the same `combine` with that intent, the
same summary (`readiness.summarize`) and answer (`backend.status_from`). Only where the Service
comes from differs: `KnativeClient.get` (the product's own client seam, with its timeout and
error translation) instead of `ReadinessCache.get`.

The KafkaSource's readiness is still taken from the cache, so the baseline makes ONE Kubernetes
call per GET where a cache-less implementation would make two (Service and source): the measured
gap is a lower bound.

The trigger backend's protocol has a synchronous `status` (a cache read), so the baseline cannot be
a backend wrapper; it is a `TriggerService` whose `status` awaits the read, swapped into the
application's context once the lifespan has built it.
"""

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import msgspec
from starlette.applications import Starlette

from events_api.app import create_app
from events_api.auth.settings import AuthSettings
from events_api.events import TriggerService, combine
from events_api.settings import ApiSettings, load_settings
from events_api.store.protocol import PipelineStore
from events_api.triggers.knative.backend import KnativeTriggerBackend, status_from
from events_api.triggers.knative.client import KnativeClient
from events_api.triggers.knative.kinds import SERVICE
from events_api.triggers.knative.opening import connect, open_knative_backend
from events_api.triggers.knative.readiness import summarize
from events_api.triggers.knative.settings import KnativeSettings, load_knative_settings
from events_api.triggers.protocol import TriggerBackend
from pipeline_models import PipelineId, TenantId, TriggerStatus, service_name


class DirectReadTriggerService(TriggerService):
    """`TriggerService` whose status reads the Service from the Kubernetes API on every call."""

    def __init__(
        self,
        store: PipelineStore,
        backend: TriggerBackend,
        *,
        client: KnativeClient,
        max_wait_seconds: float,
    ) -> None:
        super().__init__(
            store, backend, clock=lambda: datetime.now(UTC), max_wait_seconds=max_wait_seconds
        )
        self._direct_store = store
        self._cached = backend
        self._client = client

    async def status(
        self, tenant: TenantId, pipeline_id: PipelineId, *, wait_seconds: float = 0
    ) -> TriggerStatus:
        """The Service from the apiserver, the source from the cache, combined with the intent."""
        if wait_seconds > 0:
            # Long-polls are not what this baseline measures.
            return await super().status(tenant, pipeline_id, wait_seconds=wait_seconds)
        intent = await self._direct_store.get_trigger_intent(tenant, pipeline_id=pipeline_id)
        raw = await self._client.get(SERVICE, service_name(pipeline_id))
        observed = None
        if raw is not None:
            cached = self._cached.status(tenant, pipeline_id)
            observed = msgspec.structs.replace(
                status_from(summarize(raw), None),
                source_ready=cached is not None and cached.source_ready is True,
            )
        return combine(intent, observed)


def build_direct_app(
    settings: ApiSettings,
    *,
    knative: KnativeSettings,
    auth_settings: AuthSettings | None = None,
) -> Starlette:
    """`create_app` with the real Knative backend, its status swapped for a per-GET read."""
    clients: list[KnativeClient] = []

    @contextlib.asynccontextmanager
    async def triggers(api_settings: ApiSettings) -> AsyncIterator[KnativeTriggerBackend]:
        api = await connect(api_settings.kubeconfig or None)
        try:
            async with open_knative_backend(knative, api=api) as backend:
                clients.append(
                    KnativeClient(
                        api,
                        namespace=knative.namespace,
                        timeout=knative.request_timeout_seconds,
                    )
                )
                yield backend
        finally:
            await api.close()

    app = create_app(settings, auth_settings=auth_settings, triggers=triggers)
    product_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(application: Starlette) -> AsyncIterator[None]:
        async with product_lifespan(application):
            context = application.state.context
            assert context.triggers is not None
            application.state.context = dataclasses.replace(
                context,
                events=DirectReadTriggerService(
                    context.store,
                    context.triggers,
                    client=clients[-1],
                    max_wait_seconds=settings.status_wait_max_seconds,
                ),
            )
            yield

    app.router.lifespan_context = lifespan
    return app


def direct_app() -> Starlette:
    """uvicorn factory (`--factory direct_status:direct_app`): settings from the environment."""
    return build_direct_app(load_settings(), knative=load_knative_settings())
