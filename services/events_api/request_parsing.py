"""Reading what clients send: JSON bodies within a size limit, query parameters, `If-Match`.

Every failure is an :mod:`events_api.errors` error that says what was wrong and what to send.
"""

from typing import Any

import msgspec
from starlette.requests import Request

from events_api.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from pipeline_models import ErrorCode

INVALID_PARAMETER = ErrorCode.INVALID_PARAMETER
_JSON_TYPES = ("application/json",)


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in _JSON_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def read_json(request: Request, *, max_bytes: int) -> Any:
    """The request's JSON body, decoded; at most `max_bytes` are read.

    Raises:
        UnsupportedMediaType: the Content-Type is not JSON.
        PayloadTooLarge: the body is larger than `max_bytes`.
        BadRequest: the body is not JSON.
    """
    content_type = request.headers.get("content-type", "")
    if not _is_json(content_type):
        raise UnsupportedMediaType(
            f"send the body as JSON with 'Content-Type: application/json' "
            f"(got {content_type or 'no Content-Type'})"
        )
    too_large = PayloadTooLarge(f"the body is larger than the limit of {max_bytes} bytes")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    try:
        return msgspec.json.decode(b"".join(chunks))
    except msgspec.DecodeError as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from error


def query_int(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter within bounds.

    Raises:
        BadRequest: it is not a decimal integer within `minimum..maximum`.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.isascii() and raw.isdigit() and minimum <= int(raw) <= maximum:
        return int(raw)
    raise BadRequest(
        f"query parameter {name!r} must be an integer from {minimum} to {maximum}, got {raw!r}",
        code=INVALID_PARAMETER,
    )


def query_bool(request: Request, name: str) -> bool:
    """A boolean query parameter: `true`/`1` or `false`/`0` (absent: false).

    Raises:
        BadRequest: any other value.
    """
    raw = request.query_params.get(name)
    if raw is None:
        return False
    lowered = raw.lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise BadRequest(
        f"query parameter {name!r} must be true or false, got {raw!r}", code=INVALID_PARAMETER
    )


def etag_for(version: int) -> str:
    """The strong entity tag of a pipeline version: its number, quoted."""
    return f'"{version}"'


def expected_version(request: Request) -> int | None:
    """The version an `If-Match` header names; None without the header (or with `*`).

    Raises:
        BadRequest: the header is not one entity tag this API issued.
    """
    raw = request.headers.get("if-match")
    if raw is None or raw.strip() == "*":
        return None
    tag = raw.strip()
    inner = tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else ""
    if inner.isascii() and inner.isdigit() and int(inner) >= 1:
        return int(inner)
    raise BadRequest(
        f"If-Match must be one entity tag from an ETag header, like '\"3\"', got {raw!r}",
        code=INVALID_PARAMETER,
    )
