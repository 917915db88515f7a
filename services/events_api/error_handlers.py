"""The one place where errors become HTTP answers: `{"error": CODE, "message": TEXT}` always.

Errors of the store, of authentication and of the shared models are translated into
:mod:`events_api.errors` here, so no route picks a status code and no client ever sees a stack
trace, a database error or a raw Kubernetes body.
"""

import logging
import math
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from events_api.auth.bearer import bearer_challenge
from events_api.auth.errors import AuthError, AuthUnavailable, MissingScope
from events_api.errors import (
    ApiError,
    BadRequest,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)
from events_api.responses import json_response
from events_api.store.errors import (
    InvalidCursor,
    PipelineNotFound,
    StoreError,
    StoreUnavailable,
    VersionConflict,
    VersionNotFound,
)
from events_api.triggers.errors import (
    BackendUnavailable,
    MissingApi,
    NoEventOption,
    TriggerConflict,
    TriggerError,
    TriggerNotFound,
)
from pipeline_models import ErrorCode, InvalidVersionSelector, PipelineModelsError, SpecInvalid

logger = logging.getLogger("events_api.errors")

_HTTP_CODES = {
    400: ErrorCode.MALFORMED_BODY,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}
# Seconds a client should wait before retrying an answer about an unreachable dependency.
_RETRY_AFTER = "1"


def _from_auth(error: AuthError) -> ApiError:
    # The stable `error` code says which class of failure; the message says exactly what.
    if isinstance(error, MissingScope):
        return Forbidden(str(error), headers={"WWW-Authenticate": bearer_challenge(error)})
    if isinstance(error, AuthUnavailable):
        retry_after = str(max(1, math.ceil(error.retry_after_seconds)))
        return Unavailable(str(error), headers={"Retry-After": retry_after})
    return Unauthorized(str(error), headers={"WWW-Authenticate": bearer_challenge(error)})


def _from_store(error: StoreError) -> ApiError:
    if isinstance(error, PipelineNotFound):
        return NotFound(str(error), code=ErrorCode.PIPELINE_NOT_FOUND)
    if isinstance(error, VersionNotFound):
        return NotFound(str(error), code=ErrorCode.VERSION_NOT_FOUND)
    if isinstance(error, VersionConflict):
        return PreconditionFailed(str(error))
    if isinstance(error, InvalidCursor):
        return BadRequest(str(error), code=ErrorCode.INVALID_PARAMETER)
    if isinstance(error, StoreUnavailable):
        return Unavailable(
            "the pipeline store is unavailable; retry shortly",
            headers={"Retry-After": _RETRY_AFTER},
        )
    return _internal(error)


def _from_models(error: PipelineModelsError) -> ApiError:
    if isinstance(error, SpecInvalid):
        return ValidationFailed(
            f"the pipeline is invalid: {len(error.problems)} problem(s), each with its path",
            problems=error.problems,
        )
    if isinstance(error, InvalidVersionSelector):
        return BadRequest(str(error), code=ErrorCode.INVALID_VERSION)
    return _internal(error)


def _from_triggers(error: TriggerError) -> ApiError:
    if isinstance(error, NoEventOption):
        # Documented by the product: starting a pipeline without an event option answers 500.
        return ApiError(str(error), code=ErrorCode.PIPELINE_HAS_NO_EVENT_OPTION)
    if isinstance(error, TriggerNotFound):
        return NotFound(str(error), code=ErrorCode.TRIGGER_NOT_FOUND)
    if isinstance(error, ValueError):
        # A pipeline's options ask for what the operator's bounds refuse (e.g. resources).
        return ValidationFailed(str(error))
    if isinstance(error, MissingApi | BackendUnavailable | TriggerConflict):
        # Retryable, or fixed by the operator installing what is missing; never a raw 409.
        return Unavailable(str(error), headers={"Retry-After": _RETRY_AFTER})
    logger.error("trigger failed: %s", error)
    return ApiError(str(error), code=ErrorCode.TRIGGER_FAILED)


def _internal(error: Exception) -> ApiError:
    logger.error("unexpected error", exc_info=error)
    return ApiError("internal error; the server log has the details")


def _from_http(error: HTTPException) -> ApiError:
    code = _HTTP_CODES.get(error.status_code, "http_error")
    headers = dict(error.headers or {})
    return ApiError(str(error.detail), code=code, headers=headers, status=error.status_code)


_TRANSLATORS: tuple[tuple[type[Exception], Callable[[Any], ApiError]], ...] = (
    (AuthError, _from_auth),
    (StoreError, _from_store),
    (PipelineModelsError, _from_models),
    (TriggerError, _from_triggers),
    (HTTPException, _from_http),
)


def to_api_error(error: Exception) -> ApiError:
    """The API error that answers `error`, whatever layer raised it."""
    if isinstance(error, ApiError):
        return error
    for error_type, translate in _TRANSLATORS:
        if isinstance(error, error_type):
            return translate(error)
    return _internal(error)


def render(error: ApiError) -> Response:
    """The HTTP answer for an API error."""
    response = json_response(error.body(), status_code=error.status)
    response.headers.update(error.headers)
    return response


def allowed_methods(request: Request) -> str:
    """The `Allow` header of a 405: every method some route serves at the request's path.

    Starlette answers a 405 with the methods of the first route whose path matched, but our
    routes are one per method (`GET` and `POST` of the collection are two routes), and RFC 9110
    wants the resource's methods, all of them.
    """
    methods = {
        method
        for route in request.app.router.routes
        if isinstance(route, Route) and route.methods
        if route.matches(request.scope)[0] is not Match.NONE
        for method in route.methods
    }
    return ", ".join(sorted(methods))


async def handle_error(request: Request, error: Exception) -> Response:
    """Starlette's exception handler for every error class we know."""
    api_error = to_api_error(error)
    if api_error.status == 405:
        api_error.headers["Allow"] = allowed_methods(request)
    return render(api_error)


EXCEPTION_HANDLERS = {
    ApiError: handle_error,
    AuthError: handle_error,
    StoreError: handle_error,
    PipelineModelsError: handle_error,
    TriggerError: handle_error,
    HTTPException: handle_error,
    Exception: handle_error,
}
"""The handlers to give Starlette (`Exception` is the last resort: an answer 500, logged)."""
