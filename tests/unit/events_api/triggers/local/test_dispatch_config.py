"""A version's options become its consumer's configuration, as a KafkaSource's spec would."""

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from events_api.triggers.errors import NoEventOption
from events_api.triggers.local.dead_letters import DeadLetterDestination
from events_api.triggers.local.dispatch_config import dispatch_config_for
from events_api.triggers.local.settings import LocalSettings, runner_settings_for
from pipeline_models import (
    LogStep,
    PipelineId,
    PipelineOptions,
    PipelineSpec,
    PipelineVersion,
    RunnerSettings,
    StepId,
    consumer_group,
)

PIPELINE_ID = PipelineId("pipeline-k3v9x0q2m1ab")
SETTINGS = LocalSettings(namespace="local", kafka_bootstrap_servers=("127.0.0.1:9999",))


def version(options: dict[str, Any]) -> PipelineVersion:
    spec = PipelineSpec(
        name="orders",
        options=msgspec.convert(options, PipelineOptions),
        steps=(LogStep(id=StepId("log"), message="hi"),),
    )
    return PipelineVersion(
        pipeline_id=PIPELINE_ID, version=1, spec=spec, created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_defaults_match_the_kafkasource() -> None:
    config = dispatch_config_for(version({"event": "orders"}), settings=SETTINGS)
    assert config.topic == "orders"
    assert config.group == consumer_group("local", PIPELINE_ID)
    assert config.initial_offset == "latest"
    assert config.concurrency == 1
    assert config.policy.schedule.attempts == 11
    assert config.policy.schedule.policy == "exponential"
    assert config.policy.attempt_timeout == 300
    assert config.identity.name == PIPELINE_ID
    assert config.identity.key_type == "string"
    # Dev mode never drops silently.
    assert config.dead_letter == DeadLetterDestination(topic="orders.dlq")


@pytest.mark.parametrize(
    ("delivery", "check"),
    [
        ({"ordering": "unordered"}, lambda c: c.concurrency == 50),
        ({"initial_offset": "earliest"}, lambda c: c.initial_offset == "earliest"),
        ({"retry": 0}, lambda c: c.policy.schedule.attempts == 1),
        ({"backoff_policy": "linear"}, lambda c: c.policy.schedule.policy == "linear"),
        ({"timeout_seconds": 7}, lambda c: c.policy.attempt_timeout == 7),
        ({"key_type": "int"}, lambda c: c.identity.key_type == "int"),
        (
            {"dead_letter": {"topic": "errors"}},
            lambda c: c.dead_letter == DeadLetterDestination(topic="errors"),
        ),
        (
            {"dead_letter": {"uri": "http://127.0.0.1:1/dlq"}},
            lambda c: c.dead_letter == DeadLetterDestination(uri="http://127.0.0.1:1/dlq"),
        ),
    ],
)
def test_each_delivery_option_is_honoured(delivery: dict[str, Any], check: Any) -> None:
    config = dispatch_config_for(
        version({"event": "orders", "delivery": delivery}), settings=SETTINGS
    )
    assert check(config)


def test_an_empty_suffix_drops_like_knative() -> None:
    settings = msgspec.structs.replace(SETTINGS, default_dead_letter_suffix="")
    assert dispatch_config_for(version({"event": "o"}), settings=settings).dead_letter is None


def test_no_topic_is_the_documented_error() -> None:
    with pytest.raises(NoEventOption):
        dispatch_config_for(version({}), settings=SETTINGS)


def test_runners_produce_to_the_same_kafka_unless_told_otherwise() -> None:
    assert runner_settings_for(SETTINGS).kafka.bootstrap_servers == ("127.0.0.1:9999",)
    other = msgspec.convert({"kafka": {"bootstrap_servers": ["elsewhere:9092"]}}, RunnerSettings)
    settings = msgspec.structs.replace(SETTINGS, runner=other)
    assert runner_settings_for(settings).kafka.bootstrap_servers == ("elsewhere:9092",)


def test_local_runners_may_call_loopback_unless_turned_off() -> None:
    assert runner_settings_for(SETTINGS).egress.allow_loopback
    closed = msgspec.structs.replace(SETTINGS, allow_loopback_egress=False)
    assert not runner_settings_for(closed).egress.allow_loopback


def test_the_runner_gets_no_more_events_at_once_than_it_admits() -> None:
    scaled = version({"event": "o", "scaling": {"container_concurrency": 7}})
    assert dispatch_config_for(scaled, settings=SETTINGS).runner_slots == 7
    # Without containerConcurrency the runner admits its settings' step cap.
    plain = version({"event": "o", "scaling": {"container_concurrency": 0}})
    expected = SETTINGS.runner.max_concurrency
    assert dispatch_config_for(plain, settings=SETTINGS).runner_slots == expected
