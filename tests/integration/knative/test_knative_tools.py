"""Knative's CRDs and admission rules as the real tools produce them (knative.dev v0.50).

These tests pin down what Knative itself says about the manifests we build, so the facts in
KNATIVE.md are checked against the code we pin instead of taken on trust.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from events_api.devstack.knative import Verdict, knative_crds, validate_manifests, validate_updates

pytestmark = pytest.mark.usefixtures("knative_tools")

Manifest = dict[str, Any]
NAMESPACE = "pipelines"


def a_service() -> Manifest:
    """A Knative Service as pipeline-events builds one: cluster-local, autoscaled, bounded."""
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {
            "name": "pipeline-orders",
            "namespace": NAMESPACE,
            "labels": {"networking.knative.dev/visibility": "cluster-local"},
        },
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {
                        "autoscaling.knative.dev/min-scale": "0",
                        "autoscaling.knative.dev/max-scale": "5",
                        "autoscaling.knative.dev/target": "10",
                    }
                },
                "spec": {
                    "containerConcurrency": 10,
                    "timeoutSeconds": 300,
                    "containers": [
                        {
                            "image": "registry.example.com/pipeline-runner:1.0",
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "PIPELINE_ID", "value": "orders"}],
                        }
                    ],
                },
            }
        },
    }


def a_kafka_source(version: str = "v1") -> Manifest:
    """A KafkaSource feeding the Service above, with an explicit retry policy."""
    return {
        "apiVersion": f"sources.knative.dev/{version}",
        "kind": "KafkaSource",
        "metadata": {"name": "pipeline-orders", "namespace": NAMESPACE},
        "spec": {
            "bootstrapServers": ["kafka.kafka:9092"],
            "topics": ["orders"],
            "consumerGroup": "pipeline-orders",
            "sink": {
                "ref": {
                    "apiVersion": "serving.knative.dev/v1",
                    "kind": "Service",
                    "name": "pipeline-orders",
                }
            },
            "delivery": {"retry": 5, "backoffPolicy": "exponential", "backoffDelay": "PT0.3S"},
        },
    }


def a_kafka_sink() -> Manifest:
    """A KafkaSink used as a dead-letter sink."""
    return {
        "apiVersion": "eventing.knative.dev/v1alpha1",
        "kind": "KafkaSink",
        "metadata": {"name": "pipeline-orders-dlq", "namespace": NAMESPACE},
        "spec": {"topic": "orders-dlq", "bootstrapServers": ["kafka.kafka:9092"]},
    }


def verdict_of(manifest: Manifest) -> Verdict:
    (verdict,) = validate_manifests([manifest])
    return verdict


def defaulted_spec(verdict: Verdict) -> dict[str, Any]:
    assert verdict.defaulted is not None
    spec: dict[str, Any] = verdict.defaulted["spec"]
    return spec


# --- The CRDs -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crds() -> dict[str, dict[str, Any]]:
    return {crd["metadata"]["name"]: crd for crd in knative_crds()}


def version_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    (found,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema: dict[str, Any] = found["schema"]["openAPIV3Schema"]
    return schema


def node(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema node at a dotted path; `[]` steps into array items."""
    current = schema
    for part in path.split("."):
        current = current["items"] if part == "[]" else current["properties"][part]
    return current


def preserving_paths(schema: dict[str, Any], path: str = "") -> Iterator[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        yield path
    for name, child in schema.get("properties", {}).items():
        yield from preserving_paths(child, f"{path}.{name}")
    if "items" in schema:
        yield from preserving_paths(schema["items"], f"{path}[]")


def test_the_three_crds_are_namespaced_with_a_status_subresource(
    crds: dict[str, dict[str, Any]],
) -> None:
    assert set(crds) == {
        "services.serving.knative.dev",
        "kafkasources.sources.knative.dev",
        "kafkasinks.eventing.knative.dev",
    }
    for crd in crds.values():
        assert crd["spec"]["scope"] == "Namespaced"
        # No conversion webhook runs in the test cluster.
        assert crd["spec"]["conversion"] == {"strategy": "None"}
        versions = crd["spec"]["versions"]
        assert all(v["served"] and v["subresources"]["status"] == {} for v in versions)
        assert sum(v["storage"] for v in versions) == 1


def test_versions_and_names_match_knatives(crds: dict[str, dict[str, Any]]) -> None:
    service = crds["services.serving.knative.dev"]["spec"]
    source = crds["kafkasources.sources.knative.dev"]["spec"]
    sink = crds["kafkasinks.eventing.knative.dev"]["spec"]
    assert [(v["name"], v["storage"]) for v in service["versions"]] == [("v1", True)]
    assert service["names"]["shortNames"] == ["kservice", "ksvc"]
    # v1beta1 is still the storage version; v1 is served beside it.
    assert [(v["name"], v["storage"]) for v in source["versions"]] == [
        ("v1beta1", True),
        ("v1", False),
    ]
    assert [(v["name"], v["storage"]) for v in sink["versions"]] == [("v1alpha1", True)]
    scale = source["versions"][0]["subresources"]["scale"]
    assert scale["specReplicasPath"] == ".spec.consumers"


def test_service_schema_describes_the_revision_template(crds: dict[str, dict[str, Any]]) -> None:
    schema = version_schema(crds["services.serving.knative.dev"], "v1")
    pod = node(schema, "spec.template.spec")
    assert pod["properties"]["containerConcurrency"] == {"type": "integer", "format": "int64"}
    assert pod["properties"]["timeoutSeconds"]["type"] == "integer"
    container = node(schema, "spec.template.spec.containers.[]")
    assert {"image", "ports", "env", "resources", "readinessProbe"} <= set(container["properties"])
    assert node(schema, "spec.template.spec.containers.[].resources.limits")[
        "additionalProperties"
    ]["x-kubernetes-int-or-string"]
    assert {"url", "latestReadyRevisionName", "conditions", "observedGeneration"} <= set(
        node(schema, "status")["properties"]
    )
    assert node(schema, "spec.traffic.[].percent")["type"] == "integer"


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_kafka_source_schema_has_the_fields_of_v0_50(
    crds: dict[str, dict[str, Any]], version: str
) -> None:
    schema = version_schema(crds["kafkasources.sources.knative.dev"], version)
    spec = node(schema, "spec")
    assert {
        "bootstrapServers",
        "topics",
        "consumerGroup",
        "initialOffset",
        "consumers",
        "ordering",
        "delivery",
        "net",
        "sink",
        "ceOverrides",
    } <= set(spec["properties"])
    assert sorted(spec["required"]) == ["bootstrapServers", "topics"]
    assert node(schema, "spec.topics")["items"] == {"type": "string"}
    assert {"retry", "backoffPolicy", "backoffDelay", "timeout", "deadLetterSink"} <= set(
        node(schema, "spec.delivery")["properties"]
    )
    assert node(schema, "spec.sink.ref")["required"] == ["kind", "name"]
    sasl = set(node(schema, "spec.net.sasl")["properties"])
    # v1's only difference: the two OAUTHBEARER (MSK IAM) fields.
    assert ({"roleARN", "tokenProvider"} <= sasl) == (version == "v1")


def test_kafka_sink_schema(crds: dict[str, dict[str, Any]]) -> None:
    spec = node(version_schema(crds["kafkasinks.eventing.knative.dev"], "v1alpha1"), "spec")
    assert {
        "topic",
        "bootstrapServers",
        "contentMode",
        "numPartitions",
        "replicationFactor",
        "auth",
    } <= set(spec["properties"])
    assert sorted(spec["required"]) == ["bootstrapServers", "topic"]


def test_unknown_fields_are_preserved_only_where_knative_preserves_them(
    crds: dict[str, dict[str, Any]],
) -> None:
    for crd in crds.values():
        for version in crd["spec"]["versions"]:
            paths = list(preserving_paths(version["schema"]["openAPIV3Schema"]))
            if crd["spec"]["names"]["kind"] == "Service":
                # Serving leaves the revision template's metadata (and a PVC template's) open.
                assert paths == [
                    ".spec.template.metadata",
                    ".spec.template.spec.volumes[].ephemeral.volumeClaimTemplate.metadata",
                ]
            else:
                assert paths == []


def test_each_call_returns_its_own_copy() -> None:
    first = knative_crds()
    first[0]["spec"]["group"] = "changed.example.com"
    assert knative_crds()[0]["spec"]["group"] == "serving.knative.dev"


# --- Knative Service admission --------------------------------------------------------------------


def test_a_good_service_is_admitted_and_defaulted() -> None:
    verdict = verdict_of(a_service())
    assert (verdict.kind, verdict.name, verdict.valid, verdict.errors) == (
        "Service",
        "pipeline-orders",
        True,
        (),
    )
    spec = defaulted_spec(verdict)
    container = spec["template"]["spec"]["containers"][0]
    assert container["name"] == "user-container"
    assert spec["template"]["spec"]["timeoutSeconds"] == 300
    assert spec["traffic"] == [{"latestRevision": True, "percent": 100}]


def test_service_timeout_defaults_to_300_seconds() -> None:
    service = a_service()
    del service["spec"]["template"]["spec"]["timeoutSeconds"]
    assert defaulted_spec(verdict_of(service))["template"]["spec"]["timeoutSeconds"] == 300


def _annotate_service_itself(service: Manifest) -> None:
    service["metadata"]["annotations"] = {"autoscaling.knative.dev/min-scale": "1"}


def _long_timeout(service: Manifest) -> None:
    service["spec"]["template"]["spec"]["timeoutSeconds"] = 3600


def _reserved_env(service: Manifest) -> None:
    container = service["spec"]["template"]["spec"]["containers"][0]
    container["env"].append({"name": "K_SERVICE", "value": "mine"})


def _reserved_port(service: Manifest) -> None:
    service["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 8012}]


def _too_much_concurrency(service: Manifest) -> None:
    service["spec"]["template"]["spec"]["containerConcurrency"] = 1001


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_annotate_service_itself, "autoscaling annotations must be put under"),
        (_long_timeout, "expected 0 <= 3600 <= 600: spec.template.spec.timeoutSeconds"),
        (_reserved_env, '"K_SERVICE" is a reserved environment variable'),
        (_reserved_port, "8012 is a reserved port"),
        (_too_much_concurrency, "spec.template.spec.containerConcurrency"),
    ],
)
def test_a_spoiled_service_is_rejected(spoil: Callable[[Manifest], None], message: str) -> None:
    service = a_service()
    spoil(service)
    verdict = verdict_of(service)
    assert not verdict.valid
    assert len(verdict.errors) == 1
    assert message in verdict.errors[0]


# --- KafkaSource admission ------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_a_good_kafka_source_is_admitted_with_knatives_defaults(version: str) -> None:
    verdict = verdict_of(a_kafka_source(version))
    assert verdict.valid, verdict.errors
    assert verdict.warnings == ()
    spec = defaulted_spec(verdict)
    assert spec["consumers"] == 1
    assert spec["initialOffset"] == "latest"
    assert spec["ordering"] == "ordered"
    assert spec["consumerGroup"] == "pipeline-orders"
    assert spec["sink"]["ref"]["namespace"] == NAMESPACE
    # Admission leaves delivery as written: no retry, timeout or dead-letter defaults.
    assert spec["delivery"] == {
        "retry": 5,
        "backoffPolicy": "exponential",
        "backoffDelay": "PT0.3S",
    }


def test_a_kafka_source_without_delivery_gets_none_at_admission() -> None:
    source = a_kafka_source()
    del source["spec"]["delivery"]
    assert "delivery" not in defaulted_spec(verdict_of(source))


def test_a_missing_consumer_group_is_generated() -> None:
    source = a_kafka_source()
    del source["spec"]["consumerGroup"]
    group = defaulted_spec(verdict_of(source))["consumerGroup"]
    assert group.startswith("knative-kafka-source-")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("topics", None, "missing field(s): spec.topics"),
        ("bootstrapServers", None, "missing field(s): spec.bootstrapServers"),
        ("sink", None, "expected at least one, got none: spec.sink.ref, spec.sink.uri"),
        ("ordering", "random", "invalid value: random: spec.ordering"),
        ("initialOffset", "oldest", "invalid value: oldest: spec.initialOffset"),
    ],
)
def test_a_spoiled_kafka_source_is_rejected(field: str, value: str | None, message: str) -> None:
    source = a_kafka_source()
    if value is None:
        del source["spec"][field]
    else:
        source["spec"][field] = value
    verdict = verdict_of(source)
    assert not verdict.valid
    assert verdict.errors == (message,)


def test_delivery_is_not_validated_at_admission() -> None:
    """KNATIVE.md is right for v0.50: a KafkaSource's delivery is never validated on admission.

    Knative's KafkaSource.Validate checks the sink and ceOverrides, not delivery; a bad duration
    or policy only fails later, in the controller. Our own builders must check delivery.
    """
    source = a_kafka_source()
    source["spec"]["delivery"] = {"retry": -1, "backoffPolicy": "sideways", "backoffDelay": "soon"}
    verdict = verdict_of(source)
    assert verdict.valid
    assert verdict.errors == ()


def test_unknown_fields_are_a_warning_not_an_error() -> None:
    source = a_kafka_source()
    source["spec"]["topic"] = "orders"
    verdict = verdict_of(source)
    assert verdict.valid
    assert verdict.warnings == (
        'the object has fields Knative does not know: json: unknown field "topic"',
    )
    assert "topic" not in defaulted_spec(verdict)


def test_the_consumer_group_is_immutable() -> None:
    stored = a_kafka_source()
    renamed = a_kafka_source()
    renamed["spec"]["consumerGroup"] = "another-group"
    more_consumers = a_kafka_source()
    more_consumers["spec"]["consumers"] = 3
    refused, allowed = validate_updates([(stored, renamed), (stored, more_consumers)])
    assert not refused.valid
    assert refused.errors[0].startswith("Immutable fields changed (-old +new): spec")
    assert allowed.valid


# --- KafkaSink admission --------------------------------------------------------------------------


def test_a_good_kafka_sink_defaults_to_binary_content_mode() -> None:
    verdict = verdict_of(a_kafka_sink())
    assert verdict.valid
    assert defaulted_spec(verdict)["contentMode"] == "binary"


def test_a_spoiled_kafka_sink_is_rejected() -> None:
    sink = a_kafka_sink()
    sink["spec"].update(topic="", bootstrapServers=[], contentMode="avro", numPartitions=0)
    verdict = verdict_of(sink)
    assert not verdict.valid
    assert sorted(verdict.errors) == [
        "invalid value: 0: spec.numPartitions",
        "invalid value: : spec.topic",
        "invalid value: []: spec.bootstrapServers",
        "invalid value: avro: spec.contentMode",
    ]


# --- The batch interface --------------------------------------------------------------------------


def test_one_call_judges_a_batch_in_order() -> None:
    broken = a_kafka_source("v1beta1")
    del broken["spec"]["topics"]
    verdicts = validate_manifests([a_service(), broken, a_kafka_sink()])
    assert [(v.kind, v.valid) for v in verdicts] == [
        ("Service", True),
        ("KafkaSource", False),
        ("KafkaSink", True),
    ]
    assert validate_manifests([]) == []


def test_an_unsupported_kind_is_refused() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}
    with pytest.raises(ValueError, match='unsupported apiVersion "apps/v1" kind "Deployment"'):
        validate_manifests([a_service(), deployment])
