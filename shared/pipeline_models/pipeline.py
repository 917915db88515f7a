"""Pipelines as users submit them, as they are versioned, and as the API returns them.

* :class:`PipelineSpec` is what a user submits (``POST /api/v1/pipelines/``); check external
  bodies with :func:`pipeline_models.validation.validate_pipeline_spec`.
* :class:`PipelineVersion` is one immutable revision of a pipeline; the runner runs exactly one.
* :class:`Pipeline` is the documented response shape: ``id``, ``name``, ``options`` and
  ``steps`` at the top level, plus the version shown and bookkeeping.

A ``pipeline_version`` query parameter is read with :func:`parse_version_selector`.
"""

from datetime import datetime
from typing import Annotated, Final, Literal

import msgspec

from pipeline_models.errors import InvalidVersionSelector
from pipeline_models.ids import PipelineId, TenantId
from pipeline_models.options import PipelineOptions
from pipeline_models.steps import Step

MAX_STEPS = 500
LATEST: Final = "latest"

VersionNumber = Annotated[int, msgspec.Meta(ge=1)]
"""A pipeline version number: 1 for the first, incremented by every update."""

VersionSelector = int | Literal["latest"]
"""A version number, or ``"latest"``."""


class PipelineSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What a user submits: a named list of steps and the options that run them."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=253)]
    """Human-readable name; not unique and not used in Kubernetes names."""
    description: Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    """Free text."""
    options: PipelineOptions = msgspec.field(default_factory=PipelineOptions)
    """Trigger topic, scaling, delivery, timeouts and resources."""
    steps: Annotated[tuple[Step, ...], msgspec.Meta(min_length=1, max_length=MAX_STEPS)]
    """The steps, in declaration order (the tie-breaker of the execution order)."""


class PipelineVersion(msgspec.Struct, frozen=True, kw_only=True):
    """One immutable version of a pipeline: what a runner revision runs."""

    pipeline_id: PipelineId
    """The pipeline this version belongs to."""
    version: VersionNumber
    """1, 2, …; never reused."""
    spec: PipelineSpec
    """The validated spec of this version."""
    created_at: Annotated[datetime, msgspec.Meta(tz=True)]
    """When this version was stored (timezone-aware)."""


class Pipeline(msgspec.Struct, frozen=True, kw_only=True):
    """The API's view of a pipeline at one version (by default the latest)."""

    id: PipelineId
    """The pipeline's id, e.g. ``pipeline-k3v9x0q2m1ab``."""
    name: str
    """From the spec."""
    options: PipelineOptions
    """From the spec, with every default filled in."""
    steps: tuple[Step, ...]
    """From the spec, with every default filled in."""
    description: str | None = None
    """From the spec."""
    version: VersionNumber = 1
    """The version shown."""
    latest_version: VersionNumber = 1
    """The newest version of the pipeline."""
    tenant: TenantId | None = None
    """The owner, when the API runs with authentication."""
    created_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    """When version 1 was stored."""
    updated_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    """When the version shown was stored."""


def pipeline_view(
    version: PipelineVersion,
    *,
    latest_version: int,
    created_at: datetime,
    tenant: TenantId | None = None,
) -> Pipeline:
    """Build the API's :class:`Pipeline` answer for ``version``."""
    spec = version.spec
    return Pipeline(
        id=version.pipeline_id,
        name=spec.name,
        description=spec.description,
        options=spec.options,
        steps=spec.steps,
        version=version.version,
        latest_version=latest_version,
        tenant=tenant,
        created_at=created_at,
        updated_at=version.created_at,
    )


def parse_version_selector(text: str | None) -> VersionSelector:
    """Read a ``pipeline_version`` parameter: absent or ``latest`` → ``"latest"``, ``"3"`` → 3.

    Raises:
        InvalidVersionSelector: for anything else (``0``, ``-1``, ``1.0``, ``+2``, ``v2``, …).
    """
    if text is None or text == LATEST:
        return LATEST
    # ASCII digits only: str.isdigit() would also accept e.g. '²' or Arabic-Indic digits.
    if text.isascii() and text.isdigit() and len(text) <= 18:
        number = int(text)
        if number >= 1:
            return number
    raise InvalidVersionSelector(
        f"pipeline_version must be 'latest' or a positive integer such as 1 or 2, got {text!r}"
    )
