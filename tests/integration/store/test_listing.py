"""Listing pipelines: keyset pages, exact-name filter, tenant scope, cursors we did not issue."""

import pytest

from events_api.store import InvalidCursor, PipelineRecord, PipelineStore
from integration.store.samples import make_spec
from pipeline_models import PipelineId, TenantId


async def _all_pages(
    store: PipelineStore, tenant: TenantId, *, limit: int, name: str | None = None
) -> list[list[PipelineId]]:
    pages: list[list[PipelineId]] = []
    cursor: str | None = None
    while True:
        page = await store.list_pipelines(tenant, name=name, cursor=cursor, limit=limit)
        pages.append([record.id for record in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def _create(store: PipelineStore, tenant: TenantId, count: int) -> list[PipelineRecord]:
    return [await store.create_pipeline(tenant, spec=make_spec(f"p{i}")) for i in range(count)]


async def test_pages_cover_every_pipeline_once_oldest_first(
    store: PipelineStore, tenant: TenantId
) -> None:
    created = await _create(store, tenant, 7)

    pages = await _all_pages(store, tenant, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [pid for page in pages for pid in page] == [record.id for record in created]


async def test_an_exactly_full_last_page_has_no_cursor(
    store: PipelineStore, tenant: TenantId
) -> None:
    await _create(store, tenant, 4)

    assert [len(page) for page in await _all_pages(store, tenant, limit=2)] == [2, 2]


async def test_an_empty_listing_is_one_empty_page(store: PipelineStore, tenant: TenantId) -> None:
    page = await store.list_pipelines(tenant)

    assert (page.items, page.next_cursor) == ((), None)


async def test_the_name_filter_matches_exactly(store: PipelineStore, tenant: TenantId) -> None:
    wanted = [await store.create_pipeline(tenant, spec=make_spec("orders")) for _ in range(3)]
    await store.create_pipeline(tenant, spec=make_spec("orders-eu"))
    await store.create_pipeline(tenant, spec=make_spec("Orders"))

    pages = await _all_pages(store, tenant, limit=2, name="orders")

    assert [pid for page in pages for pid in page] == [record.id for record in wanted]


async def test_the_name_filter_follows_renames(store: PipelineStore, tenant: TenantId) -> None:
    record = await store.create_pipeline(tenant, spec=make_spec("old"))
    await store.update_pipeline(
        tenant, pipeline_id=record.id, spec=make_spec("new"), expected_version=1
    )

    assert (await store.list_pipelines(tenant, name="old")).items == ()
    assert [r.id for r in (await store.list_pipelines(tenant, name="new")).items] == [record.id]


async def test_listing_shows_only_the_tenants_own(
    store: PipelineStore, tenant: TenantId, other_tenant: TenantId
) -> None:
    mine = await _create(store, tenant, 2)
    await _create(store, other_tenant, 3)

    page = await store.list_pipelines(tenant)

    assert [record.id for record in page.items] == [record.id for record in mine]


async def test_pages_stay_stable_while_pipelines_come_and_go(
    store: PipelineStore, tenant: TenantId
) -> None:
    created = await _create(store, tenant, 6)
    seen: list[PipelineId] = []
    first = await store.list_pipelines(tenant, limit=2)
    seen += [record.id for record in first.items]
    # Between pages: a new pipeline, and one of the already-listed ones deleted.
    added = await store.create_pipeline(tenant, spec=make_spec("late"))
    await store.delete_pipeline(tenant, pipeline_id=created[0].id)
    cursor = first.next_cursor
    while cursor is not None:
        page = await store.list_pipelines(tenant, cursor=cursor, limit=2)
        seen += [record.id for record in page.items]
        cursor = page.next_cursor

    # No item twice, none of the earlier ones skipped (an offset would skip created[2]).
    assert seen == [record.id for record in created] + [added.id]


async def test_a_malformed_cursor_is_rejected(store: PipelineStore, tenant: TenantId) -> None:
    with pytest.raises(InvalidCursor):
        await store.list_pipelines(tenant, cursor="not-a-cursor!")


async def test_a_versions_cursor_is_rejected_for_pipelines(
    store: PipelineStore, tenant: TenantId
) -> None:
    record = await store.create_pipeline(tenant, spec=make_spec())
    for _ in range(2):
        await store.update_pipeline(
            tenant, pipeline_id=record.id, spec=make_spec(), expected_version=None
        )
    versions = await store.list_versions(tenant, pipeline_id=record.id, limit=1)
    assert versions.next_cursor is not None

    with pytest.raises(InvalidCursor):
        await store.list_pipelines(tenant, cursor=versions.next_cursor)


@pytest.mark.parametrize("limit", [0, -1, 501])
async def test_a_limit_out_of_range_is_a_programming_error(
    store: PipelineStore, tenant: TenantId, limit: int
) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.list_pipelines(tenant, limit=limit)
