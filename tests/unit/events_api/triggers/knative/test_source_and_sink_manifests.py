"""The KafkaSource and the dead-letter KafkaSink: topic, delivery, credentials, owner, errors."""

from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from events_api.triggers.errors import TriggerError
from events_api.triggers.knative.manifests import (
    InconsistentTimeouts,
    NoEventOption,
    ServiceOwner,
    SettingsConflict,
    build_kafka_sink,
    build_kafka_source,
    kafka_sink_name,
    owner_of,
)
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import PipelineVersion, TenantId

TENANT = TenantId("tenant-a")
OWNER = ServiceOwner(name="pipeline-k3v9x0q2m1ab", uid="uid-1")
MakeVersion = Callable[..., PipelineVersion]


def source_for(version: PipelineVersion, settings: KnativeSettings) -> dict[str, Any]:
    return build_kafka_source(version, tenant=TENANT, settings=settings, owner=OWNER)


def sink_for(version: PipelineVersion, settings: KnativeSettings) -> dict[str, Any] | None:
    return build_kafka_sink(version, tenant=TENANT, settings=settings, owner=OWNER)


def test_a_version_without_event_option_has_no_source(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    version = make_version({"scaling": {"max_scale": 2}})
    with pytest.raises(NoEventOption, match=r"options\.event") as raised:
        source_for(version, settings)
    assert isinstance(raised.value, TriggerError)
    assert version.pipeline_id in str(raised.value)


@pytest.mark.parametrize("source_version", ["v1", "v1beta1"])
def test_the_source_version_is_a_setting(make_version: MakeVersion, source_version: str) -> None:
    settings = msgspec.convert({"kafka_source_version": source_version}, KnativeSettings)
    source = source_for(make_version(), settings)
    assert source["apiVersion"] == f"sources.knative.dev/{source_version}"
    assert source["kind"] == "KafkaSource"


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        (
            {},
            {
                "retry": 10,
                "backoffPolicy": "exponential",
                "backoffDelay": "PT0.3S",
                "timeout": "PT5M",
            },
        ),
        (
            {"retry": 0, "backoff_policy": "linear", "backoff_delay_seconds": 90},
            {"retry": 0, "backoffPolicy": "linear", "backoffDelay": "PT1M30S", "timeout": "PT5M"},
        ),
        (
            {"timeout_seconds": 12.5, "backoff_delay_seconds": 0.01},
            {
                "retry": 10,
                "backoffPolicy": "exponential",
                "backoffDelay": "PT0.1S",
                "timeout": "PT12.5S",
            },
        ),
    ],
)
def test_delivery_is_written_out(
    make_version: MakeVersion,
    settings: KnativeSettings,
    delivery: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    source = source_for(make_version({"event": "t", "delivery": delivery}), settings)
    assert source["spec"]["delivery"] == expected


def test_the_delivery_timeout_follows_the_request_timeout(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    version = make_version({"event": "t", "timeouts": {"request_timeout_seconds": 45}})
    assert source_for(version, settings)["spec"]["delivery"]["timeout"] == "PT45S"


@pytest.mark.parametrize(
    ("request_timeout", "delivery_timeout"), [(300, 301.0), (10, 10.06), (1, 600.0)]
)
def test_a_delivery_timeout_above_the_request_timeout_is_refused(
    make_version: MakeVersion,
    settings: KnativeSettings,
    request_timeout: int,
    delivery_timeout: float,
) -> None:
    version = make_version(
        {
            "event": "t",
            "timeouts": {"request_timeout_seconds": request_timeout},
            "delivery": {"timeout_seconds": delivery_timeout},
        }
    )
    with pytest.raises(InconsistentTimeouts, match="timeoutSeconds"):
        source_for(version, settings)


def test_a_delivery_timeout_that_rounds_to_the_request_timeout_is_allowed(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    version = make_version(
        {
            "event": "t",
            "timeouts": {"request_timeout_seconds": 10},
            "delivery": {"timeout_seconds": 10.04},
        }
    )
    assert source_for(version, settings)["spec"]["delivery"]["timeout"] == "PT10S"


def test_credentials_are_secret_references(
    make_version: MakeVersion, secure_settings: KnativeSettings
) -> None:
    net = source_for(make_version(), secure_settings)["spec"]["net"]

    def ref(secret: str, key: str) -> dict[str, Any]:
        return {"secretKeyRef": {"name": secret, "key": key}}

    assert net == {
        "tls": {
            "enable": True,
            "caCert": ref("kafka-tls", "ca.crt"),
            "cert": ref("kafka-tls", "user.crt"),
            "key": ref("kafka-tls", "user.key"),
        },
        "sasl": {
            "enable": True,
            "user": ref("kafka-sasl", "user"),
            "password": ref("kafka-sasl", "password"),
            "type": ref("kafka-sasl", "saslType"),
        },
    }


def test_without_credentials_there_is_no_net(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    assert "net" not in source_for(make_version(), settings)["spec"]


def test_the_owner_must_be_the_pipelines_service(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    with pytest.raises(ValueError, match="not pipeline"):
        build_kafka_source(
            make_version(),
            tenant=TENANT,
            settings=settings,
            owner=ServiceOwner(name="someone-else", uid="u"),
        )


# --- The dead-letter KafkaSink --------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"event": "t"},
        {"event": "t", "delivery": {"dead_letter": {"uri": "http://dlq.example.com"}}},
        {"event": "t", "delivery": {"retry": 3}},
    ],
)
def test_no_sink_without_a_dead_letter_topic(
    make_version: MakeVersion, secure_settings: KnativeSettings, options: dict[str, Any]
) -> None:
    assert sink_for(make_version(options), secure_settings) is None


def test_the_sink_for_a_dead_letter_topic(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    version = make_version({"event": "t", "delivery": {"dead_letter": {"topic": "t.dlq"}}})
    sink = sink_for(version, settings)
    assert sink is not None
    assert sink["apiVersion"] == "eventing.knative.dev/v1alpha1"
    assert sink["kind"] == "KafkaSink"
    assert sink["metadata"]["name"] == kafka_sink_name(version) == "pipeline-k3v9x0q2m1ab-dlq"
    assert sink["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert sink["spec"] == {
        "topic": "t.dlq",
        "bootstrapServers": ["kafka.kafka:9092"],
        "contentMode": "binary",
    }


def test_the_sink_authenticates_with_its_own_secret(
    make_version: MakeVersion, secure_settings: KnativeSettings
) -> None:
    version = make_version({"event": "t", "delivery": {"dead_letter": {"topic": "t.dlq"}}})
    sink = sink_for(version, secure_settings)
    assert sink is not None
    assert sink["spec"]["auth"] == {"secret": {"ref": {"name": "kafka-sink-auth"}}}


@pytest.mark.parametrize(("tls", "sasl"), [("kafka-tls", ""), ("", "kafka-sasl")])
def test_a_secured_kafka_needs_the_sinks_secret(
    make_version: MakeVersion, tls: str, sasl: str
) -> None:
    settings = KnativeSettings(kafka_tls_secret=tls, kafka_sasl_secret=sasl)
    version = make_version({"event": "t", "delivery": {"dead_letter": {"topic": "t.dlq"}}})
    with pytest.raises(SettingsConflict, match="kafka_sink_auth_secret"):
        sink_for(version, settings)


# --- Reading the created Service back -------------------------------------------------------------


def test_owner_of_a_created_service() -> None:
    service: dict[str, Any] = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": "p", "uid": "u-1", "resourceVersion": "7"},
    }
    assert owner_of(service) == ServiceOwner(name="p", uid="u-1")


@pytest.mark.parametrize(
    "service",
    [
        {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": {"name": "p"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "p", "uid": "u"}},
    ],
)
def test_owner_of_refuses_what_cannot_own(service: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Service"):
        owner_of(service)
