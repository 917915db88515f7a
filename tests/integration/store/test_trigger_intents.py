"""Each pipeline's trigger intent: last start (with its version) or stop, seen by every replica."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from events_api.store import PipelineNotFound, PipelineStore, StartedTrigger, VersionNotFound
from integration.store.samples import make_spec
from integration.store.targets import StoreTarget
from pipeline_models import PipelineId, TenantId, TriggerIntent, TriggerState

AT = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def started(version: int, at: datetime = AT) -> TriggerIntent:
    return TriggerIntent(state=TriggerState.STARTED, version=version, at=at)


def stopped(at: datetime = AT) -> TriggerIntent:
    return TriggerIntent(state=TriggerState.STOPPED, at=at)


async def _pipeline(store: PipelineStore, tenant: TenantId, versions: int = 1) -> PipelineId:
    pid = (await store.create_pipeline(tenant, spec=make_spec())).id
    for _ in range(versions - 1):
        await store.update_pipeline(
            tenant, pipeline_id=pid, spec=make_spec(), expected_version=None
        )
    return pid


async def test_a_pipeline_without_intent_has_none(store: PipelineStore, tenant: TenantId) -> None:
    pid = await _pipeline(store, tenant)

    assert await store.get_trigger_intent(tenant, pipeline_id=pid) is None


async def test_the_last_intent_wins(store: PipelineStore, tenant: TenantId) -> None:
    pid = await _pipeline(store, tenant, versions=2)

    await store.set_trigger_intent(tenant, pipeline_id=pid, intent=started(1))
    assert await store.get_trigger_intent(tenant, pipeline_id=pid) == started(1)
    await store.set_trigger_intent(tenant, pipeline_id=pid, intent=started(2))
    assert await store.get_trigger_intent(tenant, pipeline_id=pid) == started(2)
    await store.set_trigger_intent(tenant, pipeline_id=pid, intent=stopped())
    assert await store.get_trigger_intent(tenant, pipeline_id=pid) == stopped()


async def test_the_time_comes_back_exact_and_in_utc(store: PipelineStore, tenant: TenantId) -> None:
    pid = await _pipeline(store, tenant)
    paris = timezone(timedelta(hours=1))
    at = datetime(2025, 3, 1, 13, 30, 15, 654321, tzinfo=paris)

    await store.set_trigger_intent(tenant, pipeline_id=pid, intent=started(1, at))

    intent = await store.get_trigger_intent(tenant, pipeline_id=pid)
    assert intent is not None
    assert intent.at == at
    assert intent.at.tzinfo is UTC


async def test_a_stop_forgets_the_version(store: PipelineStore, tenant: TenantId) -> None:
    pid = await _pipeline(store, tenant)

    await store.set_trigger_intent(
        tenant,
        pipeline_id=pid,
        intent=TriggerIntent(state=TriggerState.STOPPED, version=1, at=AT),
    )

    assert await store.get_trigger_intent(tenant, pipeline_id=pid) == stopped()


async def test_a_start_needs_an_existing_version(store: PipelineStore, tenant: TenantId) -> None:
    pid = await _pipeline(store, tenant, versions=2)

    with pytest.raises(VersionNotFound):
        await store.set_trigger_intent(tenant, pipeline_id=pid, intent=started(3))
    with pytest.raises(ValueError, match="version"):
        await store.set_trigger_intent(
            tenant, pipeline_id=pid, intent=TriggerIntent(state=TriggerState.STARTED, at=AT)
        )
    assert await store.get_trigger_intent(tenant, pipeline_id=pid) is None


async def test_intents_are_tenant_scoped(
    store: PipelineStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    pid = await _pipeline(store, tenant)

    with pytest.raises(PipelineNotFound):
        await store.set_trigger_intent(other_tenant, pipeline_id=pid, intent=started(1))
    with pytest.raises(PipelineNotFound):
        await store.set_trigger_intent(
            tenant, pipeline_id=PipelineId("pipeline-000000000000"), intent=started(1)
        )
    assert await store.get_trigger_intent(tenant, pipeline_id=pid) is None


async def test_deleting_a_pipeline_deletes_its_intent(
    store: PipelineStore, tenant: TenantId
) -> None:
    pid = await _pipeline(store, tenant)
    await store.set_trigger_intent(tenant, pipeline_id=pid, intent=started(1))

    await store.delete_pipeline(tenant, pipeline_id=pid)

    assert await store.list_started_triggers() == ()
    with pytest.raises(PipelineNotFound):
        await store.get_trigger_intent(tenant, pipeline_id=pid)


async def test_started_triggers_are_listed_across_tenants(
    store: PipelineStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    first = await _pipeline(store, tenant, versions=2)
    never = await _pipeline(store, tenant)
    second = await _pipeline(store, other_tenant)
    halted = await _pipeline(store, other_tenant)
    await store.set_trigger_intent(tenant, pipeline_id=first, intent=started(2))
    await store.set_trigger_intent(other_tenant, pipeline_id=second, intent=started(1))
    await store.set_trigger_intent(other_tenant, pipeline_id=halted, intent=started(1))
    await store.set_trigger_intent(other_tenant, pipeline_id=halted, intent=stopped())

    listed = await store.list_started_triggers()

    assert listed == (
        StartedTrigger(tenant=tenant, pipeline_id=first, intent=started(2)),
        StartedTrigger(tenant=other_tenant, pipeline_id=second, intent=started(1)),
    )
    assert never not in {item.pipeline_id for item in listed}


async def test_another_replica_reads_the_intent_right_after_the_write(
    store_target: StoreTarget, store: PipelineStore, tenant: TenantId
) -> None:
    pid = await _pipeline(store, tenant)
    async with store_target.open() as replica:
        await store.set_trigger_intent(tenant, pipeline_id=pid, intent=started(1))
        assert await replica.get_trigger_intent(tenant, pipeline_id=pid) == started(1)

        await replica.set_trigger_intent(tenant, pipeline_id=pid, intent=stopped())
        assert await store.get_trigger_intent(tenant, pipeline_id=pid) == stopped()


async def test_many_intents_are_read_at_once_and_tenancy_holds(
    store: PipelineStore, tenant: TenantId
) -> None:
    other = TenantId(f"{tenant}-other")
    running, idle, stopping = [await _pipeline(store, tenant) for _ in range(3)]
    theirs = await _pipeline(store, other)
    await store.set_trigger_intent(tenant, pipeline_id=running, intent=started(1))
    await store.set_trigger_intent(tenant, pipeline_id=stopping, intent=stopped())
    await store.set_trigger_intent(other, pipeline_id=theirs, intent=started(1))
    unknown = PipelineId("pipeline-unknown000000")

    intents = await store.get_trigger_intents(
        [(tenant, running), (tenant, idle), (tenant, stopping), (tenant, theirs), (tenant, unknown)]
    )

    # Another tenant's pipeline and an unknown one are absent, exactly like "not found".
    assert intents == {
        (tenant, running): started(1),
        (tenant, idle): None,
        (tenant, stopping): stopped(),
    }
    assert await store.get_trigger_intents([]) == {}
