"""The one place where errors become HTTP answers: `{"error": CODE, "message": TEXT}` always.

Errors of the store, of authentication and of the shared models are translated into
:mod:`events_api.errors` here, so no route picks a status code and no client ever sees a stack
trace, a database error or a raw Kubernetes body.
"""

import logging
import math

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

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


def _internal(error: Exception) -> ApiError:
    logger.error("unexpected error", exc_info=error)
    return ApiError("internal error; the server log has the details")


def to_api_error(error: Exception) -> ApiError:
    """The API error that answers `error`, whatever layer raised it."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, AuthError):
        return _from_auth(error)
    if isinstance(error, StoreError):
        return _from_store(error)
    if isinstance(error, PipelineModelsError):
        return _from_models(error)
    if isinstance(error, HTTPException):
        code = _HTTP_CODES.get(error.status_code, "http_error")
        headers = dict(error.headers or {})
        return ApiError(str(error.detail), code=code, headers=headers, status=error.status_code)
    return _internal(error)


def render(error: ApiError) -> Response:
    """The HTTP answer for an API error."""
    response = json_response(error.body(), status_code=error.status)
    response.headers.update(error.headers)
    return response


async def handle_error(_: Request, error: Exception) -> Response:
    """Starlette's exception handler for every error class we know."""
    return render(to_api_error(error))


EXCEPTION_HANDLERS = {
    ApiError: handle_error,
    AuthError: handle_error,
    StoreError: handle_error,
    PipelineModelsError: handle_error,
    HTTPException: handle_error,
    Exception: handle_error,
}
"""The handlers to give Starlette (`Exception` is the last resort: an answer 500, logged)."""
