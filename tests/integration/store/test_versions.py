"""Versions are immutable, numbered 1, 2, …, listed in pages and read one at a time."""

import pytest

from events_api.store import InvalidCursor, PipelineStore, VersionNotFound
from integration.store.samples import make_spec
from pipeline_models import PipelineId, TenantId


async def _pipeline_with_versions(store: PipelineStore, tenant: TenantId, count: int) -> PipelineId:
    record = await store.create_pipeline(tenant, spec=make_spec(message="v1"))
    for number in range(2, count + 1):
        await store.update_pipeline(
            tenant,
            pipeline_id=record.id,
            spec=make_spec(message=f"v{number}"),
            expected_version=number - 1,
        )
    return record.id


async def test_versions_are_listed_oldest_first_in_pages(
    store: PipelineStore, tenant: TenantId
) -> None:
    pid = await _pipeline_with_versions(store, tenant, 5)
    numbers: list[int] = []
    messages: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await store.list_versions(tenant, pipeline_id=pid, cursor=cursor, limit=2)
        pages += 1
        numbers += [item.version for item in page.items]
        messages += [item.spec.steps[0].message for item in page.items]  # type: ignore[union-attr]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert (numbers, pages) == ([1, 2, 3, 4, 5], 3)
    assert messages == ["v1", "v2", "v3", "v4", "v5"]


async def test_one_version_is_read_with_its_own_spec_and_time(
    store: PipelineStore, tenant: TenantId
) -> None:
    pid = await _pipeline_with_versions(store, tenant, 3)
    latest = await store.get_pipeline(tenant, pipeline_id=pid)

    second = await store.get_version(tenant, pipeline_id=pid, version=2)
    third = await store.get_version(tenant, pipeline_id=pid, version=3)

    assert (second.pipeline_id, second.version, second.spec) == (pid, 2, make_spec(message="v2"))
    assert third == latest.latest()
    assert second.created_at <= third.created_at


@pytest.mark.parametrize("version", [0, 4, 99])
async def test_a_version_the_pipeline_lacks_is_not_found(
    store: PipelineStore, tenant: TenantId, version: int
) -> None:
    pid = await _pipeline_with_versions(store, tenant, 3)

    with pytest.raises(VersionNotFound) as raised:
        await store.get_version(tenant, pipeline_id=pid, version=version)
    assert raised.value.latest_version == 3


async def test_a_pipelines_cursor_is_rejected_for_versions(
    store: PipelineStore, tenant: TenantId
) -> None:
    pid = await _pipeline_with_versions(store, tenant, 1)
    await store.create_pipeline(tenant, spec=make_spec())
    page = await store.list_pipelines(tenant, limit=1)
    assert page.next_cursor is not None

    with pytest.raises(InvalidCursor):
        await store.list_versions(tenant, pipeline_id=pid, cursor=page.next_cursor)
