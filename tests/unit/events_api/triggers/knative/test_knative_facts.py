"""Every KNATIVE.md fact the builders must honour, checked on their output for many pipelines.

One table of facts (a check each) crossed with one table of pipelines (options and settings), so
a fact is proven for defaults and for every option that touches it. Facts that compare two
builds (a new start, a new version) follow the table.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events_api.triggers.knative import labels
from events_api.triggers.knative.durations import parse_iso8601_duration
from events_api.triggers.knative.manifests import (
    ServiceOwner,
    build_kafka_sink,
    build_kafka_source,
    build_service,
)
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import (
    PipelineVersion,
    TenantId,
    consumer_group,
    decode_runner_env,
    delivery_timeout_seconds,
    label_value,
)

STARTED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
TENANT = TenantId("https://idp.example.com/users/Alice Smith")
UID = "6f1c2f7e-5a52-4c1e-9a34-0c9a3a0f1d2b"
RESERVED_ENV = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}
RESERVED_PORTS = {8012, 8013, 8022, 9090, 9091, 8008}
DNS_1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
Manifest = dict[str, Any]


@dataclass(frozen=True)
class Built:
    """One pipeline's three objects, as the builders made them."""

    version: PipelineVersion
    settings: KnativeSettings
    service: Manifest
    source: Manifest
    sink: Manifest | None

    @property
    def objects(self) -> list[Manifest]:
        return [self.service, self.source] + ([self.sink] if self.sink else [])

    @property
    def container(self) -> Manifest:
        (container,) = self.service["spec"]["template"]["spec"]["containers"]
        result: Manifest = container
        return result

    @property
    def delivery(self) -> Manifest:
        result: Manifest = self.source["spec"]["delivery"]
        return result


def build(version: PipelineVersion, settings: KnativeSettings) -> Built:
    service = build_service(version, tenant=TENANT, settings=settings, started_at=STARTED_AT)
    owner = ServiceOwner(name=service["metadata"]["name"], uid=UID)
    return Built(
        version=version,
        settings=settings,
        service=service,
        source=build_kafka_source(version, tenant=TENANT, settings=settings, owner=owner),
        sink=build_kafka_sink(version, tenant=TENANT, settings=settings, owner=owner),
    )


# --- The facts ------------------------------------------------------------------------------------


def autoscaling_annotations_only_on_the_template(built: Built) -> None:
    for obj in built.objects:
        assert not any(
            key.startswith("autoscaling.knative.dev/")
            for key in obj["metadata"].get("annotations", {})
        )
    template = built.service["spec"]["template"]["metadata"]["annotations"]
    assert template["autoscaling.knative.dev/class"] == "kpa.autoscaling.knative.dev"
    min_scale = int(template["autoscaling.knative.dev/min-scale"])
    max_scale = int(template["autoscaling.knative.dev/max-scale"])
    # 0 would be "unlimited": never written, the settings' cap replaces it.
    assert 0 <= min_scale <= max_scale <= built.settings.max_scale_limit
    assert max_scale >= 1


def delivery_always_has_an_explicit_retry(built: Built) -> None:
    delivery = built.delivery
    assert isinstance(delivery["retry"], int)
    assert delivery["retry"] == built.version.spec.options.delivery.retry
    assert delivery["backoffPolicy"] in ("linear", "exponential")


def durations_are_iso_8601_to_the_tenth(built: Built) -> None:
    for field in ("backoffDelay", "timeout"):
        text = built.delivery[field]
        seconds = parse_iso8601_duration(text)
        assert seconds > 0
        assert re.fullmatch(r"PT(\d+H)?(\d+M)?(\d+(\.\d)?S)?", text), text


def the_service_is_cluster_local(built: Built) -> None:
    assert built.service["metadata"]["labels"][labels.VISIBILITY_LABEL] == "cluster-local"


def delivery_timeout_fits_the_revision_timeout_and_the_deadline_is_below_it(built: Built) -> None:
    timeout_seconds = built.service["spec"]["template"]["spec"]["timeoutSeconds"]
    assert timeout_seconds == built.version.spec.options.timeouts.request_timeout_seconds
    assert 1 <= timeout_seconds <= 600
    delivery_timeout = parse_iso8601_duration(built.delivery["timeout"])
    # Knative keeps tenths of a second.
    wanted = delivery_timeout_seconds(built.version.spec.options)
    assert delivery_timeout == pytest.approx(wanted, abs=0.05)
    assert delivery_timeout <= timeout_seconds
    env = {e["name"]: e["value"] for e in built.container["env"] if "value" in e}
    config = decode_runner_env(env)
    assert config.deadline_seconds < timeout_seconds
    assert config.pipeline == built.version


def source_and_sink_are_owned_by_the_service(built: Built) -> None:
    owned = [built.source] + ([built.sink] if built.sink else [])
    for obj in owned:
        assert obj["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "name": built.service["metadata"]["name"],
                "uid": UID,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    assert "ownerReferences" not in built.service["metadata"]


def the_consumer_group_depends_on_namespace_and_pipeline_only(built: Built) -> None:
    group = built.source["spec"]["consumerGroup"]
    assert group == consumer_group(built.settings.namespace, built.version.pipeline_id)
    assert str(built.version.version) not in group.removeprefix(
        f"pipeline-events.{built.settings.namespace}."
    ).removeprefix(built.version.pipeline_id)


def the_key_type_is_a_label(built: Built) -> None:
    key_type = built.version.spec.options.delivery.key_type
    assert built.source["metadata"]["labels"][labels.KEY_TYPE_LABEL] == key_type
    assert "keyType" not in built.source["spec"]


def ordering_and_initial_offset_are_spec_fields(built: Built) -> None:
    delivery = built.version.spec.options.delivery
    assert built.source["spec"]["ordering"] == delivery.ordering
    assert built.source["spec"]["initialOffset"] == delivery.initial_offset
    assert built.source["spec"]["consumers"] == 1
    assert not any("delivery.order" in key for key in built.source["metadata"]["annotations"])


def tenant_label_is_sanitized_and_the_annotation_raw(built: Built) -> None:
    for obj in built.objects:
        metadata = obj["metadata"]
        assert metadata["labels"][labels.TENANT_LABEL] == label_value(TENANT)
        assert metadata["labels"][labels.TENANT_LABEL] != TENANT
        assert metadata["annotations"][labels.TENANT_ANNOTATION] == TENANT
        assert metadata["annotations"][labels.PIPELINE_ANNOTATION] == built.version.pipeline_id
        assert metadata["labels"][labels.MANAGED_BY] == labels.MANAGED_BY_VALUE
        assert metadata["labels"][labels.VERSION_LABEL] == str(built.version.version)
        assert metadata["namespace"] == built.settings.namespace


def names_are_short_dns_labels(built: Built) -> None:
    for obj in built.objects:
        name = obj["metadata"]["name"]
        assert DNS_1035.fullmatch(name), name
        # Leaves room for Knative's `-00001-deployment-<hash>` style suffixes.
        assert len(name) <= 44
    assert built.source["metadata"]["name"] == built.service["metadata"]["name"]


def the_container_uses_no_reserved_port_or_variable(built: Built) -> None:
    container = built.container
    assert container["ports"] == [{"name": "http1", "containerPort": 8080}]
    assert not RESERVED_PORTS & {port["containerPort"] for port in container["ports"]}
    names = [entry["name"] for entry in container["env"]]
    assert not RESERVED_ENV & set(names)
    assert names == sorted(set(names))


def the_source_sinks_into_the_service(built: Built) -> None:
    assert built.source["spec"]["sink"] == {
        "ref": {
            "apiVersion": "serving.knative.dev/v1",
            "kind": "Service",
            "name": built.service["metadata"]["name"],
            "namespace": built.settings.namespace,
        }
    }
    assert built.source["spec"]["topics"] == [built.version.spec.options.event]


def the_dead_letter_sink_follows_the_options(built: Built) -> None:
    dead_letter = built.version.spec.options.delivery.dead_letter
    if dead_letter is None:
        assert "deadLetterSink" not in built.delivery
        assert built.sink is None
    elif dead_letter.uri is not None:
        assert built.delivery["deadLetterSink"] == {"uri": dead_letter.uri}
        assert built.sink is None
    else:
        assert built.sink is not None
        assert built.sink["spec"]["topic"] == dead_letter.topic
        assert built.sink["spec"]["contentMode"] == "binary"
        assert built.delivery["deadLetterSink"] == {
            "ref": {
                "apiVersion": "eventing.knative.dev/v1alpha1",
                "kind": "KafkaSink",
                "name": built.sink["metadata"]["name"],
                "namespace": built.settings.namespace,
            }
        }


def kafka_credentials_are_secret_references_only(built: Built) -> None:
    settings = built.settings
    secrets = {settings.kafka_tls_secret, settings.kafka_sasl_secret} - {""}
    net = built.source["spec"].get("net", {})
    assert ("tls" in net) == bool(settings.kafka_tls_secret)
    assert ("sasl" in net) == bool(settings.kafka_sasl_secret)
    for part in net.values():
        assert part["enable"] is True
        refs = [value["secretKeyRef"] for key, value in part.items() if key != "enable"]
        assert {ref["name"] for ref in refs} <= secrets
    from_secrets = [e for e in built.container["env"] if "valueFrom" in e]
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in from_secrets} <= secrets


def the_runner_settings_name_variables_the_container_has(built: Built) -> None:
    env = {e["name"]: e for e in built.container["env"]}
    plain = {name: e["value"] for name, e in env.items() if "value" in e}
    kafka = decode_runner_env(plain).settings.kafka
    assert kafka.bootstrap_servers == built.settings.kafka_bootstrap_servers
    named = [
        kafka.sasl_username_env,
        kafka.sasl_password_env,
        kafka.ssl_ca_file_env,
        kafka.ssl_cert_file_env,
        kafka.ssl_key_file_env,
    ]
    assert all(name in env for name in named if name is not None)
    assert (kafka.sasl_username_env is not None) == bool(built.settings.kafka_sasl_secret)
    assert (kafka.ssl_ca_file_env is not None) == bool(built.settings.kafka_tls_secret)
    mounts = built.container.get("volumeMounts", [])
    for name in (kafka.ssl_ca_file_env, kafka.ssl_cert_file_env, kafka.ssl_key_file_env):
        if name is not None:
            assert any(env[name]["value"].startswith(m["mountPath"] + "/") for m in mounts)


def the_container_is_locked_down(built: Built) -> None:
    assert built.container["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
        "readOnlyRootFilesystem": True,
    }
    assert built.container["image"] == built.settings.runner_image
    spec = built.service["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == built.settings.runner_service_account
    assert spec["containerConcurrency"] == built.version.spec.options.scaling.container_concurrency
    assert built.container["readinessProbe"]["httpGet"]["path"] in ("/readyz", "/healthz")
    assert all(m["readOnly"] is True for m in built.container.get("volumeMounts", []))


FACTS: list[Callable[[Built], None]] = [
    autoscaling_annotations_only_on_the_template,
    delivery_always_has_an_explicit_retry,
    durations_are_iso_8601_to_the_tenth,
    the_service_is_cluster_local,
    delivery_timeout_fits_the_revision_timeout_and_the_deadline_is_below_it,
    source_and_sink_are_owned_by_the_service,
    the_consumer_group_depends_on_namespace_and_pipeline_only,
    the_key_type_is_a_label,
    ordering_and_initial_offset_are_spec_fields,
    tenant_label_is_sanitized_and_the_annotation_raw,
    names_are_short_dns_labels,
    the_container_uses_no_reserved_port_or_variable,
    the_source_sinks_into_the_service,
    the_dead_letter_sink_follows_the_options,
    kafka_credentials_are_secret_references_only,
    the_runner_settings_name_variables_the_container_has,
    the_container_is_locked_down,
]

# --- The pipelines --------------------------------------------------------------------------------

PIPELINES: dict[str, tuple[dict[str, Any], bool]] = {
    # name: (options, with TLS/SASL settings)
    "defaults": ({"event": "orders"}, False),
    "defaults, secured Kafka": ({"event": "orders"}, True),
    "no retries": ({"event": "orders", "delivery": {"retry": 0}}, False),
    "linear, slow backoff": (
        {"event": "orders", "delivery": {"backoff_policy": "linear", "backoff_delay_seconds": 90}},
        False,
    ),
    "short request timeout": (
        {"event": "orders", "timeouts": {"request_timeout_seconds": 1}},
        False,
    ),
    "longest request timeout, explicit delivery timeout": (
        {
            "event": "orders",
            "timeouts": {"request_timeout_seconds": 600},
            "delivery": {"timeout_seconds": 599.97},
        },
        False,
    ),
    "unlimited scale": ({"event": "orders", "scaling": {"max_scale": 0, "min_scale": 3}}, False),
    "scale above the cap": (
        {"event": "orders", "scaling": {"max_scale": 1000, "min_scale": 900}},
        False,
    ),
    "target concurrency, unlimited concurrency": (
        {"event": "orders", "scaling": {"target_concurrency": 50, "container_concurrency": 0}},
        False,
    ),
    "int keys, unordered, earliest": (
        {
            "event": "orders",
            "delivery": {"key_type": "int", "ordering": "unordered", "initial_offset": "earliest"},
        },
        False,
    ),
    "byte-array keys": ({"event": "orders", "delivery": {"key_type": "byte-array"}}, False),
    "dead-letter topic": (
        {"event": "orders", "delivery": {"dead_letter": {"topic": "orders.dlq"}}},
        False,
    ),
    "dead-letter topic, secured Kafka": (
        {"event": "orders", "delivery": {"dead_letter": {"topic": "orders.dlq"}}},
        True,
    ),
    "dead-letter uri": (
        {"event": "orders", "delivery": {"dead_letter": {"uri": "https://dlq.example.com/in"}}},
        False,
    ),
    "resources asked": ({"event": "orders", "resources": {"cpu": "2", "memory": "1Gi"}}, False),
}


@pytest.mark.parametrize("pipeline", list(PIPELINES))
@pytest.mark.parametrize("fact", FACTS, ids=lambda fact: fact.__name__)
def test_fact_holds(
    fact: Callable[[Built], None],
    pipeline: str,
    make_version: Callable[..., PipelineVersion],
    settings: KnativeSettings,
    secure_settings: KnativeSettings,
) -> None:
    options, secured = PIPELINES[pipeline]
    fact(build(make_version(options), secure_settings if secured else settings))


# --- Facts about two builds -----------------------------------------------------------------------


def test_a_new_start_changes_the_template_and_nothing_else(
    make_version: Callable[..., PipelineVersion], settings: KnativeSettings
) -> None:
    """A new `started_at` makes a new revision; the source's spec (immutable group) stays."""
    version = make_version()
    first = build(version, settings)
    later = build_service(
        version, tenant=TENANT, settings=settings, started_at=STARTED_AT + timedelta(seconds=1)
    )
    assert later["spec"]["template"] != first.service["spec"]["template"]
    assert later["spec"]["template"]["spec"] == first.service["spec"]["template"]["spec"]
    assert later["metadata"] == first.service["metadata"]
    owner = ServiceOwner(name=later["metadata"]["name"], uid=UID)
    again = build_kafka_source(version, tenant=TENANT, settings=settings, owner=owner)
    assert again == first.source


def test_the_same_start_builds_the_same_objects(
    make_version: Callable[..., PipelineVersion], secure_settings: KnativeSettings
) -> None:
    options = {"event": "orders", "delivery": {"dead_letter": {"topic": "orders.dlq"}}}
    assert build(make_version(options), secure_settings) == build(
        make_version(options), secure_settings
    )


def test_another_version_keeps_the_names_and_the_consumer_group(
    make_version: Callable[..., PipelineVersion], settings: KnativeSettings
) -> None:
    first = build(make_version({"event": "orders"}, version=1), settings)
    second = build(
        make_version({"event": "orders-v2", "delivery": {"retry": 3}}, version=2), settings
    )
    assert second.source["spec"]["consumerGroup"] == first.source["spec"]["consumerGroup"]
    assert second.source["metadata"]["name"] == first.source["metadata"]["name"]
    assert second.service["metadata"]["name"] == first.service["metadata"]["name"]
    assert second.service["metadata"]["labels"][labels.VERSION_LABEL] == "2"
    assert second.source["spec"]["topics"] == ["orders-v2"]


def test_pipelines_in_other_namespaces_use_other_consumer_groups(
    make_version: Callable[..., PipelineVersion], settings: KnativeSettings
) -> None:
    other = KnativeSettings(namespace="elsewhere")
    version = make_version()
    assert (
        build(version, settings).source["spec"]["consumerGroup"]
        != build(version, other).source["spec"]["consumerGroup"]
    )
