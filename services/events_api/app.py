"""The API's application factory: routes, error handling, observability, and the lifespan that
opens the store and the authenticator and owns readiness.

`create_app()` reads its settings from the environment (uvicorn calls it with `--factory`);
tests pass settings and collaborators in.
"""

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_api.auth.authenticator import Authenticator, open_authenticator
from events_api.auth.settings import AuthSettings, load_auth_settings
from events_api.context import AppContext
from events_api.error_handlers import EXCEPTION_HANDLERS
from events_api.events import TriggerService
from events_api.observability import Metrics, RequestObservation
from events_api.openapi import build_openapi
from events_api.pipelines import PipelineService
from events_api.responses import json_response
from events_api.routes import events as events_routes
from events_api.routes import pipelines
from events_api.settings import ApiSettings, load_settings
from events_api.store.factory import open_store
from events_api.store.protocol import PipelineStore
from events_api.triggers.knative.opening import open_knative_backend
from events_api.triggers.knative.settings import load_knative_settings
from events_api.triggers.local.opening import open_local_backend
from events_api.triggers.local.resuming import Resumable
from events_api.triggers.local.settings import load_local_settings
from events_api.triggers.protocol import TriggerBackend

StoreOpener = Callable[[ApiSettings], AbstractAsyncContextManager[PipelineStore]]
AuthenticatorOpener = Callable[[], AbstractAsyncContextManager[Authenticator]]
TriggerOpener = Callable[[ApiSettings], AbstractAsyncContextManager[TriggerBackend | None]]


@contextlib.asynccontextmanager
async def _open_configured_triggers(settings: ApiSettings) -> AsyncIterator[TriggerBackend | None]:
    if settings.trigger_backend == "none":
        yield None
        return
    if settings.trigger_backend == "local":
        async with open_local_backend(load_local_settings()) as local:
            yield local
        return
    async with open_knative_backend(
        load_knative_settings(), kubeconfig=settings.kubeconfig or None
    ) as backend:
        yield backend


def _open_configured_store(settings: ApiSettings) -> AbstractAsyncContextManager[PipelineStore]:
    return open_store(
        database_url=settings.database_url or None, sqlite_path=Path(settings.sqlite_path)
    )


async def healthz(_: Request) -> Response:
    """Liveness: the process serves requests."""
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: false until start-up finished and the trigger cache synced, and again once
    shutdown began."""
    context: AppContext | None = getattr(request.app.state, "context", None)
    backend = context.triggers if context is not None else None
    synced = backend is None or backend.ready
    if request.app.state.ready and synced:
        return json_response({"ready": True})
    return json_response({"ready": False}, status_code=503)


async def metrics(request: Request) -> Response:
    """Prometheus metrics of this application."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def openapi(request: Request) -> Response:
    """The OpenAPI document; `servers` follows the ingress prefix."""
    document = dict(request.app.state.openapi)
    root_path = request.scope.get("root_path", "")
    if root_path:
        document["servers"] = [{"url": root_path}]
    return json_response(document)


def create_app(
    settings: ApiSettings | None = None,
    *,
    auth_settings: AuthSettings | None = None,
    store: StoreOpener = _open_configured_store,
    authenticator: AuthenticatorOpener | None = None,
    triggers: TriggerOpener = _open_configured_triggers,
) -> Starlette:
    """Build the API application.

    Args:
        settings: the API's settings; read from `PIPELINE_EVENTS_*` when omitted.
        auth_settings: authentication settings; read from `PIPELINE_EVENTS_AUTH_*` when omitted.
        store: opens the pipeline store for the application's lifetime.
        authenticator: opens the authenticator; by default built from `auth_settings`.
        triggers: opens the trigger backend (None: the events endpoints answer 503).
    """
    settings = settings or load_settings()
    if authenticator is None:
        resolved_auth = auth_settings or load_auth_settings()

        def authenticator() -> AbstractAsyncContextManager[Authenticator]:
            return open_authenticator(resolved_auth)

    open_auth = authenticator

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            store(settings) as opened_store,
            open_auth() as opened_auth,
            triggers(settings) as backend,
        ):
            events = None
            if backend is not None:
                events = TriggerService(
                    opened_store,
                    backend,
                    clock=lambda: datetime.now(UTC),
                    max_wait_seconds=settings.status_wait_max_seconds,
                )
                if isinstance(backend, Resumable):
                    # Process-based triggers died with the previous API process.
                    await backend.resume(opened_store)
            app.state.context = AppContext(
                settings=settings,
                store=opened_store,
                authenticator=opened_auth,
                pipelines=PipelineService(
                    opened_store, stop_trigger=None if backend is None else backend.stop
                ),
                events=events,
                triggers=backend,
            )
            app.state.ready = True
            try:
                yield
            finally:
                app.state.ready = False

    app_metrics = Metrics()
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/openapi.json", openapi),
            *pipelines.ROUTES,
            *events_routes.ROUTES,
        ],
        middleware=[Middleware(RequestObservation, metrics=app_metrics)],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.ready = False
    app.state.metrics = app_metrics
    app.state.openapi = build_openapi()
    return app
