"""Pipeline versions and settings for the manifest builders' tests.

`make_version` builds a version from options written as JSON, converted with the Structs' own
field checks but *not* the cross-field option checks: the builders must defend themselves
against options the API would have refused (a delivery timeout above the request timeout).
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import (
    LogStep,
    PipelineId,
    PipelineOptions,
    PipelineSpec,
    PipelineVersion,
    StepId,
)

PIPELINE_ID = PipelineId("pipeline-k3v9x0q2m1ab")
CREATED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

MakeVersion = Callable[..., PipelineVersion]


@pytest.fixture
def make_version() -> MakeVersion:
    """`make_version(options=None, *, pipeline_id=..., version=1)` → a PipelineVersion."""

    def make(
        options: dict[str, Any] | None = None,
        *,
        pipeline_id: str = PIPELINE_ID,
        version: int = 1,
    ) -> PipelineVersion:
        given = {"event": "orders"} if options is None else options
        spec = PipelineSpec(
            name="orders",
            options=msgspec.convert(given, PipelineOptions),
            steps=(LogStep(id=StepId("log"), message="an event arrived"),),
        )
        return PipelineVersion(
            pipeline_id=PipelineId(pipeline_id), version=version, spec=spec, created_at=CREATED_AT
        )

    return make


@pytest.fixture
def settings() -> KnativeSettings:
    """Plain settings: no Kafka credentials."""
    return KnativeSettings(namespace="pipelines", kafka_bootstrap_servers=("kafka.kafka:9092",))


@pytest.fixture
def secure_settings() -> KnativeSettings:
    """Settings reaching Kafka with TLS and SASL (and a KafkaSink auth Secret)."""
    return KnativeSettings(
        namespace="pipelines",
        kafka_bootstrap_servers=("kafka-0.kafka:9093", "kafka-1.kafka:9093"),
        kafka_tls_secret="kafka-tls",
        kafka_sasl_secret="kafka-sasl",
        kafka_sink_auth_secret="kafka-sink-auth",
    )
