"""Coalesced intent reads: fewer statements, never an answer older than the call."""

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime

import pytest

from events_api.intent_reads import CoalescedIntentReads
from events_api.store import PipelineNotFound, StoreUnavailable
from events_api.store.records import IntentKey
from pipeline_models import PipelineId, TenantId, TriggerIntent, TriggerState

TENANT = TenantId("tenant-a")
AT = datetime(2026, 1, 2, tzinfo=UTC)


def started(version: int) -> TriggerIntent:
    return TriggerIntent(state=TriggerState.STARTED, version=version, at=AT)


def key(name: str) -> IntentKey:
    return (TENANT, PipelineId(name))


class FakeStore:
    """Intents in a dict; each statement can be held open by the test."""

    def __init__(self, intents: dict[IntentKey, TriggerIntent | None]) -> None:
        self.intents = intents
        self.statements: list[tuple[IntentKey, ...]] = []
        self.hold: asyncio.Event | None = None
        self.started = asyncio.Event()
        self.failure: Exception | None = None

    async def get_trigger_intents(
        self, keys: Collection[IntentKey]
    ) -> dict[IntentKey, TriggerIntent | None]:
        self.statements.append(tuple(keys))
        # The snapshot is taken when the statement starts, as a database does.
        snapshot = {k: self.intents[k] for k in keys if k in self.intents}
        self.started.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.failure is not None:
            raise self.failure
        return snapshot


async def test_concurrent_reads_share_one_statement() -> None:
    store = FakeStore({key("a"): started(1), key("b"): None})
    reads = CoalescedIntentReads(store)

    a1, a2, b = await asyncio.gather(
        reads.get(*key("a")), reads.get(*key("a")), reads.get(*key("b"))
    )

    assert (a1, a2, b) == (started(1), started(1), None)
    assert len(store.statements) == 1
    assert sorted(store.statements[0]) == [key("a"), key("b")]


async def test_a_read_never_joins_a_statement_that_began_before_it() -> None:
    store = FakeStore({key("a"): started(1)})
    store.hold = asyncio.Event()
    reads = CoalescedIntentReads(store)
    first = asyncio.create_task(reads.get(*key("a")))
    await store.started.wait()

    # Another replica writes while the first statement runs; a GET that starts now must see it.
    store.intents[key("a")] = started(2)
    second = asyncio.create_task(reads.get(*key("a")))
    store.hold.set()

    assert await first == started(1)
    assert await second == started(2)
    assert len(store.statements) == 2


async def test_another_tenants_or_an_unknown_pipeline_is_not_found() -> None:
    store = FakeStore({key("a"): started(1)})
    reads = CoalescedIntentReads(store)

    with pytest.raises(PipelineNotFound):
        await reads.get(TenantId("tenant-b"), PipelineId("a"))
    with pytest.raises(PipelineNotFound):
        await reads.get(*key("nope"))


async def test_a_store_failure_reaches_every_caller_of_that_statement_only() -> None:
    store = FakeStore({key("a"): started(1), key("b"): None})
    store.failure = StoreUnavailable("the database is down")
    reads = CoalescedIntentReads(store)

    results = await asyncio.gather(
        reads.get(*key("a")), reads.get(*key("b")), return_exceptions=True
    )

    assert all(isinstance(result, StoreUnavailable) for result in results)
    store.failure = None
    assert await reads.get(*key("a")) == started(1)


async def test_one_caller_giving_up_does_not_cancel_the_others() -> None:
    store = FakeStore({key("a"): started(1)})
    store.hold = asyncio.Event()
    reads = CoalescedIntentReads(store)
    impatient = asyncio.create_task(reads.get(*key("a")))
    patient = asyncio.create_task(reads.get(*key("a")))
    await store.started.wait()

    impatient.cancel()
    store.hold.set()

    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert await patient == started(1)


async def test_batches_are_bounded() -> None:
    store = FakeStore({key(f"p{n}"): None for n in range(5)})
    reads = CoalescedIntentReads(store, max_batch=2)

    await asyncio.gather(*(reads.get(*key(f"p{n}")) for n in range(5)))

    assert [len(statement) for statement in store.statements] == [2, 2, 1]
