"""The runner's Knative Service: scaling, resource bounds, timeouts and the runner's environment."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from events_api.triggers.knative.container_resources import parse_quantity
from events_api.triggers.knative.manifests import (
    InconsistentTimeouts,
    InvalidResourceRequest,
    ResourceRequestTooLarge,
    SettingsConflict,
    build_service,
    runner_settings_for,
)
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import (
    KafkaSettings,
    PipelineVersion,
    RunnerSettings,
    TenantId,
    decode_runner_env,
)

STARTED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
TENANT = TenantId("tenant-a")
MakeVersion = Callable[..., PipelineVersion]


def service_for(version: PipelineVersion, settings: KnativeSettings) -> dict[str, Any]:
    return build_service(version, tenant=TENANT, settings=settings, started_at=STARTED_AT)


def template_annotations(service: dict[str, Any]) -> dict[str, str]:
    result: dict[str, str] = service["spec"]["template"]["metadata"]["annotations"]
    return result


def container_of(service: dict[str, Any]) -> dict[str, Any]:
    (container,) = service["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


def plain_env(service: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container_of(service)["env"] if "value" in e}


# --- Scaling --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scaling", "cap", "expected"),
    [
        ({}, 50, {"min-scale": "0", "max-scale": "10"}),
        ({"max_scale": 0}, 50, {"min-scale": "0", "max-scale": "50"}),
        ({"max_scale": 0}, 7, {"min-scale": "0", "max-scale": "7"}),
        ({"max_scale": 80, "min_scale": 2}, 50, {"min-scale": "2", "max-scale": "50"}),
        ({"max_scale": 80, "min_scale": 70}, 50, {"min-scale": "50", "max-scale": "50"}),
        ({"max_scale": 3, "min_scale": 3}, 50, {"min-scale": "3", "max-scale": "3"}),
        ({"target_concurrency": 4}, 50, {"min-scale": "0", "max-scale": "10", "target": "4"}),
    ],
)
def test_autoscaling_annotations(
    make_version: MakeVersion,
    scaling: dict[str, int],
    cap: int,
    expected: dict[str, str],
) -> None:
    settings = KnativeSettings(max_scale_limit=cap)
    annotations = template_annotations(
        service_for(make_version({"event": "t", "scaling": scaling}), settings)
    )
    autoscaling = {
        key.removeprefix("autoscaling.knative.dev/"): value
        for key, value in annotations.items()
        if key.startswith("autoscaling.knative.dev/")
    }
    assert autoscaling == {"class": "kpa.autoscaling.knative.dev", **expected}


def test_started_at_is_written_in_utc(make_version: MakeVersion, settings: KnativeSettings) -> None:
    paris = timezone(timedelta(hours=1))
    service = build_service(
        make_version(),
        tenant=TENANT,
        settings=settings,
        started_at=datetime(2026, 3, 4, 6, 6, 7, 250000, tzinfo=paris),
    )
    started = template_annotations(service)["pipeline-events.dev/started-at"]
    assert started == "2026-03-04T05:06:07.250000+00:00"


def test_a_naive_start_time_is_refused(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_service(
            make_version(), tenant=TENANT, settings=settings, started_at=datetime(2026, 3, 4)
        )


# --- Resources ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (
            {},
            {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "1", "memory": "512Mi"},
            },
        ),
        (
            {"cpu": "250m", "memory": "256Mi"},
            {
                "requests": {"cpu": "250m", "memory": "256Mi"},
                "limits": {"cpu": "1", "memory": "512Mi"},
            },
        ),
        # Above the default limit: the limit rises to the request.
        (
            {"cpu": "1.5", "memory": "1Gi"},
            {
                "requests": {"cpu": "1.5", "memory": "1Gi"},
                "limits": {"cpu": "1.5", "memory": "1Gi"},
            },
        ),
        # Exactly the bound is allowed, in any spelling.
        (
            {"cpu": "2000m", "memory": "2048Mi"},
            {
                "requests": {"cpu": "2000m", "memory": "2048Mi"},
                "limits": {"cpu": "2000m", "memory": "2048Mi"},
            },
        ),
    ],
)
def test_resources_within_bounds(
    make_version: MakeVersion,
    settings: KnativeSettings,
    asked: dict[str, str],
    expected: dict[str, dict[str, str]],
) -> None:
    service = service_for(make_version({"event": "t", "resources": asked}), settings)
    assert container_of(service)["resources"] == expected


@pytest.mark.parametrize(
    ("asked", "resource", "bound"),
    [
        ({"cpu": "2001m"}, "cpu", "2"),
        ({"cpu": "3"}, "cpu", "2"),
        ({"memory": "2049Mi"}, "memory", "2Gi"),
        ({"memory": "3G"}, "memory", "2Gi"),
        ({"memory": "1e10"}, "memory", "2Gi"),
    ],
)
def test_resources_above_the_bound_are_refused(
    make_version: MakeVersion,
    settings: KnativeSettings,
    asked: dict[str, str],
    resource: str,
    bound: str,
) -> None:
    with pytest.raises(ResourceRequestTooLarge) as raised:
        service_for(make_version({"event": "t", "resources": asked}), settings)
    error = raised.value
    assert isinstance(error, ValueError)
    assert (error.resource, error.requested, error.bound) == (resource, asked[resource], bound)
    assert f"max_{resource}_request" in str(error)
    assert bound in str(error)


def test_a_request_that_is_no_quantity_is_refused(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    with pytest.raises(InvalidResourceRequest, match="not a Kubernetes quantity"):
        service_for(make_version({"event": "t", "resources": {"cpu": "lots"}}), settings)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", Decimal(1)),
        ("250m", Decimal("0.25")),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("1.", Decimal(1)),
        ("+2", Decimal(2)),
        ("128Mi", Decimal(128 * 2**20)),
        ("1Gi", Decimal(2**30)),
        ("1G", Decimal(10**9)),
        ("1k", Decimal(1000)),
        ("1e3", Decimal(1000)),
        ("5E-1", Decimal("0.5")),
        ("100n", Decimal("1e-7")),
    ],
)
def test_quantities_parse_to_their_value(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "-1", "1 Gi", "1GB", "1gi", "Gi", "1e", "1.2.3", "0x10"])
def test_malformed_quantities_are_refused(text: str) -> None:
    with pytest.raises(InvalidResourceRequest):
        parse_quantity(text)


# --- Timeouts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("request_timeout", "deadline"), [(300, 290.0), (10, 9.0), (1, 0.5)])
def test_the_runner_deadline_is_below_the_revision_timeout(
    make_version: MakeVersion, settings: KnativeSettings, request_timeout: int, deadline: float
) -> None:
    version = make_version({"event": "t", "timeouts": {"request_timeout_seconds": request_timeout}})
    service = service_for(version, settings)
    assert service["spec"]["template"]["spec"]["timeoutSeconds"] == request_timeout
    assert decode_runner_env(plain_env(service)).deadline_seconds == deadline


def test_a_configured_runner_deadline_at_the_request_timeout_is_refused(
    make_version: MakeVersion,
) -> None:
    settings = KnativeSettings(runner=RunnerSettings(pipeline_deadline_seconds=30))
    version = make_version({"event": "t", "timeouts": {"request_timeout_seconds": 30}})
    with pytest.raises(InconsistentTimeouts, match=r"pipeline_deadline_seconds \(30"):
        service_for(version, settings)
    # Below it, it is used as configured.
    longer = make_version({"event": "t", "timeouts": {"request_timeout_seconds": 31}})
    assert decode_runner_env(plain_env(service_for(longer, settings))).deadline_seconds == 30


# --- The runner's environment ---------------------------------------------------------------------


def test_without_credentials_the_env_is_the_contract_alone(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    service = service_for(make_version(), settings)
    container = container_of(service)
    assert [e["name"] for e in container["env"]] == [
        "PIPELINE_EVENTS_PIPELINE",
        "PIPELINE_EVENTS_RUNNER_SETTINGS",
    ]
    assert "volumeMounts" not in container
    assert "volumes" not in service["spec"]["template"]["spec"]
    kafka = decode_runner_env(plain_env(service)).settings.kafka
    assert kafka.bootstrap_servers == ("kafka.kafka:9092",)
    assert kafka.security_protocol == "PLAINTEXT"


def test_credentials_reach_the_runner_by_reference(
    make_version: MakeVersion, secure_settings: KnativeSettings
) -> None:
    service = service_for(make_version(), secure_settings)
    container = container_of(service)
    by_name = {e["name"]: e for e in container["env"]}
    assert by_name["PIPELINE_EVENTS_KAFKA_SASL_USERNAME"] == {
        "name": "PIPELINE_EVENTS_KAFKA_SASL_USERNAME",
        "valueFrom": {"secretKeyRef": {"name": "kafka-sasl", "key": "user"}},
    }
    assert by_name["PIPELINE_EVENTS_KAFKA_SASL_PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "kafka-sasl", "key": "password"}
    }
    assert by_name["PIPELINE_EVENTS_KAFKA_SSL_KEY_FILE"]["value"] == (
        "/var/run/secrets/pipeline-events/kafka-tls/user.key"
    )
    assert container["volumeMounts"] == [
        {
            "name": "kafka-tls",
            "mountPath": "/var/run/secrets/pipeline-events/kafka-tls",
            "readOnly": True,
        }
    ]
    assert service["spec"]["template"]["spec"]["volumes"] == [
        {"name": "kafka-tls", "secret": {"secretName": "kafka-tls"}}
    ]
    kafka = decode_runner_env(plain_env(service)).settings.kafka
    assert kafka.security_protocol == "SASL_SSL"
    assert kafka.bootstrap_servers == secure_settings.kafka_bootstrap_servers
    assert kafka.sasl_password_env == "PIPELINE_EVENTS_KAFKA_SASL_PASSWORD"
    assert kafka.ssl_ca_file_env == "PIPELINE_EVENTS_KAFKA_SSL_CA_FILE"


@pytest.mark.parametrize(
    ("tls", "sasl", "protocol"),
    [
        ("", "", "PLAINTEXT"),
        ("kafka-tls", "", "SSL"),
        ("", "kafka-sasl", "SASL_PLAINTEXT"),
        ("kafka-tls", "kafka-sasl", "SASL_SSL"),
    ],
)
def test_the_runner_uses_the_sources_cluster_and_protocol_by_default(
    tls: str, sasl: str, protocol: str
) -> None:
    settings = KnativeSettings(kafka_tls_secret=tls, kafka_sasl_secret=sasl)
    kafka = runner_settings_for(settings).kafka
    assert kafka.security_protocol == protocol
    assert kafka.bootstrap_servers == settings.kafka_bootstrap_servers


def test_the_operators_own_runner_kafka_settings_are_kept() -> None:
    own = KafkaSettings(
        bootstrap_servers=("other:9094",),
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username_env="MY_USER",
    )
    settings = KnativeSettings(
        kafka_sasl_secret="kafka-sasl", runner=RunnerSettings(kafka=own, max_concurrency=7)
    )
    derived = runner_settings_for(settings)
    assert derived.kafka == msgspec.structs.replace(
        own, sasl_password_env=("PIPELINE_EVENTS_KAFKA_SASL_PASSWORD")
    )
    assert derived.max_concurrency == 7
    plain = KnativeSettings(runner=RunnerSettings(kafka=own))
    assert runner_settings_for(plain) is plain.runner


def test_the_operators_variable_names_are_the_ones_set(make_version: MakeVersion) -> None:
    own = KafkaSettings(sasl_username_env="MY_USER", sasl_password_env="MY_PASSWORD")
    settings = KnativeSettings(kafka_sasl_secret="kafka-sasl", runner=RunnerSettings(kafka=own))
    names = [e["name"] for e in container_of(service_for(make_version(), settings))["env"]]
    assert names == [
        "MY_PASSWORD",
        "MY_USER",
        "PIPELINE_EVENTS_PIPELINE",
        "PIPELINE_EVENTS_RUNNER_SETTINGS",
    ]


@pytest.mark.parametrize(
    ("kafka", "message"),
    [
        (KafkaSettings(sasl_username_env="SAME", sasl_password_env="SAME"), "set twice"),
        (KafkaSettings(sasl_username_env="PIPELINE_EVENTS_PIPELINE"), "set twice"),
        (KafkaSettings(sasl_password_env="K_SERVICE"), "reserved by Knative"),
    ],
)
def test_colliding_variable_names_are_refused(
    make_version: MakeVersion, kafka: KafkaSettings, message: str
) -> None:
    settings = KnativeSettings(kafka_sasl_secret="kafka-sasl", runner=RunnerSettings(kafka=kafka))
    with pytest.raises(SettingsConflict, match=message):
        service_for(make_version(), settings)


def test_the_env_carries_the_version_it_was_built_from(
    make_version: MakeVersion, settings: KnativeSettings
) -> None:
    version = make_version({"event": "t", "scaling": {"max_scale": 3}}, version=4)
    assert decode_runner_env(plain_env(service_for(version, settings))).pipeline == version
