"""What the store returns besides the shared models: pipeline records, pages, started triggers.

Versions are returned as :class:`pipeline_models.PipelineVersion`. A :class:`PipelineRecord` is
one pipeline with its latest spec, and turns into the API's documented answer with
:meth:`PipelineRecord.view`.
"""

from datetime import datetime
from typing import Annotated, Generic, TypeVar

import msgspec

from pipeline_models import (
    Pipeline,
    PipelineId,
    PipelineSpec,
    PipelineVersion,
    TenantId,
    TriggerIntent,
    pipeline_view,
)

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
"""Items per page when the caller does not say."""
MAX_PAGE_SIZE = 500
"""The largest page a caller may ask for; larger limits raise ``ValueError``."""

UtcTime = Annotated[datetime, msgspec.Meta(tz=True)]


class PipelineRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored pipeline with its latest version's spec."""

    id: PipelineId
    """The pipeline's id (``pipeline-`` + 12 base-36 characters)."""
    tenant: TenantId
    """Its owner; every store call is scoped to one tenant."""
    name: str
    """The latest spec's name (what ``list_pipelines(name=...)`` matches)."""
    latest_version: int
    """The newest version's number (1 after creation)."""
    created_at: UtcTime
    """When version 1 was stored."""
    updated_at: UtcTime
    """When the latest version was stored."""
    spec: PipelineSpec
    """The latest version's spec."""

    def latest(self) -> PipelineVersion:
        """The latest version as the shared model."""
        return PipelineVersion(
            pipeline_id=self.id,
            version=self.latest_version,
            spec=self.spec,
            created_at=self.updated_at,
        )

    def view(self) -> Pipeline:
        """The API's documented answer for the latest version."""
        return pipeline_view(
            self.latest(),
            latest_version=self.latest_version,
            created_at=self.created_at,
            tenant=self.tenant,
        )


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One page of a listing."""

    items: tuple[T, ...]
    """The items, in the listing's order (oldest first)."""
    next_cursor: str | None = None
    """Pass it back to get the next page; None on the last page."""


IntentKey = tuple[TenantId, PipelineId]
"""Whose trigger intent: the tenant and the pipeline."""


class StartedTrigger(msgspec.Struct, frozen=True, kw_only=True):
    """A pipeline whose last trigger intent is "started", for resumption after a restart."""

    tenant: TenantId
    """The pipeline's owner."""
    pipeline_id: PipelineId
    """The pipeline."""
    intent: TriggerIntent
    """The intent, with the version to run."""


def check_page_limit(limit: int) -> None:
    """Reject page sizes outside ``1..MAX_PAGE_SIZE``.

    Raises:
        ValueError: the API should have rejected such a ``limit`` parameter already.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
