"""The Pipelines use case: validate what clients send, then read and write the store.

Routes call this with an authenticated tenant; it never sees HTTP. A pipeline's spec is validated
by the shared models (every problem with its path) before anything is stored, so what the store
holds is what a runner can run.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from events_api.errors import Conflict
from events_api.store.protocol import PipelineStore
from events_api.store.records import Page, PipelineRecord
from pipeline_models import (
    Pipeline,
    PipelineId,
    PipelineVersion,
    TenantId,
    TriggerState,
    pipeline_view,
    validate_pipeline_spec,
)

TriggerStopper = Callable[[TenantId, PipelineId], Awaitable[bool]]
"""Stops a pipeline's trigger through the trigger backend; False when there was none."""


class PipelineService:
    """Create, read, version and delete a tenant's pipelines."""

    def __init__(self, store: PipelineStore, *, stop_trigger: TriggerStopper | None = None) -> None:
        self._store = store
        self._stop_trigger = stop_trigger

    async def create(self, tenant: TenantId, document: Any) -> PipelineRecord:
        """Validate `document` and store it as a new pipeline at version 1.

        Raises:
            SpecInvalid: the document is not a valid pipeline (every problem listed).
        """
        spec = validate_pipeline_spec(document)
        return await self._store.create_pipeline(tenant, spec=spec)

    async def get(self, tenant: TenantId, pipeline_id: PipelineId) -> PipelineRecord:
        """The pipeline at its latest version."""
        return await self._store.get_pipeline(tenant, pipeline_id=pipeline_id)

    async def list(
        self, tenant: TenantId, *, name: str | None, cursor: str | None, limit: int
    ) -> Page[PipelineRecord]:
        """One page of the tenant's pipelines, oldest first."""
        return await self._store.list_pipelines(tenant, name=name, cursor=cursor, limit=limit)

    async def update(
        self,
        tenant: TenantId,
        pipeline_id: PipelineId,
        document: Any,
        *,
        expected_version: int | None,
    ) -> PipelineRecord:
        """Validate `document` and store it as the pipeline's next immutable version.

        Raises:
            SpecInvalid: the document is not a valid pipeline.
            VersionConflict: `expected_version` is no longer the latest.
        """
        spec = validate_pipeline_spec(document)
        return await self._store.update_pipeline(
            tenant, pipeline_id=pipeline_id, spec=spec, expected_version=expected_version
        )

    async def delete(self, tenant: TenantId, pipeline_id: PipelineId, *, force: bool) -> None:
        """Delete the pipeline with its versions; with `force`, stop its trigger first.

        Raises:
            Conflict: its trigger was started and not stopped, and `force` is false.
        """
        intent = await self._store.get_trigger_intent(tenant, pipeline_id=pipeline_id)
        if intent is not None and intent.state == TriggerState.STARTED:
            if not force:
                raise Conflict(
                    f"pipeline {pipeline_id} has a running trigger: stop it first "
                    f"(DELETE /api/v1/events/{pipeline_id}) or delete with ?force=true"
                )
            if self._stop_trigger is not None:
                # The trigger goes first: a pipeline deleted under a running trigger would leave
                # a runner nobody can stop through the API.
                await self._stop_trigger(tenant, pipeline_id)
        await self._store.delete_pipeline(tenant, pipeline_id=pipeline_id)

    async def versions(
        self, tenant: TenantId, pipeline_id: PipelineId, *, cursor: str | None, limit: int
    ) -> tuple[PipelineRecord, Page[PipelineVersion]]:
        """The pipeline and one page of its versions, oldest first."""
        record = await self._store.get_pipeline(tenant, pipeline_id=pipeline_id)
        page = await self._store.list_versions(
            tenant, pipeline_id=pipeline_id, cursor=cursor, limit=limit
        )
        return record, page

    async def version(self, tenant: TenantId, pipeline_id: PipelineId, version: int) -> Pipeline:
        """The pipeline as it was at `version`."""
        record = await self._store.get_pipeline(tenant, pipeline_id=pipeline_id)
        stored = await self._store.get_version(tenant, pipeline_id=pipeline_id, version=version)
        return view_of(record, stored)


def view_of(record: PipelineRecord, version: PipelineVersion) -> Pipeline:
    """The API's answer for one version of a stored pipeline."""
    return pipeline_view(
        version,
        latest_version=record.latest_version,
        created_at=record.created_at,
        tenant=record.tenant,
    )
