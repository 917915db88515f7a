"""Stored specs read back leniently; stored times are exact microseconds in UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events_api.store.errors import StoreError
from events_api.store.specs import decode_spec, encode_spec
from events_api.store.timestamps import as_utc, from_micros, to_micros
from pipeline_models import LogStep, PipelineId, PipelineOptions, PipelineSpec, StepId

SPEC = PipelineSpec(
    name="orders",
    options=PipelineOptions(event="orders"),
    steps=(LogStep(id=StepId("log"), message="hi"),),
)
PID = PipelineId("pipeline-abcdefghijkl")


def test_a_spec_round_trips() -> None:
    assert decode_spec(encode_spec(SPEC), pipeline_id=PID, version=1) == SPEC


def test_unknown_fields_are_skipped_at_every_level() -> None:
    stored = (
        '{"name":"orders","new":1,"options":{"event":"orders","new":{}},'
        '"steps":[{"type":"log","id":"log","message":"hi","new":[]}]}'
    )

    assert decode_spec(stored, pipeline_id=PID, version=1) == SPEC


@pytest.mark.parametrize(
    "stored", ["{", '{"name":"x"}', "[]", '{"name":"x","steps":[{"type":"?"}]}']
)
def test_an_unreadable_spec_is_a_store_error_naming_the_version(stored: str) -> None:
    with pytest.raises(StoreError, match=f"{PID}.*version 7"):
        decode_spec(stored, pipeline_id=PID, version=7)


@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 1),
        max_value=datetime(9999, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_times_survive_microseconds_exactly(moment: datetime) -> None:
    back = from_micros(to_micros(moment))

    assert back == moment
    assert back.tzinfo is UTC
    assert as_utc(moment) == back


def test_microseconds_sort_like_the_times() -> None:
    earlier = datetime(2025, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    later = datetime(2025, 1, 1, 0, 0, 0, 2, tzinfo=UTC)

    assert to_micros(earlier) < to_micros(later)
