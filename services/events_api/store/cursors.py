"""Opaque page cursors: where the next page of a listing starts (keyset pagination).

A cursor names the last item of the page it follows, never an offset, so pages stay stable while
rows are inserted or deleted concurrently: no item is returned twice, and no item that existed
when the listing started is skipped. Pipelines are listed by ``(created_at, id)``, versions by
their number.

On the wire a cursor is unpadded URL-safe base64 of a small JSON array whose first element tags
the listing and format (``["p", micros, id]``, ``["v", version]``); a new format gets a new tag.
Cursors are not signed: the position is not a secret, and every query is scoped to the caller's
tenant anyway. Anything the decoder does not recognise raises :class:`InvalidCursor`.
"""

import base64
import binascii
from datetime import datetime
from typing import Annotated

import msgspec

from events_api.store.errors import InvalidCursor
from events_api.store.timestamps import from_micros, to_micros
from pipeline_models import PipelineId

MAX_CURSOR_LENGTH = 256
"""Longer cursors are rejected before decoding (ours are below 100 characters)."""


class _PipelinesAfter(msgspec.Struct, frozen=True, array_like=True, tag="p"):
    created_at_micros: Annotated[int, msgspec.Meta(ge=0)]
    pipeline_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class _VersionsAfter(msgspec.Struct, frozen=True, array_like=True, tag="v"):
    version: Annotated[int, msgspec.Meta(ge=1)]


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(_PipelinesAfter | _VersionsAfter)


def encode_pipelines_cursor(created_at: datetime, pipeline_id: PipelineId) -> str:
    """The cursor of a pipelines page ending with the pipeline ``(created_at, pipeline_id)``."""
    return _encode(_PipelinesAfter(to_micros(created_at), pipeline_id))


def decode_pipelines_cursor(cursor: str) -> tuple[datetime, PipelineId]:
    """The ``(created_at, pipeline_id)`` a pipelines cursor points after.

    Raises:
        InvalidCursor: not a pipelines cursor issued by this store.
    """
    position = _decode(cursor)
    if not isinstance(position, _PipelinesAfter):
        raise InvalidCursor("this cursor belongs to another listing; start again without it")
    return from_micros(position.created_at_micros), PipelineId(position.pipeline_id)


def encode_versions_cursor(version: int) -> str:
    """The cursor of a versions page ending with ``version``."""
    return _encode(_VersionsAfter(version))


def decode_versions_cursor(cursor: str) -> int:
    """The version number a versions cursor points after.

    Raises:
        InvalidCursor: not a versions cursor issued by this store.
    """
    position = _decode(cursor)
    if not isinstance(position, _VersionsAfter):
        raise InvalidCursor("this cursor belongs to another listing; start again without it")
    return position.version


def _encode(position: _PipelinesAfter | _VersionsAfter) -> str:
    return base64.urlsafe_b64encode(_ENCODER.encode(position)).rstrip(b"=").decode("ascii")


def _decode(cursor: str) -> _PipelinesAfter | _VersionsAfter:
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise InvalidCursor("malformed cursor; use the next_cursor of a previous page")
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        # Re-encoding must give the cursor back: rejects non-alphabet characters and other
        # spellings of the same bytes, so each position has exactly one cursor.
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != cursor:
            raise InvalidCursor("malformed cursor; use the next_cursor of a previous page")
        return _DECODER.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError) as error:
        raise InvalidCursor("malformed cursor; use the next_cursor of a previous page") from error
