"""JSON responses encoded with msgspec, and the one shape every error takes."""

from typing import Any

import msgspec
from starlette.responses import Response

_encoder = msgspec.json.Encoder()


def json_response(content: Any, *, status_code: int = 200) -> Response:
    """A JSON response of any msgspec-encodable value."""
    return Response(
        _encoder.encode(content), status_code=status_code, media_type="application/json"
    )


def error_response(code: str, message: str, *, status_code: int) -> Response:
    """The API's error body `{"error": CODE, "message": TEXT}` with its HTTP status."""
    return json_response({"error": code, "message": message}, status_code=status_code)
