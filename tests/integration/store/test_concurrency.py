"""Racing writers, inside one replica and across two: the database decides, exactly once."""

import asyncio

import pytest

from events_api.store import PipelineRecord, PipelineStore, VersionConflict
from integration.store.samples import make_spec
from integration.store.targets import StoreTarget
from pipeline_models import PipelineId, TenantId

ROUNDS = 5


async def _update(
    store: PipelineStore, tenant: TenantId, pid: PipelineId, *, expected: int, message: str
) -> PipelineRecord | VersionConflict:
    try:
        return await store.update_pipeline(
            tenant, pipeline_id=pid, spec=make_spec(message=message), expected_version=expected
        )
    except VersionConflict as conflict:
        return conflict


async def _race_two_replicas(
    first: PipelineStore, second: PipelineStore, tenant: TenantId, pid: PipelineId, expected: int
) -> list[PipelineRecord | VersionConflict]:
    return list(
        await asyncio.gather(
            _update(first, tenant, pid, expected=expected, message=f"a{expected}"),
            _update(second, tenant, pid, expected=expected, message=f"b{expected}"),
        )
    )


async def test_two_replicas_updating_the_same_version_one_wins(
    store_target: StoreTarget, store: PipelineStore, tenant: TenantId
) -> None:
    pid = (await store.create_pipeline(tenant, spec=make_spec())).id
    async with store_target.open() as replica:
        for round_ in range(ROUNDS):
            expected = round_ + 1
            outcomes = await _race_two_replicas(store, replica, tenant, pid, expected)

            winners = [o for o in outcomes if isinstance(o, PipelineRecord)]
            losers = [o for o in outcomes if isinstance(o, VersionConflict)]
            assert (len(winners), len(losers)) == (1, 1), outcomes
            assert winners[0].latest_version == expected + 1
            stored = await replica.get_pipeline(tenant, pipeline_id=pid)
            assert stored.spec == winners[0].spec
            assert losers[0].expected == expected

    versions = await store.list_versions(tenant, pipeline_id=pid, limit=100)
    assert [item.version for item in versions.items] == list(range(1, ROUNDS + 2))


@pytest.mark.parametrize("writers", [8])
async def test_many_tasks_of_one_replica_with_the_same_expectation_one_wins(
    store: PipelineStore, tenant: TenantId, writers: int
) -> None:
    pid = (await store.create_pipeline(tenant, spec=make_spec())).id

    outcomes = await asyncio.gather(
        *(_update(store, tenant, pid, expected=1, message=str(i)) for i in range(writers))
    )

    assert sum(isinstance(o, PipelineRecord) for o in outcomes) == 1
    assert sum(isinstance(o, VersionConflict) for o in outcomes) == writers - 1
    assert (await store.get_pipeline(tenant, pipeline_id=pid)).latest_version == 2


async def test_unconditional_updates_from_two_replicas_all_land_in_sequence(
    store_target: StoreTarget, store: PipelineStore, tenant: TenantId
) -> None:
    pid = (await store.create_pipeline(tenant, spec=make_spec())).id
    async with store_target.open() as replica:
        results = await asyncio.gather(
            *(
                writer.update_pipeline(
                    tenant, pipeline_id=pid, spec=make_spec(message=str(i)), expected_version=None
                )
                for i in range(6)
                for writer in (store, replica)
            )
        )

    assert sorted(result.latest_version for result in results) == list(range(2, 14))
    versions = await store.list_versions(tenant, pipeline_id=pid, limit=100)
    assert [item.version for item in versions.items] == list(range(1, 14))


async def test_a_second_replica_reads_what_the_first_wrote(
    store_target: StoreTarget, store: PipelineStore, tenant: TenantId
) -> None:
    async with store_target.open() as replica:
        created = await store.create_pipeline(tenant, spec=make_spec())

        assert await replica.get_pipeline(tenant, pipeline_id=created.id) == created
