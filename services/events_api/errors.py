"""The API's own errors: one class per answer a client can act on.

Routes and use cases raise these (or let the store's, auth's and the models' errors through);
:mod:`events_api.error_handlers` is the one place that turns any of them into an HTTP answer::

    ApiError
    ├── BadRequest            400  malformed_body, invalid_parameter, invalid_version
    ├── Unauthorized          401  unauthorized (with WWW-Authenticate: Bearer)
    ├── Forbidden             403  forbidden (a scope the token lacks)
    ├── NotFound              404  not_found, pipeline_not_found, version_not_found, …
    ├── Conflict              409  conflict
    ├── PreconditionFailed    412  precondition_failed (a stale If-Match)
    ├── PayloadTooLarge       413  payload_too_large
    ├── UnsupportedMediaType  415  unsupported_media_type
    ├── ValidationFailed      422  validation_failed, with every problem and its JSON path
    └── Unavailable           503  unavailable (retryable)
"""

from pipeline_models import ErrorBody, ErrorCode, Problem


class ApiError(Exception):
    """An error answer: HTTP status, machine-readable code, and a message that says what to do."""

    status: int = 500
    default_code: str = ErrorCode.INTERNAL_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        problems: tuple[Problem, ...] | None = None,
        headers: dict[str, str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status or type(self).status
        self.code = code or self.default_code
        self.problems = problems
        self.headers = headers or {}

    def body(self) -> ErrorBody:
        """The JSON error body."""
        return ErrorBody(error=self.code, message=self.message, problems=self.problems)


class BadRequest(ApiError):
    """The request is malformed (body, parameter or version selector)."""

    status = 400
    default_code = ErrorCode.MALFORMED_BODY


class Unauthorized(ApiError):
    """No valid bearer token; the answer carries `WWW-Authenticate: Bearer`."""

    status = 401
    default_code = ErrorCode.UNAUTHORIZED


class Forbidden(ApiError):
    """The token is valid but lacks the scope this call needs."""

    status = 403
    default_code = ErrorCode.FORBIDDEN


class NotFound(ApiError):
    """No such resource for this caller (another tenant's looks exactly the same)."""

    status = 404
    default_code = ErrorCode.NOT_FOUND


class Conflict(ApiError):
    """The request conflicts with the resource's state (e.g. deleting a running pipeline)."""

    status = 409
    default_code = ErrorCode.CONFLICT


class PreconditionFailed(ApiError):
    """An `If-Match` names a version that is no longer the latest."""

    status = 412
    default_code = ErrorCode.PRECONDITION_FAILED


class PayloadTooLarge(ApiError):
    """The request body is larger than the configured limit."""

    status = 413
    default_code = ErrorCode.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(ApiError):
    """The request body is not JSON."""

    status = 415
    default_code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


class ValidationFailed(ApiError):
    """The body is JSON but not a valid pipeline; `problems` lists every problem."""

    status = 422
    default_code = ErrorCode.VALIDATION_FAILED


class Unavailable(ApiError):
    """A dependency (database, key server, Kubernetes) is unreachable; retry later."""

    status = 503
    default_code = ErrorCode.UNAVAILABLE
