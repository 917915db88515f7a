"""The API's application factory: routes, error handling, observability, and the lifespan that
opens the store and the authenticator and owns readiness.

`create_app()` reads its settings from the environment (uvicorn calls it with `--factory`);
tests pass settings and collaborators in.
"""

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
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
from events_api.observability import Metrics, RequestObservation
from events_api.openapi import build_openapi
from events_api.pipelines import PipelineService
from events_api.responses import json_response
from events_api.routes import pipelines
from events_api.settings import ApiSettings, load_settings
from events_api.store.factory import open_store
from events_api.store.protocol import PipelineStore

StoreOpener = Callable[[ApiSettings], AbstractAsyncContextManager[PipelineStore]]
AuthenticatorOpener = Callable[[], AbstractAsyncContextManager[Authenticator]]


def _open_configured_store(settings: ApiSettings) -> AbstractAsyncContextManager[PipelineStore]:
    return open_store(
        database_url=settings.database_url or None, sqlite_path=Path(settings.sqlite_path)
    )


async def healthz(_: Request) -> Response:
    """Liveness: the process serves requests."""
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: false until start-up finished, and again once shutdown began."""
    if request.app.state.ready:
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
) -> Starlette:
    """Build the API application.

    Args:
        settings: the API's settings; read from `PIPELINE_EVENTS_*` when omitted.
        auth_settings: authentication settings; read from `PIPELINE_EVENTS_AUTH_*` when omitted.
        store: opens the pipeline store for the application's lifetime.
        authenticator: opens the authenticator; by default built from `auth_settings`.
    """
    settings = settings or load_settings()
    if authenticator is None:
        resolved_auth = auth_settings or load_auth_settings()

        def authenticator() -> AbstractAsyncContextManager[Authenticator]:
            return open_authenticator(resolved_auth)

    open_auth = authenticator

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with store(settings) as opened_store, open_auth() as opened_auth:
            app.state.context = AppContext(
                settings=settings,
                store=opened_store,
                authenticator=opened_auth,
                pipelines=PipelineService(opened_store),
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
