"""The Events use case: start, stop and report a pipeline's trigger.

The caller's intent is written to the store before the backend acts, so every replica answers a
status GET right after a POST correctly: what the backend observes (a watch cache) is combined
with that intent — a start the cache cannot show yet reads as `ready: false, reason: Pending`.
"""

from collections.abc import Callable
from datetime import datetime

import msgspec

from events_api.intent_reads import CoalescedIntentReads
from events_api.store.protocol import PipelineStore
from events_api.triggers.errors import NoEventOption, TriggerNotFound
from events_api.triggers.protocol import StartRequest, TriggerBackend
from pipeline_models import (
    PipelineId,
    PipelineVersion,
    TenantId,
    TriggerIntent,
    TriggerState,
    TriggerStatus,
    parse_version_selector,
)

STARTED = "Event started successfully"
DELETED = "Event deleted successfully"
PENDING = "Pending"


class StartAnswer(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The documented `{"message": ...}` plus what a careful client should know."""

    message: str
    pipeline_version: int
    dead_letter: str | None = None
    warnings: tuple[str, ...] = ()


class StopAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The documented `{"message": "Event deleted successfully"}`."""

    message: str


def combine(intent: TriggerIntent | None, observed: TriggerStatus | None) -> TriggerStatus:
    """The status to answer from the stored intent and what the backend observes.

    Raises:
        TriggerNotFound: no trigger was requested (or the last request was a stop).
    """
    if intent is None or intent.state == TriggerState.STOPPED:
        if intent is None and observed is not None:
            return observed
        raise TriggerNotFound("no trigger was started for this pipeline")
    if observed is None:
        return TriggerStatus(
            ready=False,
            source_ready=False,
            pipeline_version=intent.version,
            reason=PENDING,
            message=f"starting version {intent.version}",
        )
    if observed.pipeline_version != intent.version:
        return msgspec.structs.replace(
            observed,
            ready=False,
            pipeline_version=intent.version,
            reason=PENDING,
            message=f"rolling out version {intent.version} (version "
            f"{observed.pipeline_version} still runs)",
        )
    return observed


def start_warnings(version: PipelineVersion, *, dead_letter: str | None, reset: bool) -> list[str]:
    """What the start answer should warn about: records that may be dropped or skipped."""
    warnings = []
    if dead_letter is None:
        warnings.append(
            "no dead-letter sink: records that exhaust their retries are dropped by Knative; "
            "set options.delivery.dead_letter to keep them"
        )
    if reset:
        offset = version.spec.options.delivery.initial_offset
        warnings.append(
            f"reset: the source was recreated and its consumer group's offsets deleted; "
            f"consumption restarts at initialOffset={offset}"
            + (" (records produced meanwhile are skipped)" if offset == "latest" else "")
        )
    return warnings


class TriggerService:
    """Start, stop and report triggers for a tenant's pipelines."""

    def __init__(
        self,
        store: PipelineStore,
        backend: TriggerBackend,
        *,
        clock: Callable[[], datetime],
        max_wait_seconds: float,
    ) -> None:
        self._store = store
        self._backend = backend
        self._clock = clock
        self._max_wait = max_wait_seconds
        self._intents = CoalescedIntentReads(store)

    async def _resolve(
        self, tenant: TenantId, pipeline_id: PipelineId, selector_text: str | None
    ) -> PipelineVersion:
        selector = parse_version_selector(selector_text)
        record = await self._store.get_pipeline(tenant, pipeline_id=pipeline_id)
        if selector == "latest":
            return record.latest()
        return await self._store.get_version(tenant, pipeline_id=pipeline_id, version=selector)

    async def start(
        self,
        tenant: TenantId,
        pipeline_id: PipelineId,
        *,
        version: str | None,
        reset: bool,
    ) -> StartAnswer:
        """Make the trigger run the selected version (latest by default), freshly rolled out.

        Raises:
            InvalidVersionSelector: `version` is malformed.
            PipelineNotFound, VersionNotFound: no such pipeline or version for this tenant.
            NoEventOption: the version has no `options.event`.
            TriggerError: the backend could not converge.
        """
        selected = await self._resolve(tenant, pipeline_id, version)
        if selected.spec.options.event is None:
            raise NoEventOption(
                f"pipeline {pipeline_id} version {selected.version} has no options.event topic; "
                "add one with PUT /api/v1/pipelines/{id} and start again"
            )
        started_at = self._clock()
        intent = TriggerIntent(state=TriggerState.STARTED, version=selected.version, at=started_at)
        await self._store.set_trigger_intent(tenant, pipeline_id=pipeline_id, intent=intent)
        outcome = await self._backend.start(
            StartRequest(tenant=tenant, version=selected, started_at=started_at, reset=reset)
        )
        return StartAnswer(
            message=STARTED,
            pipeline_version=selected.version,
            dead_letter=outcome.dead_letter,
            warnings=tuple(
                start_warnings(
                    selected, dead_letter=outcome.dead_letter, reset=outcome.offsets_reset
                )
            ),
        )

    async def stop(self, tenant: TenantId, pipeline_id: PipelineId) -> StopAnswer:
        """Delete the trigger and record the stop.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
            TriggerNotFound: no trigger was running.
        """
        intent = await self._store.get_trigger_intent(tenant, pipeline_id=pipeline_id)
        existed = await self._backend.stop(tenant, pipeline_id)
        stopped = TriggerIntent(state=TriggerState.STOPPED, at=self._clock())
        await self._store.set_trigger_intent(tenant, pipeline_id=pipeline_id, intent=stopped)
        was_started = intent is not None and intent.state == TriggerState.STARTED
        if not existed and not was_started:
            raise TriggerNotFound(f"no trigger is running for pipeline {pipeline_id}")
        return StopAnswer(message=DELETED)

    async def status(
        self, tenant: TenantId, pipeline_id: PipelineId, *, wait_seconds: float = 0
    ) -> TriggerStatus:
        """The trigger's status, from the backend's cache and the stored intent (that read is
        coalesced with concurrent GETs', never older than the call: see `intent_reads`).

        With `wait_seconds`, waits (capped) until the trigger is ready or the time is up.

        Raises:
            PipelineNotFound: no such pipeline for this tenant.
            TriggerNotFound: no trigger was requested.
        """
        intent = await self._intents.get(tenant, pipeline_id)
        wait = min(wait_seconds, self._max_wait)
        if wait > 0 and intent is not None and intent.state == TriggerState.STARTED:
            await self._backend.wait_until_ready(
                tenant, pipeline_id, version=intent.version or 0, wait_seconds=wait
            )
        return combine(intent, self._backend.status(tenant, pipeline_id))
