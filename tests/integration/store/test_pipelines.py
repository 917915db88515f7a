"""Creating, reading, updating and deleting pipelines, always within one tenant."""

from datetime import UTC

import pytest

from events_api.store import PipelineNotFound, PipelineStore, VersionConflict
from integration.store.samples import make_spec
from pipeline_models import PipelineId, TenantId, is_pipeline_id


async def test_create_assigns_an_id_and_version_1(store: PipelineStore, tenant: TenantId) -> None:
    spec = make_spec("orders")

    record = await store.create_pipeline(tenant, spec=spec)

    assert is_pipeline_id(record.id)
    assert (record.tenant, record.name, record.latest_version, record.spec) == (
        tenant,
        "orders",
        1,
        spec,
    )
    assert record.created_at.tzinfo is UTC
    assert record.created_at == record.updated_at


async def test_get_returns_what_create_stored(store: PipelineStore, tenant: TenantId) -> None:
    created = await store.create_pipeline(tenant, spec=make_spec())

    assert await store.get_pipeline(tenant, pipeline_id=created.id) == created


async def test_each_create_gets_its_own_id(store: PipelineStore, tenant: TenantId) -> None:
    ids = {(await store.create_pipeline(tenant, spec=make_spec())).id for _ in range(5)}

    assert len(ids) == 5


async def test_an_unknown_id_is_not_found(store: PipelineStore, tenant: TenantId) -> None:
    with pytest.raises(PipelineNotFound):
        await store.get_pipeline(tenant, pipeline_id=PipelineId("pipeline-000000000000"))


async def test_another_tenant_sees_not_found_everywhere(
    store: PipelineStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    created = await store.create_pipeline(tenant, spec=make_spec())
    pid = created.id

    with pytest.raises(PipelineNotFound):
        await store.get_pipeline(other_tenant, pipeline_id=pid)
    with pytest.raises(PipelineNotFound):
        await store.update_pipeline(
            other_tenant, pipeline_id=pid, spec=make_spec(), expected_version=1
        )
    with pytest.raises(PipelineNotFound):
        await store.list_versions(other_tenant, pipeline_id=pid)
    with pytest.raises(PipelineNotFound):
        await store.get_version(other_tenant, pipeline_id=pid, version=1)
    with pytest.raises(PipelineNotFound):
        await store.get_trigger_intent(other_tenant, pipeline_id=pid)
    with pytest.raises(PipelineNotFound):
        await store.delete_pipeline(other_tenant, pipeline_id=pid)
    assert (await store.list_pipelines(other_tenant)).items == ()
    # Nothing the other tenant tried changed the pipeline.
    assert await store.get_pipeline(tenant, pipeline_id=pid) == created


async def test_update_stores_a_new_version(store: PipelineStore, tenant: TenantId) -> None:
    created = await store.create_pipeline(tenant, spec=make_spec("orders", message="v1"))
    new_spec = make_spec("orders-renamed", message="v2")

    updated = await store.update_pipeline(
        tenant, pipeline_id=created.id, spec=new_spec, expected_version=1
    )

    assert (updated.latest_version, updated.name, updated.spec) == (2, "orders-renamed", new_spec)
    assert updated.created_at == created.created_at
    assert updated.updated_at >= created.updated_at
    assert await store.get_pipeline(tenant, pipeline_id=created.id) == updated
    first = await store.get_version(tenant, pipeline_id=created.id, version=1)
    assert first.spec == created.spec


async def test_a_stale_expected_version_conflicts_and_changes_nothing(
    store: PipelineStore, tenant: TenantId
) -> None:
    created = await store.create_pipeline(tenant, spec=make_spec(message="v1"))
    current = await store.update_pipeline(
        tenant, pipeline_id=created.id, spec=make_spec(message="v2"), expected_version=1
    )

    with pytest.raises(VersionConflict) as raised:
        await store.update_pipeline(
            tenant, pipeline_id=created.id, spec=make_spec(message="v3"), expected_version=1
        )

    assert (raised.value.expected, raised.value.actual) == (1, 2)
    assert await store.get_pipeline(tenant, pipeline_id=created.id) == current


async def test_an_update_without_expected_version_follows_the_latest(
    store: PipelineStore, tenant: TenantId
) -> None:
    created = await store.create_pipeline(tenant, spec=make_spec())
    for _ in range(2):
        await store.update_pipeline(
            tenant, pipeline_id=created.id, spec=make_spec(), expected_version=None
        )

    assert (await store.get_pipeline(tenant, pipeline_id=created.id)).latest_version == 3


async def test_updating_an_unknown_pipeline_is_not_found(
    store: PipelineStore, tenant: TenantId
) -> None:
    with pytest.raises(PipelineNotFound):
        await store.update_pipeline(
            tenant,
            pipeline_id=PipelineId("pipeline-000000000000"),
            spec=make_spec(),
            expected_version=None,
        )


async def test_delete_removes_the_pipeline_and_its_versions(
    store: PipelineStore, tenant: TenantId
) -> None:
    created = await store.create_pipeline(tenant, spec=make_spec())
    await store.update_pipeline(
        tenant, pipeline_id=created.id, spec=make_spec(), expected_version=1
    )
    kept = await store.create_pipeline(tenant, spec=make_spec())

    await store.delete_pipeline(tenant, pipeline_id=created.id)

    with pytest.raises(PipelineNotFound):
        await store.get_pipeline(tenant, pipeline_id=created.id)
    with pytest.raises(PipelineNotFound):
        await store.get_version(tenant, pipeline_id=created.id, version=1)
    with pytest.raises(PipelineNotFound):
        await store.delete_pipeline(tenant, pipeline_id=created.id)
    assert [item.id for item in (await store.list_pipelines(tenant)).items] == [kept.id]


async def test_the_record_renders_the_documented_view(
    store: PipelineStore, tenant: TenantId
) -> None:
    record = await store.create_pipeline(tenant, spec=make_spec("orders", topic="in"))

    view = record.view()

    assert (view.id, view.name, view.options.event, view.version, view.tenant) == (
        record.id,
        "orders",
        "in",
        1,
        tenant,
    )
