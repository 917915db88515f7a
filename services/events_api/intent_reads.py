"""Trigger-intent reads for status GETs, coalesced into one store statement at a time.

Every status GET reads the stored intent (another replica may have just started or stopped the
trigger, and the watch cache cannot know yet), and under load that read is most of a GET's cost.
So reads queue for the *next* statement: while one runs, the keys asked for meanwhile wait, then
go together in one `get_trigger_intents`. A read never joins a statement that began before it
was asked for, so it sees every write that completed before its GET arrived, exactly like a read
of its own; it waits for at most the one statement in flight.
"""

import asyncio
from collections.abc import Collection
from itertools import islice
from typing import Final, Protocol

from events_api.store import PipelineNotFound
from events_api.store.records import IntentKey
from pipeline_models import PipelineId, TenantId, TriggerIntent


class IntentSource(Protocol):
    """What the reads need of the store (`PipelineStore.get_trigger_intents`)."""

    async def get_trigger_intents(
        self, keys: Collection[IntentKey]
    ) -> dict[IntentKey, TriggerIntent | None]:
        """The intents of the keys' pipelines; unknown keys absent."""
        ...


class _Missing:
    """The answer for a pipeline the tenant does not have."""


_MISSING: Final = _Missing()
Answer = TriggerIntent | None | _Missing


class CoalescedIntentReads:
    """Reads trigger intents for many concurrent callers in as few statements as possible."""

    def __init__(self, store: IntentSource, *, max_batch: int = 256) -> None:
        self._store = store
        self._max_batch = max_batch
        self._waiting: dict[IntentKey, asyncio.Future[Answer]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def get(self, tenant: TenantId, pipeline_id: PipelineId) -> TriggerIntent | None:
        """The pipeline's last recorded intent, or None when no trigger was ever requested.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
            StoreError: the store failed (every caller of that statement gets it).
        """
        key = (tenant, pipeline_id)
        future = self._waiting.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            future.add_done_callback(_retrieve_exception)
            self._waiting[key] = future
            if self._reader is None:
                self._reader = asyncio.create_task(self._read_batches(), name="intent reads")
        # Shielded: the future is shared, and one caller giving up must not cancel the others.
        answer = await asyncio.shield(future)
        if isinstance(answer, _Missing):
            raise PipelineNotFound(tenant, pipeline_id)
        return answer

    async def _read_batches(self) -> None:
        batch: dict[IntentKey, asyncio.Future[Answer]] = {}
        try:
            while self._waiting:
                batch = dict(islice(self._waiting.items(), self._max_batch))
                for key in batch:
                    del self._waiting[key]
                try:
                    intents = await self._store.get_trigger_intents(tuple(batch))
                except Exception as error:  # noqa: BLE001 - handed to every caller of the batch
                    for future in batch.values():
                        future.set_exception(error)
                else:
                    for key, future in batch.items():
                        future.set_result(intents.get(key, _MISSING))
        finally:
            self._reader = None
            # Cancelled (the app is stopping): nobody may wait forever.
            for future in (*batch.values(), *self._waiting.values()):
                future.cancel()
            self._waiting.clear()


def _retrieve_exception(future: asyncio.Future[Answer]) -> None:
    # Callers that gave up never read their batch's error; asyncio would log it as lost.
    if not future.cancelled():
        future.exception()
