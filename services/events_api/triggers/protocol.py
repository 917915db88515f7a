"""The one protocol every trigger backend implements: start, stop, status.

The events use case records the caller's intent in the store first, then asks the backend to
converge; status is answered from what the backend observes (a watch cache for Knative), never by
calling the cluster on the request path.
"""

from datetime import datetime
from typing import Protocol

import msgspec

from pipeline_models import PipelineId, PipelineVersion, TenantId, TriggerStatus


class StartRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Make a pipeline version run, freshly rolled out."""

    tenant: TenantId
    version: PipelineVersion
    started_at: datetime
    """When the start was asked for; a fresh value forces a fresh rollout."""
    reset: bool = False
    """Delete and recreate everything (the consumer group's offsets go with the source)."""


class StartOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a start did that the caller should be told."""

    dead_letter: str | None = None
    """Where records that exhaust their retries go; None: Knative drops them."""
    offsets_reset: bool = False
    """The source was recreated, so consumption restarts at `initialOffset`."""


class TriggerBackend(Protocol):
    """Runs pipeline versions on records of their topic."""

    @property
    def ready(self) -> bool:
        """Whether status answers are trustworthy (e.g. the watch cache has synced)."""
        ...

    def missing_apis(self) -> list[str]:
        """APIs the cluster lacks for this backend (empty when all are served)."""
        ...

    async def start(self, request: StartRequest) -> StartOutcome:
        """Converge the pipeline's trigger onto `request.version`.

        Raises:
            NoEventOption: the version has no topic.
            TriggerError: the cluster could not be brought there (see its subclasses).
        """
        ...

    async def stop(self, tenant: TenantId, pipeline_id: PipelineId) -> bool:
        """Delete the pipeline's trigger; False when there was none."""
        ...

    def status(self, tenant: TenantId, pipeline_id: PipelineId) -> TriggerStatus | None:
        """What the backend observes of the trigger; None when it sees none."""
        ...

    async def wait_until_ready(
        self, tenant: TenantId, pipeline_id: PipelineId, *, version: int, wait_seconds: float
    ) -> None:
        """Return once the trigger runs `version` and is ready, or after `wait_seconds`."""
        ...
