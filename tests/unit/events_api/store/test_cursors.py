"""Page cursors: opaque, round-tripping exactly, and rejecting anything we did not issue."""

import base64
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events_api.store.cursors import (
    MAX_CURSOR_LENGTH,
    decode_pipelines_cursor,
    decode_versions_cursor,
    encode_pipelines_cursor,
    encode_versions_cursor,
)
from events_api.store.errors import InvalidCursor
from pipeline_models import PipelineId

_TIMES = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)
)
_IDS = st.from_regex(r"pipeline-[0-9a-z]{12}", fullmatch=True).map(PipelineId)


@given(created_at=_TIMES, pipeline_id=_IDS)
def test_a_pipelines_cursor_round_trips(created_at: datetime, pipeline_id: PipelineId) -> None:
    cursor = encode_pipelines_cursor(created_at, pipeline_id)

    assert decode_pipelines_cursor(cursor) == (created_at, pipeline_id)
    assert cursor.isascii()
    assert "=" not in cursor
    assert len(cursor) < 100


@given(version=st.integers(min_value=1, max_value=2**31))
def test_a_versions_cursor_round_trips(version: int) -> None:
    assert decode_versions_cursor(encode_versions_cursor(version)) == version


def test_a_cursor_keeps_the_instant_whatever_the_zone() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    elsewhere = moment.astimezone(UTC).astimezone(tz=None)
    pid = PipelineId("pipeline-abcdefghijkl")

    assert encode_pipelines_cursor(elsewhere, pid) == encode_pipelines_cursor(moment, pid)


def test_cursors_of_the_two_listings_are_not_interchangeable() -> None:
    pipelines = encode_pipelines_cursor(datetime(2025, 1, 1, tzinfo=UTC), PipelineId("p"))
    versions = encode_versions_cursor(3)

    with pytest.raises(InvalidCursor):
        decode_versions_cursor(pipelines)
    with pytest.raises(InvalidCursor):
        decode_pipelines_cursor(versions)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "é",
        "a" * (MAX_CURSOR_LENGTH + 1),
        _b64(b"not json"),
        _b64(b'["v", 0]'),
        _b64(b'["v", "3"]'),
        _b64(b'["x", 3]'),
        _b64(b'["p", -1, "pipeline-abcdefghijkl"]'),
        _b64(b'["p", 1, ""]'),
        _b64(b'{"version": 3}'),
        _b64(b'["v", 3]') + "=",
    ],
)
def test_a_cursor_we_did_not_issue_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_versions_cursor(cursor)
    with pytest.raises(InvalidCursor):
        decode_pipelines_cursor(cursor)


@given(text=st.text(max_size=300))
def test_any_text_is_a_cursor_or_invalid_never_a_crash(text: str) -> None:
    for decode in (decode_versions_cursor, decode_pipelines_cursor):
        with contextlib.suppress(InvalidCursor):
            decode(text)


def test_a_naive_time_cannot_make_a_cursor() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        encode_pipelines_cursor(datetime(2025, 1, 1) + timedelta(0), PipelineId("p"))
