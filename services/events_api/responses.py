"""JSON responses encoded with msgspec."""

from typing import Any

import msgspec
from starlette.responses import Response

_encoder = msgspec.json.Encoder()


def json_response(content: Any, *, status_code: int = 200) -> Response:
    """A JSON response of any msgspec-encodable value."""
    return Response(
        _encoder.encode(content), status_code=status_code, media_type="application/json"
    )
