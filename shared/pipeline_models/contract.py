"""The runner contract: how the events API hands a pipeline version and settings to a runner.

Both services use this module, the API to build a Knative revision's environment and the runner
to read it at start-up. Two variables, each JSON with an integer ``schema``::

    PIPELINE_EVENTS_PIPELINE         {"schema": 1, "pipeline_id", "version", "created_at", "spec"}
    PIPELINE_EVENTS_RUNNER_SETTINGS  {"schema": 1, "settings": {...RunnerSettings}}

Decoding is strict where a mistake would run the wrong thing (a missing variable, bad JSON,
another schema, a spec that fails the same validation the API applied) and lenient where
versions may differ (unknown fields are skipped, so a newer API can add fields). Every
:class:`ContractError` message says what to do about it.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import msgspec

from pipeline_models.egress import parse_networks
from pipeline_models.envelope import (
    PIPELINE_ENV,
    RUNNER_SETTINGS_ENV,
    SCHEMA_VERSION,
    SchemaProbe,
    encode_pipeline_value,
    env_size_problem,
)
from pipeline_models.errors import ContractError, SpecInvalid
from pipeline_models.graph import StepGraph, build_step_graph
from pipeline_models.ids import PipelineId
from pipeline_models.options import pipeline_deadline_seconds
from pipeline_models.pipeline import PipelineVersion, VersionNumber
from pipeline_models.runner_settings import RunnerSettings
from pipeline_models.validation import validate_pipeline_spec

_REDEPLOY = "start the trigger again through the events API, which writes this variable"


class RunnerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What a runner knows after decoding its environment."""

    pipeline: PipelineVersion
    """The pipeline version it runs."""
    settings: RunnerSettings
    """The operator's settings."""
    graph: StepGraph
    """The steps' dependency graph, ready for the scheduler."""
    deadline_seconds: float
    """Deadline of one event: the settings' value, or derived from the request timeout."""


class _SettingsEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """The JSON value of ``PIPELINE_EVENTS_RUNNER_SETTINGS``."""

    schema: int
    """``SCHEMA_VERSION`` when written."""
    settings: RunnerSettings
    """The settings; unknown fields inside are skipped."""


class _RawPipelineEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """``PipelineEnvelope`` with the spec left raw, to run it through the full validation."""

    schema: int
    """``SCHEMA_VERSION`` when written."""
    pipeline_id: PipelineId
    """The pipeline's id."""
    version: VersionNumber
    """The version number."""
    created_at: Annotated[datetime, msgspec.Meta(tz=True)]
    """When the version was stored."""
    spec: msgspec.Raw
    """The spec's JSON, validated by ``validate_pipeline_spec``."""


_ENCODER = msgspec.json.Encoder()
_PROBE_DECODER = msgspec.json.Decoder(SchemaProbe)
_PIPELINE_DECODER = msgspec.json.Decoder(_RawPipelineEnvelope)
_SETTINGS_DECODER = msgspec.json.Decoder(_SettingsEnvelope)


def encode_runner_env(*, pipeline: PipelineVersion, settings: RunnerSettings) -> dict[str, str]:
    """The environment variables that make a runner run ``pipeline`` with ``settings``.

    Raises:
        ContractError: when a variable would exceed Linux's per-string limit.
    """
    env = {
        PIPELINE_ENV: encode_pipeline_value(pipeline),
        RUNNER_SETTINGS_ENV: _ENCODER.encode(
            _SettingsEnvelope(schema=SCHEMA_VERSION, settings=settings)
        ).decode(),
    }
    if reason := runner_env_size_problem(env):
        raise ContractError(reason)
    return env


def runner_env_size_problem(env: Mapping[str, str]) -> str | None:
    """Say which variable of ``env`` is too long for Linux (MAX_ARG_STRLEN), or None."""
    for name, value in env.items():
        if reason := env_size_problem(name, value):
            return reason
    return None


def decode_runner_env(env: Mapping[str, str]) -> RunnerConfig:
    """Read the runner's configuration from its environment.

    Raises:
        ContractError: a variable is missing, not JSON, of another schema, or holds an invalid
            pipeline or settings.
    """
    pipeline = _decode_pipeline(_require(env, PIPELINE_ENV))
    settings = _decode_settings(_require(env, RUNNER_SETTINGS_ENV))
    request_timeout = pipeline.spec.options.timeouts.request_timeout_seconds
    deadline = settings.pipeline_deadline_seconds
    if deadline is None:
        deadline = pipeline_deadline_seconds(pipeline.spec.options.timeouts)
    elif deadline >= request_timeout:
        raise ContractError(
            f"{RUNNER_SETTINGS_ENV}: pipeline_deadline_seconds ({deadline}) must be below the "
            f"pipeline's request timeout ({request_timeout} s); fix the events API's settings"
        )
    return RunnerConfig(
        pipeline=pipeline,
        settings=settings,
        graph=build_step_graph(pipeline.spec.steps),
        deadline_seconds=deadline,
    )


def _require(env: Mapping[str, str], name: str) -> bytes:
    value = env.get(name)
    if value is None:
        raise ContractError(f"{name} is not set: {_REDEPLOY}")
    data = value.encode()
    try:
        probe = _PROBE_DECODER.decode(data)
    except msgspec.DecodeError as error:
        raise ContractError(
            f"{name} is not a JSON object with an integer `schema` ({error}): {_REDEPLOY}"
        ) from error
    if probe.schema != SCHEMA_VERSION:
        raise ContractError(
            f"{name} has schema {probe.schema}, but this runner reads schema {SCHEMA_VERSION}: "
            "deploy the runner image of the same release as the events API"
        )
    return data


def _decode_pipeline(data: bytes) -> PipelineVersion:
    try:
        envelope = _PIPELINE_DECODER.decode(data)
    except msgspec.DecodeError as error:
        raise ContractError(f"{PIPELINE_ENV} is malformed ({error}): {_REDEPLOY}") from error
    try:
        spec = validate_pipeline_spec(bytes(envelope.spec), strict_fields=False)
    except SpecInvalid as error:
        raise ContractError(
            f"{PIPELINE_ENV} holds a pipeline spec this runner rejects ({error}); deploy the "
            "runner image of the same release as the events API"
        ) from error
    return PipelineVersion(
        pipeline_id=envelope.pipeline_id,
        version=envelope.version,
        spec=spec,
        created_at=envelope.created_at,
    )


def _decode_settings(data: bytes) -> RunnerSettings:
    try:
        settings = _SETTINGS_DECODER.decode(data).settings
        parse_networks(settings.egress.allow_cidrs + settings.egress.deny_cidrs)
    except (msgspec.DecodeError, ValueError) as error:
        raise ContractError(
            f"{RUNNER_SETTINGS_ENV} is malformed ({error}); fix the events API's runner settings"
        ) from error
    return settings
