"""How a pipeline version travels to its runner: one environment variable holding JSON.

The events API writes the pipeline version into the Knative revision's environment, so every
revision is immutable and self-contained. Linux limits one ``NAME=value`` string (with its NUL)
to ``MAX_ARG_STRLEN`` = 131072 bytes — a longer one makes ``execve`` fail and the pod never
starts — so the validation refuses specs whose encoding would exceed it
(:func:`spec_env_size_problem`), at creation time.

The value is ``{"schema": 1, "pipeline_id", "version", "created_at", "spec"}``; every field of
the spec is written, defaults included, so a runner built from another release of this package
does not substitute its own defaults. ``schema`` changes only when an old runner could no
longer read the value correctly.
"""

from datetime import UTC, datetime
from typing import Final

import msgspec

from pipeline_models.ids import PIPELINE_ID_PREFIX, PIPELINE_ID_RANDOM_LENGTH, PipelineId
from pipeline_models.pipeline import PipelineSpec, PipelineVersion

PIPELINE_ENV: Final = "PIPELINE_EVENTS_PIPELINE"
"""Environment variable carrying the pipeline version (pipeline id, version, spec)."""
RUNNER_SETTINGS_ENV: Final = "PIPELINE_EVENTS_RUNNER_SETTINGS"
"""Environment variable carrying the runner settings."""
SCHEMA_VERSION: Final = 1
"""The ``schema`` both variables carry; runners reject any other."""
MAX_ARG_STRLEN: Final = 131072
"""Linux's limit (bytes) of one environment string ``NAME=value`` including its NUL."""

# Widest values the API can give the fields around the spec, so the size check at validation
# time is never more lenient than the real encoding.
_PLACEHOLDER_ID = PipelineId(PIPELINE_ID_PREFIX + "z" * PIPELINE_ID_RANDOM_LENGTH)
_PLACEHOLDER_VERSION = 2**31 - 1
_PLACEHOLDER_TIME = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


class SchemaProbe(msgspec.Struct, frozen=True, kw_only=True):
    """Reads only ``schema``, so a newer layout is reported as such, not as a type error."""

    schema: int
    """The envelope's schema version."""


class PipelineEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """The JSON value of :data:`PIPELINE_ENV`."""

    schema: int
    """:data:`SCHEMA_VERSION` when written."""
    pipeline_id: PipelineId
    """The pipeline's id."""
    version: int
    """The version number."""
    created_at: datetime
    """When the version was stored."""
    spec: PipelineSpec
    """The version's spec, defaults written out."""


_ENCODER = msgspec.json.Encoder()


def encode_pipeline_value(pipeline: PipelineVersion) -> str:
    """The value of :data:`PIPELINE_ENV` for ``pipeline``."""
    envelope = PipelineEnvelope(
        schema=SCHEMA_VERSION,
        pipeline_id=pipeline.pipeline_id,
        version=pipeline.version,
        created_at=pipeline.created_at,
        spec=pipeline.spec,
    )
    return _ENCODER.encode(envelope).decode()


def env_string_size(name: str, value: str) -> int:
    """Bytes the kernel counts for one environment entry: ``NAME=value`` plus its NUL."""
    return len(name.encode()) + 1 + len(value.encode()) + 1


def env_size_problem(name: str, value: str) -> str | None:
    """Say why the entry ``name=value`` is too long for Linux, or None when it fits."""
    size = env_string_size(name, value)
    if size <= MAX_ARG_STRLEN:
        return None
    return (
        f"the environment variable {name} would be {size} bytes, over Linux's limit of "
        f"{MAX_ARG_STRLEN} bytes per variable (MAX_ARG_STRLEN); the runner could not start — "
        "shorten the pipeline (fewer or smaller steps and templates)"
    )


def spec_env_size_problem(spec: PipelineSpec) -> str | None:
    """Say whether ``spec`` would make :data:`PIPELINE_ENV` too long, for any version of it."""
    widest = PipelineVersion(
        pipeline_id=_PLACEHOLDER_ID,
        version=_PLACEHOLDER_VERSION,
        spec=spec,
        created_at=_PLACEHOLDER_TIME,
    )
    return env_size_problem(PIPELINE_ENV, encode_pipeline_value(widest))
