"""The client's errors: one class per failure the user acts on differently.

Each carries a message that says what went wrong and what to do; which exit code each one ends
in is decided in :mod:`events_api.client.exit_codes`, and nowhere else::

    ClientError                   base of everything raised here
    ├── UsageError                bad input found before any request: an unreadable pipeline
    │                             file, a malformed URL, a broken config file
    ├── ApiUnreachable            no usable answer: connection refused, DNS, timeout, or the
    │                             URL answers but does not lead to the pipeline-events API
    └── ErrorAnswer               the API answered with an error body (status, code, problems)
        ├── InvalidRequest        400, 413, 415, 422: the request itself must change
        ├── AuthFailed            401, 403: the token is missing, unknown or lacks a scope
        ├── NotFound              404: no such pipeline, version or trigger for this caller
        ├── ServerUnavailable     429, 502, 503, 504: retry later
        └── RequestFailed         anything else (409, 412, 500, …): the message explains
"""

from typing import Any


class ClientError(Exception):
    """Base of the client's errors; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(ClientError):
    """The command's input is wrong (a file, a URL, the config); no request was sent."""


class ApiUnreachable(ClientError):
    """No usable answer from the API at `url` (refused, timed out, or not this API)."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class ErrorAnswer(ClientError):
    """The API answered an error: `{"error": code, "message": text}` with an HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        body: Any,
        problems: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body
        """The decoded JSON error body, as the API sent it (printed by `--json`)."""
        self.problems = problems
        """(JSON path, message) of each validation problem of a 422."""


class InvalidRequest(ErrorAnswer):
    """400, 413, 415, 422: the request is malformed or the pipeline invalid."""


class AuthFailed(ErrorAnswer):
    """401, 403: no token, an unknown token, or one without the scope this call needs."""


class NotFound(ErrorAnswer):
    """404: no such pipeline, version or trigger for this caller."""


class ServerUnavailable(ErrorAnswer):
    """429, 502, 503, 504: the API or one of its dependencies is unavailable for now."""


class RequestFailed(ErrorAnswer):
    """Any other error answer (409, 412, 500, …); the message explains it."""
