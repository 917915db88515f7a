"""When the database cannot answer, callers get StoreUnavailable (retryable), never a raw error."""

from pathlib import Path

import pytest

from events_api.devstack.ports import free_port
from events_api.store import StoreError, StoreOptions, StoreUnavailable, open_store
from integration.store.samples import make_spec
from integration.store.targets import StoreTarget
from pipeline_models import TenantId

_IMPATIENT = StoreOptions(
    operation_timeout_seconds=0.5, sqlite_busy_timeout_seconds=0.1, connect_timeout_seconds=2
)


async def test_a_write_blocked_by_another_writer_is_unavailable_and_reads_go_on(
    store_target: StoreTarget, tenant: TenantId
) -> None:
    async with store_target.open(options=_IMPATIENT) as store:
        created = await store.create_pipeline(tenant, spec=make_spec())
        async with store_target.holding_write_lock():
            with pytest.raises(StoreUnavailable) as raised:
                await store.create_pipeline(tenant, spec=make_spec())
            # Readers are not blocked by the writer (WAL on SQLite, MVCC on PostgreSQL),
            # one-statement reads (no transaction) and snapshot reads alike.
            assert await store.get_pipeline(tenant, pipeline_id=created.id) == created
            assert await store.get_trigger_intent(tenant, pipeline_id=created.id) is None
            assert (await store.get_version(tenant, pipeline_id=created.id, version=1)).version == 1
        assert not raised.value.permanent
        assert raised.value.__cause__ is not None
        # Once the lock is gone, the same store writes again (no connection was left broken).
        await store.create_pipeline(tenant, spec=make_spec())
        assert len((await store.list_pipelines(tenant)).items) == 2


async def test_a_closed_store_is_unavailable(store_target: StoreTarget, tenant: TenantId) -> None:
    async with store_target.open() as store:
        pass
    await store.close()  # a second close is harmless

    with pytest.raises(StoreUnavailable):
        await store.list_pipelines(tenant)


@pytest.mark.postgres
async def test_an_unreachable_postgres_is_unavailable(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"

    with pytest.raises(StoreUnavailable) as raised:
        async with open_store(database_url=url, sqlite_path=tmp_path / "unused.db"):
            pass
    assert isinstance(raised.value.__cause__, OSError | TimeoutError)


async def test_a_sqlite_path_that_cannot_be_a_file_fails_at_open(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()

    with pytest.raises(StoreError):
        async with open_store(database_url=None, sqlite_path=tmp_path / "taken"):
            pass


async def test_a_non_postgres_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        async with open_store(database_url="mysql://x/y", sqlite_path=tmp_path / "unused.db"):
            pass


async def test_a_sqlite_folder_that_cannot_be_made_fails_at_open(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")

    with pytest.raises(StoreError, match="folder") as raised:
        async with open_store(database_url=None, sqlite_path=tmp_path / "a-file" / "x.db"):
            pass
    assert raised.value.permanent
