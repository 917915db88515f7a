"""Writing only differences: the merge patch from a live object to the desired one.

Table-driven: a live object (the desired one, then what the server and Knative add, then a
change) → the expected patch. Every patch, applied with RFC 7386 semantics, must leave nothing
more to write.
"""

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from events_api.triggers.knative.manifests import (
    ServiceOwner,
    build_kafka_sink,
    build_kafka_source,
    build_service,
    desired_differs,
    is_managed_key,
    patch_for,
)
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import PipelineVersion, TenantId

Manifest = dict[str, Any]
Change = Callable[[Manifest], None]
MakeVersion = Callable[..., PipelineVersion]
TENANT = TenantId("tenant-a")
STARTED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
OWNER = ServiceOwner(name="pipeline-k3v9x0q2m1ab", uid="uid-1")
SECURE = KnativeSettings(
    namespace="pipelines",
    kafka_tls_secret="kafka-tls",
    kafka_sasl_secret="kafka-sasl",
    kafka_sink_auth_secret="kafka-sink-auth",
)
PLAIN = KnativeSettings(namespace="pipelines")
DEAD_LETTER_TOPIC = {"event": "orders", "delivery": {"dead_letter": {"topic": "orders.dlq"}}}
DEAD_LETTER_URI = {"event": "orders", "delivery": {"dead_letter": {"uri": "http://dlq.example"}}}


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386, as the API server applies `application/merge-patch+json`."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def served(desired: Manifest) -> Manifest:
    """`desired` as the API server returns it: server-set metadata and a status added."""
    live = copy.deepcopy(desired)
    live["metadata"].update(
        uid="0b7e-live",
        resourceVersion="4711",
        generation=3,
        creationTimestamp="2026-03-04T05:06:08Z",
        managedFields=[{"manager": "events-api", "operation": "Update"}],
    )
    live["metadata"]["annotations"]["serving.knative.dev/creator"] = "system:serviceaccount:x"
    live["metadata"]["labels"]["team"] = "added-by-hand"
    live["status"] = {"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "True"}]}
    return live


def knative_defaults(live: Manifest) -> None:
    """What Knative's webhooks add (as `knative-validate` shows for v0.50)."""
    if live["kind"] == "Service":
        spec = live["spec"]
        spec["traffic"] = [{"latestRevision": True, "percent": 100}]
        pod = spec["template"]["spec"]
        pod["enableServiceLinks"] = False
        container = pod["containers"][0]
        container["name"] = "user-container"
        container["readinessProbe"]["httpGet"]["port"] = 0
        container["readinessProbe"]["successThreshold"] = 1
        container["resources"]["requests"]["cpu"] = "100m"
    elif live["kind"] == "KafkaSource":
        spec = live["spec"]
        spec.setdefault("net", {"sasl": {"user": {}, "password": {}}, "tls": {"cert": {}}})
        spec["net"].setdefault("sasl", {}).update(roleARN={}, tokenProvider={})


def service(
    options: dict[str, Any] | None, settings: KnativeSettings, make: MakeVersion
) -> Manifest:
    return build_service(make(options), tenant=TENANT, settings=settings, started_at=STARTED_AT)


def source(
    options: dict[str, Any] | None, settings: KnativeSettings, make: MakeVersion
) -> Manifest:
    return build_kafka_source(make(options), tenant=TENANT, settings=settings, owner=OWNER)


def sink(options: dict[str, Any] | None, settings: KnativeSettings, make: MakeVersion) -> Manifest:
    built = build_kafka_sink(make(options), tenant=TENANT, settings=settings, owner=OWNER)
    assert built is not None
    return built


Builder = Callable[[dict[str, Any] | None, KnativeSettings, MakeVersion], Manifest]

# (id, builder, live options, live settings, change to live, desired options, desired settings,
#  expected patch)
CASES: list[
    tuple[str, Builder, Any, KnativeSettings, Change | None, Any, KnativeSettings, Manifest | None]
] = [
    ("service unchanged", service, None, SECURE, None, None, SECURE, None),
    ("source unchanged", source, DEAD_LETTER_TOPIC, SECURE, None, DEAD_LETTER_TOPIC, SECURE, None),
    ("sink unchanged", sink, DEAD_LETTER_TOPIC, SECURE, None, DEAD_LETTER_TOPIC, SECURE, None),
    ("plain source unchanged", source, None, PLAIN, None, None, PLAIN, None),
    (
        "a quantity respelled by Knative",
        service,
        {"event": "orders", "resources": {"cpu": "0.5", "memory": "1024Mi"}},
        PLAIN,
        lambda live: live["spec"]["template"]["spec"]["containers"][0]["resources"].update(
            requests={"cpu": "500m", "memory": "1Gi"}
        ),
        {"event": "orders", "resources": {"cpu": "0.5", "memory": "1024Mi"}},
        PLAIN,
        None,
    ),
    (
        "a new start",
        service,
        None,
        PLAIN,
        lambda live: live["spec"]["template"]["metadata"]["annotations"].update(
            {"pipeline-events.dev/started-at": "2026-01-01T00:00:00+00:00"}
        ),
        None,
        PLAIN,
        {
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {
                            "pipeline-events.dev/started-at": "2026-03-04T05:06:07+00:00"
                        }
                    }
                }
            }
        },
    ),
    (
        "a scaling annotation no longer wanted",
        service,
        None,
        PLAIN,
        lambda live: live["spec"]["template"]["metadata"]["annotations"].update(
            {"autoscaling.knative.dev/target": "5", "example.com/foreign": "kept"}
        ),
        None,
        PLAIN,
        {
            "spec": {
                "template": {"metadata": {"annotations": {"autoscaling.knative.dev/target": None}}}
            }
        },
    ),
    (
        "a managed label somebody removed",
        source,
        None,
        PLAIN,
        lambda live: live["metadata"]["labels"].pop("kafkasources.sources.knative.dev/key-type"),
        None,
        PLAIN,
        {"metadata": {"labels": {"kafkasources.sources.knative.dev/key-type": "string"}}},
    ),
    (
        "another version",
        source,
        None,
        PLAIN,
        lambda live: live["metadata"]["labels"].update({"pipeline-events.dev/version": "1"}),
        None,
        PLAIN,
        None,
    ),
    (
        "retries changed",
        source,
        {"event": "orders", "delivery": {"retry": 3}},
        PLAIN,
        None,
        None,
        PLAIN,
        {"spec": {"delivery": {"retry": 10}}},
    ),
    (
        "the dead-letter sink removed",
        source,
        DEAD_LETTER_TOPIC,
        PLAIN,
        None,
        None,
        PLAIN,
        {"spec": {"delivery": {"deadLetterSink": None}}},
    ),
    (
        "the dead-letter topic replaced by a uri",
        source,
        DEAD_LETTER_TOPIC,
        PLAIN,
        None,
        DEAD_LETTER_URI,
        PLAIN,
        {"spec": {"delivery": {"deadLetterSink": {"uri": "http://dlq.example", "ref": None}}}},
    ),
    (
        "credentials no longer configured",
        source,
        None,
        SECURE,
        None,
        None,
        PLAIN,
        {"spec": {"net": None}},
    ),
    (
        "the sink's auth removed",
        sink,
        DEAD_LETTER_TOPIC,
        SECURE,
        None,
        DEAD_LETTER_TOPIC,
        PLAIN,
        {"spec": {"auth": None}},
    ),
    (
        "the owner re-created",
        source,
        None,
        PLAIN,
        lambda live: live["metadata"]["ownerReferences"][0].update(uid="old-uid"),
        None,
        PLAIN,
        {
            "metadata": {
                "ownerReferences": [
                    {
                        "apiVersion": "serving.knative.dev/v1",
                        "kind": "Service",
                        "name": "pipeline-k3v9x0q2m1ab",
                        "uid": "uid-1",
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ]
            }
        },
    ),
    (
        "the consumer group changed by hand",
        source,
        None,
        PLAIN,
        lambda live: live["spec"].update(consumerGroup="other"),
        None,
        PLAIN,
        {"spec": {"consumerGroup": "pipeline-events.pipelines.pipeline-k3v9x0q2m1ab"}},
    ),
]


Case = tuple[
    str, Builder, Any, KnativeSettings, Change | None, Any, KnativeSettings, Manifest | None
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_patch_for(make_version: MakeVersion, case: Case) -> None:
    _, builder, live_options, live_settings, change, options, settings, expected = case
    live = served(builder(live_options, live_settings, make_version))
    knative_defaults(live)
    if change is not None:
        change(live)
    desired = builder(options, settings, make_version)
    patch = patch_for(live, desired)
    assert patch == expected
    assert desired_differs(live, desired) == (expected is not None)
    if patch is not None:
        patched = apply_merge_patch(live, patch)
        assert patch_for(patched, desired) is None
        # Server-set fields and others' labels survive a merge patch.
        assert patched["metadata"]["uid"] == "0b7e-live"
        assert patched["metadata"]["labels"]["team"] == "added-by-hand"


def test_the_version_label_is_patched(make_version: MakeVersion) -> None:
    live = served(source(None, PLAIN, make_version))
    desired = build_kafka_source(
        make_version(version=2), tenant=TENANT, settings=PLAIN, owner=OWNER
    )
    assert patch_for(live, desired) == {
        "metadata": {"labels": {"pipeline-events.dev/version": "2"}}
    }


def test_a_changed_container_replaces_the_container_list(make_version: MakeVersion) -> None:
    live = served(service(None, SECURE, make_version))
    knative_defaults(live)
    desired = service(None, PLAIN, make_version)
    patch = patch_for(live, desired)
    assert patch is not None
    pod = patch["spec"]["template"]["spec"]
    assert pod["volumes"] is None
    (container,) = pod["containers"]
    assert "volumeMounts" not in container
    assert [e["name"] for e in container["env"]] == [
        "PIPELINE_EVENTS_PIPELINE",
        "PIPELINE_EVENTS_RUNNER_SETTINGS",
    ]
    assert patch_for(apply_merge_patch(live, patch), desired) is None


def test_a_missing_spec_is_written_whole(make_version: MakeVersion) -> None:
    desired = source(None, PLAIN, make_version)
    live = {"apiVersion": desired["apiVersion"], "kind": desired["kind"], "metadata": {}}
    patch = patch_for(live, desired)
    assert patch is not None
    assert patch["spec"] == desired["spec"]
    assert patch["metadata"]["labels"] == desired["metadata"]["labels"]


@pytest.mark.parametrize(
    ("key", "managed"),
    [
        ("pipeline-events.dev/tenant", True),
        ("autoscaling.knative.dev/min-scale", True),
        ("app.kubernetes.io/managed-by", True),
        ("networking.knative.dev/visibility", True),
        ("kafkasources.sources.knative.dev/key-type", True),
        ("serving.knative.dev/creator", False),
        ("app.kubernetes.io/name", False),
        ("team", False),
    ],
)
def test_managed_keys(key: str, managed: bool) -> None:
    assert is_managed_key(key) == managed
