"""The local trigger backend (dev mode): runner processes fed by aiokafka consumers.

The faithful local twin of the Knative backend, behind the same protocol: per pipeline, a
`pipeline_runner` process per version (the Knative Service's revision) and a consumer in the
KafkaSource's consumer group that sends each record as the KafkaSource's CloudEvent, with the
pipeline's delivery options (:mod:`events_api.triggers.local.trigger` has the semantics).

Where it differs from Knative, on purpose (README, "Dev mode"):

* records whose retries are exhausted go to `<topic>.dlq` when the pipeline names no dead
  letter (Knative drops them), so nothing is dropped silently;
* stop keeps the consumer group's committed offsets (deleting a KafkaSource deletes them): a
  later start resumes where the stop left off; `reset=true` moves them to `initial_offset`;
* triggers live in this process: on start-up the API resumes every trigger whose stored intent
  is "started" (:meth:`LocalTriggerBackend.resume`).
"""

import asyncio
import logging

import httpx
import msgspec

from events_api.store.errors import StoreError
from events_api.store.protocol import PipelineStore
from events_api.triggers.errors import TriggerError, TriggerRejected
from events_api.triggers.local.dead_letters import DeadLetterWriter
from events_api.triggers.local.dispatch_config import dispatch_config_for
from events_api.triggers.local.kafka_clients import KafkaClients
from events_api.triggers.local.offsets_reset import reset_offsets
from events_api.triggers.local.settings import LocalSettings
from events_api.triggers.local.trigger import LocalTrigger
from events_api.triggers.protocol import StartOutcome, StartRequest
from pipeline_models import ContractError, PipelineId, TenantId, TriggerStatus

logger = logging.getLogger(__name__)


class ResumeReport(msgspec.Struct, frozen=True, kw_only=True):
    """What resumption did at start-up."""

    resumed: tuple[PipelineId, ...] = ()
    failed: tuple[tuple[PipelineId, str], ...] = ()
    """Pipelines that could not be resumed, with the reason (logged too)."""


class LocalTriggerBackend:
    """Start, stop and report triggers as local processes and consumers."""

    def __init__(
        self,
        *,
        settings: LocalSettings,
        kafka: KafkaClients,
        client: httpx.AsyncClient,
        dead_letters: DeadLetterWriter,
    ) -> None:
        self._settings = settings
        self._kafka = kafka
        self._client = client
        self._dead_letters = dead_letters
        self._triggers: dict[PipelineId, LocalTrigger] = {}
        self._locks: dict[PipelineId, asyncio.Lock] = {}

    @property
    def ready(self) -> bool:
        """Always: status is read from this process's own state."""
        return True

    def missing_apis(self) -> list[str]:
        """None: the local backend needs no cluster APIs."""
        return []

    def _lock(self, pipeline_id: PipelineId) -> asyncio.Lock:
        return self._locks.setdefault(pipeline_id, asyncio.Lock())

    async def start(self, request: StartRequest) -> StartOutcome:
        """Converge the pipeline's consumer and roll out `request.version`.

        Raises:
            NoEventOption: the version has no topic.
            BackendUnavailable: Kafka cannot be reached.
            TriggerRejected: the version cannot be handed to a runner (contract too large).
        """
        version = request.version
        config = dispatch_config_for(version, settings=self._settings)
        # The dead-letter producer must work before any record could need it.
        if not await self._kafka.ensure_topic(config.topic):
            logger.warning("topic %s does not exist (yet): nothing to consume", config.topic)
        async with self._lock(version.pipeline_id):
            trigger = self._triggers.get(version.pipeline_id)
            if trigger is None:
                trigger = LocalTrigger(
                    request.tenant,
                    version.pipeline_id,
                    settings=self._settings,
                    client=self._client,
                    dead_letters=self._dead_letters,
                )
                self._triggers[version.pipeline_id] = trigger
            if request.reset:
                await trigger.stop()
                await reset_offsets(config, settings=self._settings, kafka=self._kafka)
            try:
                await trigger.start(version)
            except ContractError as error:
                raise TriggerRejected(str(error)) from error
        dead_letter = config.dead_letter
        return StartOutcome(
            dead_letter=dead_letter.describe() if dead_letter is not None else None,
            offsets_reset=request.reset,
        )

    async def stop(self, tenant: TenantId, pipeline_id: PipelineId) -> bool:
        """Stop the consumer (committing what finished) and the runners; False when none ran."""
        async with self._lock(pipeline_id):
            trigger = self._triggers.pop(pipeline_id, None)
            if trigger is None:
                return False
            await trigger.stop()
            return True

    def status(self, tenant: TenantId, pipeline_id: PipelineId) -> TriggerStatus | None:
        """What this process observes of the trigger; None when it runs none."""
        trigger = self._triggers.get(pipeline_id)
        return trigger.status() if trigger is not None else None

    async def wait_until_ready(
        self, tenant: TenantId, pipeline_id: PipelineId, *, version: int, wait_seconds: float
    ) -> None:
        """Wait (no polling) until the runner of `version` answers its health check."""
        trigger = self._triggers.get(pipeline_id)
        if trigger is not None:
            await trigger.wait_until_ready(version, wait_seconds=wait_seconds)

    def pids(self, pipeline_id: PipelineId) -> list[int]:
        """PIDs of the pipeline's live runner processes."""
        trigger = self._triggers.get(pipeline_id)
        return trigger.pids if trigger is not None else []

    async def resume(self, store: PipelineStore) -> ResumeReport:
        """Start again every trigger whose stored intent is "started" (after an API restart).

        A trigger that cannot be resumed (its version deleted, Kafka down) is logged and
        reported; the others are resumed regardless.
        """
        resumed: list[PipelineId] = []
        failed: list[tuple[PipelineId, str]] = []
        for started in await store.list_started_triggers():
            version_number = started.intent.version
            try:
                if version_number is None:
                    raise TriggerRejected("the stored start names no version")
                version = await store.get_version(
                    started.tenant, pipeline_id=started.pipeline_id, version=version_number
                )
                request = StartRequest(
                    tenant=started.tenant, version=version, started_at=started.intent.at
                )
                await self.start(request)
            except (TriggerError, StoreError) as error:
                # An expected failure, explained by its message: no traceback.
                logger.error("cannot resume the trigger of %s: %s", started.pipeline_id, error)  # noqa: TRY400
                failed.append((started.pipeline_id, str(error)))
            else:
                resumed.append(started.pipeline_id)
        if resumed:
            logger.info("resumed the triggers of %s", ", ".join(resumed))
        return ResumeReport(resumed=tuple(resumed), failed=tuple(failed))

    async def close(self) -> None:
        """Stop every trigger (offsets committed, runners stopped); keep the stored intents."""
        triggers = list(self._triggers.values())
        self._triggers.clear()
        await asyncio.gather(*(trigger.stop() for trigger in triggers))
