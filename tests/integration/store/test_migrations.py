"""Schema migrations: applied once at open, by one replica at a time, and never rewritten."""

import asyncio

import pytest

from events_api.store import PipelineStore, StoreError
from events_api.store.migrations import Backend, load_migrations
from integration.store.samples import make_spec
from integration.store.targets import StoreTarget
from pipeline_models import TenantId

_APPLIED = "SELECT version, name, checksum FROM schema_migrations ORDER BY version"


def _expected(target: StoreTarget) -> list[tuple[int, str, str]]:
    migrations = load_migrations(Backend(target.backend))
    return [(m.number, m.name, m.checksum) for m in migrations]


async def test_opening_records_every_migration(
    store_target: StoreTarget, store: PipelineStore
) -> None:
    rows = await store_target.fetch(sqlite=_APPLIED, postgres=_APPLIED)

    assert rows == _expected(store_target)


async def test_reopening_keeps_the_data_and_applies_nothing_twice(
    store_target: StoreTarget, tenant: TenantId
) -> None:
    async with store_target.open() as store:
        created = await store.create_pipeline(tenant, spec=make_spec())

    async with store_target.open() as reopened:
        assert await reopened.get_pipeline(tenant, pipeline_id=created.id) == created

    assert await store_target.fetch(sqlite=_APPLIED, postgres=_APPLIED) == _expected(store_target)


async def test_replicas_opening_together_on_an_empty_database_both_work(
    store_target: StoreTarget, tenant: TenantId
) -> None:
    async def open_and_create() -> None:
        async with store_target.open() as store:
            await store.create_pipeline(tenant, spec=make_spec())

    await asyncio.gather(*(open_and_create() for _ in range(4)))

    assert await store_target.fetch(sqlite=_APPLIED, postgres=_APPLIED) == _expected(store_target)
    async with store_target.open() as store:
        assert len((await store.list_pipelines(tenant)).items) == 4


async def test_a_rewritten_migration_stops_the_opening(
    store_target: StoreTarget, store: PipelineStore
) -> None:
    await store_target.execute(
        sqlite="UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
        postgres="UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
    )

    with pytest.raises(StoreError, match="migration 1"):
        async with store_target.open():
            pass


async def test_a_migration_from_a_newer_release_is_tolerated(
    store_target: StoreTarget, store: PipelineStore, tenant: TenantId
) -> None:
    await store_target.execute(
        sqlite="INSERT INTO schema_migrations VALUES (999, 'future', 'x', 0)",
        postgres="INSERT INTO schema_migrations VALUES (999, 'future', 'x', now())",
    )

    async with store_target.open() as reopened:
        await reopened.create_pipeline(tenant, spec=make_spec())
