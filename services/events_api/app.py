"""The API's application factory: routes, error handlers, and the lifespan that owns readiness.

Later issues add the Pipelines and Events routes; this module stays the one place they are wired.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from events_api.responses import error_response, json_response
from events_api.settings import ApiSettings, load_settings

_STATUS_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}


async def healthz(_: Request) -> Response:
    """Liveness: the process serves requests."""
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: false until start-up finished, and again once shutdown began."""
    if request.app.state.ready:
        return json_response({"ready": True})
    return json_response({"ready": False}, status_code=503)


async def http_error(_: Request, error: Exception) -> Response:
    """Every HTTP error, Starlette's own 404/405 included, as a JSON error body."""
    if not isinstance(error, HTTPException):
        return await unexpected_error(_, error)
    code = _STATUS_CODES.get(error.status_code, "http_error")
    return error_response(code, str(error.detail), status_code=error.status_code)


async def unexpected_error(_: Request, __: Exception) -> Response:
    """No stack trace ever reaches a client; the server log has it."""
    return error_response("internal_error", "internal error; see the server log", status_code=500)


def create_app(settings: ApiSettings | None = None) -> Starlette:
    """Build the API application (uvicorn calls this with `--factory`)."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False

    app = Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz)],
        exception_handlers={HTTPException: http_error, Exception: unexpected_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.ready = False
    return app
