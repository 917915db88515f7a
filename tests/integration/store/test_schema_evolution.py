"""Specs written by a newer release (with fields this code does not know) still read back."""

import pytest

from events_api.store import PipelineStore, StoreError
from integration.store.samples import make_spec
from integration.store.targets import StoreTarget
from pipeline_models import TenantId

_NEWER_SPEC = (
    '{"name":"orders","future_field":{"x":1},'
    '"options":{"event":"orders","future_option":true},'
    '"steps":[{"type":"log","id":"log","message":"hi","future_step_field":[1,2]}]}'
)


async def test_unknown_stored_fields_are_skipped(
    store_target: StoreTarget, store: PipelineStore, tenant: TenantId
) -> None:
    created = await store.create_pipeline(tenant, spec=make_spec("orders", message="hi"))
    await store_target.execute(
        sqlite="UPDATE pipeline_versions SET spec = ?",
        postgres="UPDATE pipeline_versions SET spec = $1::jsonb",
        args=[_NEWER_SPEC],
    )

    assert await store.get_pipeline(tenant, pipeline_id=created.id) == created


async def test_a_spec_that_cannot_be_read_is_a_store_error(
    store_target: StoreTarget, store: PipelineStore, tenant: TenantId
) -> None:
    created = await store.create_pipeline(tenant, spec=make_spec())
    await store_target.execute(
        sqlite="UPDATE pipeline_versions SET spec = ?",
        postgres="UPDATE pipeline_versions SET spec = $1::jsonb",
        args=['{"name": "orders"}'],
    )

    with pytest.raises(StoreError, match=f"{created.id}.*version 1"):
        await store.get_version(tenant, pipeline_id=created.id, version=1)
