"""Turning database rows into records and pages, the same way for both backends.

Backends convert their column types first (SQLite's integer times, PostgreSQL's ``timestamptz``)
and hand plain values here, so what a record looks like is decided in one place.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from events_api.store.errors import PipelineNotFound
from events_api.store.records import IntentKey, Page, PipelineRecord
from events_api.store.specs import decode_spec
from events_api.store.timestamps import as_utc
from pipeline_models import (
    PipelineId,
    PipelineSpec,
    PipelineVersion,
    TenantId,
    TriggerIntent,
    TriggerState,
)

T = TypeVar("T")


def pipeline_record(
    *,
    pipeline_id: str,
    tenant: str,
    name: str,
    latest_version: int,
    created_at: datetime,
    updated_at: datetime,
    spec: str | bytes,
) -> PipelineRecord:
    """A pipeline record from its row joined with the latest version's spec."""
    return PipelineRecord(
        id=PipelineId(pipeline_id),
        tenant=TenantId(tenant),
        name=name,
        latest_version=latest_version,
        created_at=as_utc(created_at),
        updated_at=as_utc(updated_at),
        spec=decode_spec(spec, pipeline_id=PipelineId(pipeline_id), version=latest_version),
    )


def pipeline_version(
    *, pipeline_id: str, version: int, spec: str | bytes, created_at: datetime
) -> PipelineVersion:
    """A version from its row."""
    return PipelineVersion(
        pipeline_id=PipelineId(pipeline_id),
        version=version,
        spec=decode_spec(spec, pipeline_id=PipelineId(pipeline_id), version=version),
        created_at=as_utc(created_at),
    )


def trigger_intent(*, state: str, version: int | None, recorded_at: datetime) -> TriggerIntent:
    """An intent from its row."""
    return TriggerIntent(state=TriggerState(state), version=version, at=as_utc(recorded_at))


def written_record(
    tenant: TenantId,
    pipeline_id: PipelineId,
    spec: PipelineSpec,
    *,
    version: int,
    created_at: datetime,
    updated_at: datetime,
) -> PipelineRecord:
    """The record of what a write just stored (no need to read and decode it back)."""
    return PipelineRecord(
        id=pipeline_id,
        tenant=tenant,
        name=spec.name,
        latest_version=version,
        created_at=as_utc(created_at),
        updated_at=as_utc(updated_at),
        spec=spec,
    )


def intent_version_to_store(intent: TriggerIntent) -> int | None:
    """The version column of an intent: required for a start, dropped for a stop.

    Raises:
        ValueError: a start without a version (the caller's mistake, not the user's).
    """
    if intent.state is TriggerState.STOPPED:
        return None
    if intent.version is None:
        raise ValueError("a started trigger intent needs the version it started")
    return intent.version


def page_of(rows: Sequence[T], *, limit: int, cursor_of: Callable[[T], str]) -> Page[T]:
    """The page for ``rows`` fetched with ``LIMIT limit + 1`` (the extra row means "more")."""
    items = tuple(rows[:limit])
    more = len(rows) > limit
    return Page(items=items, next_cursor=cursor_of(items[-1]) if more else None)


def only_intent(
    intents: dict[IntentKey, TriggerIntent | None], key: IntentKey
) -> TriggerIntent | None:
    """The one intent a `get_trigger_intents((key,))` read asked for.

    Raises:
        PipelineNotFound: the key's pipeline does not exist for its tenant.
    """
    if key not in intents:
        raise PipelineNotFound(*key)
    return intents[key]
