"""A pipeline trigger's observed status and its desired state.

:class:`TriggerStatus` is the answer of ``GET /api/v1/events/{pipeline_id}``: ``ready`` is the
documented field (the Knative Service's Ready condition for its current generation); the rest
is extra detail, omitted when unknown. :class:`TriggerIntent` is what the store remembers
about the last start or stop, so any replica answers consistently right after a write.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from pipeline_models.pipeline import VersionNumber


class TriggerStatus(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Observed state of a trigger, as the readiness cache sees it."""

    ready: bool
    """Knative Service Ready == True for ``metadata.generation`` (observed == generation)."""
    source_ready: bool | None = None
    """The KafkaSource's Ready condition; None when there is no source (yet)."""
    pipeline_version: int | None = None
    """The version the current revision runs (from its labels)."""
    url: str | None = None
    """The runner's cluster-local URL."""
    reason: str | None = None
    """Reason of the first condition that is not ready (Knative's CamelCase reason)."""
    message: str | None = None
    """Message of that condition."""
    generation: int | None = None
    """The Service's ``metadata.generation``."""
    observed_generation: int | None = None
    """The Service's ``status.observedGeneration``; ready is only meaningful when equal."""


class TriggerState(StrEnum):
    """What the last successful call asked for."""

    STARTED = "started"
    STOPPED = "stopped"


class TriggerIntent(msgspec.Struct, frozen=True, kw_only=True):
    """The desired state of a trigger, written by every start and stop."""

    state: TriggerState
    """Started or stopped."""
    version: VersionNumber | None = None
    """The pipeline version started; None once stopped."""
    at: Annotated[datetime, msgspec.Meta(tz=True)]
    """When the intent was recorded."""
