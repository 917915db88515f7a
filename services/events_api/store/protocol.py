"""The pipeline store's interface: what the Pipelines and Events APIs may ask of persistence.

Two implementations satisfy it — :mod:`events_api.store.sqlite` (development, one file) and
:mod:`events_api.store.postgres` (production, shared by every API replica) — and one contract
test suite runs against both. Every method is scoped to a tenant (another tenant's pipeline is
"not found"), bounded by a timeout, and raises only :mod:`events_api.store.errors`.
"""

from collections.abc import Collection
from typing import Protocol

from events_api.store.records import (
    DEFAULT_PAGE_SIZE,
    IntentKey,
    Page,
    PipelineRecord,
    StartedTrigger,
)
from pipeline_models import PipelineId, PipelineSpec, PipelineVersion, TenantId, TriggerIntent


class PipelineStore(Protocol):
    """Versioned pipelines per tenant, and each pipeline's trigger intent."""

    async def create_pipeline(self, tenant: TenantId, *, spec: PipelineSpec) -> PipelineRecord:
        """Store a new pipeline at version 1 under a fresh id (``new_pipeline_id()``)."""
        ...

    async def get_pipeline(self, tenant: TenantId, *, pipeline_id: PipelineId) -> PipelineRecord:
        """The pipeline with its latest spec.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
        """
        ...

    async def list_pipelines(
        self,
        tenant: TenantId,
        *,
        name: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[PipelineRecord]:
        """The tenant's pipelines, oldest first, optionally only those named exactly ``name``.

        Raises:
            InvalidCursor: ``cursor`` is not a pipelines cursor this store issued.
            ValueError: ``limit`` is outside ``1..MAX_PAGE_SIZE``.
        """
        ...

    async def update_pipeline(
        self,
        tenant: TenantId,
        *,
        pipeline_id: PipelineId,
        spec: PipelineSpec,
        expected_version: int | None,
    ) -> PipelineRecord:
        """Store ``spec`` as the pipeline's next version.

        Args:
            tenant: the owner.
            pipeline_id: the pipeline.
            spec: the new, validated spec.
            expected_version: the version the caller read (``If-Match``); None to update
                whatever the latest version is. Of concurrent updates expecting the same
                version exactly one succeeds.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
            VersionConflict: the latest version is not ``expected_version``.
        """
        ...

    async def delete_pipeline(self, tenant: TenantId, *, pipeline_id: PipelineId) -> None:
        """Delete the pipeline with all its versions and its trigger intent.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
        """
        ...

    async def list_versions(
        self,
        tenant: TenantId,
        *,
        pipeline_id: PipelineId,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[PipelineVersion]:
        """The pipeline's versions, oldest first.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
            InvalidCursor: ``cursor`` is not a versions cursor this store issued.
            ValueError: ``limit`` is outside ``1..MAX_PAGE_SIZE``.
        """
        ...

    async def get_version(
        self, tenant: TenantId, *, pipeline_id: PipelineId, version: int
    ) -> PipelineVersion:
        """One version of the pipeline.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
            VersionNotFound: the pipeline has no such version.
        """
        ...

    async def set_trigger_intent(
        self, tenant: TenantId, *, pipeline_id: PipelineId, intent: TriggerIntent
    ) -> None:
        """Record the last requested start (with its version) or stop; the last write wins.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
            VersionNotFound: a start names a version the pipeline does not have.
            ValueError: a start without a version.
        """
        ...

    async def get_trigger_intent(
        self, tenant: TenantId, *, pipeline_id: PipelineId
    ) -> TriggerIntent | None:
        """The last recorded intent; None when the trigger was never started or stopped.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
        """
        ...

    async def get_trigger_intents(
        self, keys: Collection[IntentKey]
    ) -> dict[IntentKey, TriggerIntent | None]:
        """The intents of many pipelines in one statement (status reads are batched).

        A key whose pipeline does not exist for that tenant is absent from the answer; None is
        a pipeline whose trigger was never started.
        """
        ...

    async def list_started_triggers(self) -> tuple[StartedTrigger, ...]:
        """Every pipeline of every tenant whose intent is "started" (resumption at start-up)."""
        ...

    async def close(self) -> None:
        """Release connections; safe to call twice. ``open_store`` calls it for you."""
        ...
