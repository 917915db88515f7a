"""Identifier types for pipelines, tenants and steps, and how pipeline ids are minted.

Ids are plain strings on the wire; ``NewType`` keeps them apart in the type checker so a step id
is never passed where a pipeline id is expected. Pipeline ids look like the product's documented
``pipeline-abc123``: a fixed prefix and 12 random lower-case base-36 characters (about 62 bits of
randomness from :mod:`secrets`), short enough to stay readable in Kubernetes names.
"""

import re
import secrets
from typing import NewType

PipelineId = NewType("PipelineId", str)
"""A pipeline's id, e.g. ``pipeline-k3v9x0q2m1ab``; minted by :func:`new_pipeline_id`."""

TenantId = NewType("TenantId", str)
"""Who owns a pipeline: whatever the auth layer says (a subject, an email, a URL)."""

StepId = NewType("StepId", str)
"""A step's id, unique within one pipeline spec (``[A-Za-z0-9_-]``, 1..63 characters)."""

PIPELINE_ID_PREFIX = "pipeline-"
PIPELINE_ID_RANDOM_LENGTH = 12
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_PIPELINE_ID = re.compile(rf"{PIPELINE_ID_PREFIX}[0-9a-z]{{{PIPELINE_ID_RANDOM_LENGTH}}}")


def new_pipeline_id() -> PipelineId:
    """Mint a fresh random pipeline id (``pipeline-`` + 12 base-36 characters)."""
    suffix = "".join(secrets.choice(_BASE36) for _ in range(PIPELINE_ID_RANDOM_LENGTH))
    return PipelineId(PIPELINE_ID_PREFIX + suffix)


def is_pipeline_id(text: str) -> bool:
    """Tell whether ``text`` has exactly the shape :func:`new_pipeline_id` produces."""
    return _PIPELINE_ID.fullmatch(text) is not None
