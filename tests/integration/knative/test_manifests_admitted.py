"""Every manifest the builders make is admitted by Knative's own validation and by a real apiserver.

Knative's webhooks are played by `knative-validate` (Knative v0.50's `SetDefaults` + `Validate`);
the apiserver (with Knative's CRDs, so their OpenAPI schemas) checks the rest. Both sides then
read back what they would store, and the differ must find nothing to write: it ignores what the
server and Knative add, and nothing else. Finally an update written as the differ's merge patch
converges, and is one Knative would admit (the consumer group, immutable, does not change).
"""

import urllib.error
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from kubernetes_asyncio import client

from events_api.devstack.knative import validate_manifests, validate_updates
from events_api.devstack.kubernetes import KubernetesControlPlane
from events_api.triggers.knative import kinds
from events_api.triggers.knative.kinds import Kind
from events_api.triggers.knative.manifests import (
    build_kafka_sink,
    build_kafka_source,
    build_service,
    owner_of,
    patch_for,
)
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import (
    LogStep,
    PipelineId,
    PipelineOptions,
    PipelineSpec,
    PipelineVersion,
    StepId,
    TenantId,
)

pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("knative_tools")]

Manifest = dict[str, Any]
TENANT = TenantId("https://idp.example.com/users/Alice Smith")
STARTED_AT = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
PLACEHOLDER_UID = "00000000-0000-4000-8000-000000000000"

PIPELINES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # name: (options, settings overrides)
    "defaults": ({"event": "orders"}, {}),
    "secured Kafka, dead-letter topic": (
        {"event": "orders", "delivery": {"dead_letter": {"topic": "orders.dlq"}}},
        {
            "kafka_tls_secret": "kafka-tls",
            "kafka_sasl_secret": "kafka-sasl",
            "kafka_sink_auth_secret": "kafka-sink-auth",
        },
    ),
    "dead-letter uri, linear, unordered, int keys": (
        {
            "event": "orders",
            "delivery": {
                "retry": 0,
                "backoff_policy": "linear",
                "backoff_delay_seconds": 90,
                "ordering": "unordered",
                "initial_offset": "earliest",
                "key_type": "int",
                "dead_letter": {"uri": "https://dlq.example.com/in"},
            },
        },
        {},
    ),
    "v1beta1 source, big and short-lived": (
        {
            "event": "orders",
            "scaling": {"min_scale": 2, "max_scale": 0, "container_concurrency": 0},
            "timeouts": {"request_timeout_seconds": 600},
            "resources": {"cpu": "2", "memory": "1.5Gi"},
        },
        {"kafka_source_version": "v1beta1", "max_scale_limit": 1000},
    ),
}


@dataclass(frozen=True)
class Objects:
    service: Manifest
    source: Manifest
    sink: Manifest | None

    def all(self) -> list[Manifest]:
        return [self.service, self.source] + ([self.sink] if self.sink else [])


def version_of(options: dict[str, Any], *, number: int = 1) -> PipelineVersion:
    return PipelineVersion(
        pipeline_id=PipelineId("pipeline-k3v9x0q2m1ab"),
        version=number,
        spec=PipelineSpec(
            name="orders",
            options=msgspec.convert(options, PipelineOptions),
            steps=(LogStep(id=StepId("log"), message="an event arrived"),),
        ),
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def settings_for(namespace: str, overrides: dict[str, Any]) -> KnativeSettings:
    return msgspec.convert({"namespace": namespace, **overrides}, KnativeSettings)


def build_all(
    version: PipelineVersion,
    settings: KnativeSettings,
    *,
    uid: str = PLACEHOLDER_UID,
    started_at: datetime = STARTED_AT,
) -> Objects:
    service = build_service(version, tenant=TENANT, settings=settings, started_at=started_at)
    owner = owner_of({**service, "metadata": {**service["metadata"], "uid": uid}})
    return Objects(
        service=service,
        source=build_kafka_source(version, tenant=TENANT, settings=settings, owner=owner),
        sink=build_kafka_sink(version, tenant=TENANT, settings=settings, owner=owner),
    )


def kind_of(manifest: Manifest) -> Kind:
    group, version = manifest["apiVersion"].split("/")
    if manifest["kind"] == "Service":
        return kinds.SERVICE
    if manifest["kind"] == "KafkaSink":
        return kinds.KAFKA_SINK
    assert group == "sources.knative.dev"
    return kinds.kafka_source(version)


def collection(manifest: Manifest, namespace: str) -> str:
    kind = kind_of(manifest)
    return f"/apis/{kind.group}/{kind.version}/namespaces/{namespace}/{kind.plural}"


def post(kubernetes: KubernetesControlPlane, manifest: Manifest, *, dry_run: bool) -> Manifest:
    path = collection(manifest, manifest["metadata"]["namespace"])
    try:
        return kubernetes.apiserver.request(
            "POST", path + ("?dryRun=All" if dry_run else ""), manifest
        )
    except urllib.error.HTTPError as error:
        pytest.fail(f"the apiserver refused {manifest['kind']}: {error.read().decode()}")


def get(kubernetes: KubernetesControlPlane, manifest: Manifest) -> Manifest:
    path = collection(manifest, manifest["metadata"]["namespace"])
    return kubernetes.apiserver.request("GET", f"{path}/{manifest['metadata']['name']}")


# --- Knative's admission --------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_knative_admits_every_manifest_and_its_defaults_are_no_difference(pipeline: str) -> None:
    options, overrides = PIPELINES[pipeline]
    objects = build_all(version_of(options), settings_for("pipelines", overrides))
    verdicts = validate_manifests(objects.all())
    for manifest, verdict in zip(objects.all(), verdicts, strict=True):
        assert (verdict.kind, verdict.name) == (manifest["kind"], manifest["metadata"]["name"])
        assert verdict.valid, verdict.errors
        # No field Knative does not know (the apiserver would silently prune it).
        assert verdict.warnings == ()
        assert verdict.defaulted is not None
        assert patch_for(verdict.defaulted, manifest) is None


def test_knative_refuses_what_the_builders_never_write() -> None:
    """The checks above can fail: the same validator refuses a spoiled copy."""
    options, overrides = PIPELINES["defaults"]
    objects = build_all(version_of(options), settings_for("pipelines", overrides))
    spoiled = msgspec.json.decode(msgspec.json.encode(objects.service))
    spoiled["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"] = "1"
    (verdict,) = validate_manifests([spoiled])
    assert not verdict.valid


# --- The apiserver --------------------------------------------------------------------------------


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_the_apiserver_admits_every_manifest_in_a_dry_run(
    kubernetes: KubernetesControlPlane, namespace: str, pipeline: str
) -> None:
    options, overrides = PIPELINES[pipeline]
    objects = build_all(version_of(options), settings_for(namespace, overrides))
    for manifest in objects.all():
        stored = post(kubernetes, manifest, dry_run=True)
        assert stored["metadata"]["name"] == manifest["metadata"]["name"]
        # Nothing pruned, nothing changed: the CRD schemas know every field we write.
        assert patch_for(stored, manifest) is None
        assert stored["spec"] == manifest["spec"]


def test_created_objects_read_back_as_desired(
    kubernetes: KubernetesControlPlane, namespace: str
) -> None:
    options, overrides = PIPELINES["secured Kafka, dead-letter topic"]
    settings = settings_for(namespace, overrides)
    version = version_of(options)
    service = build_service(version, tenant=TENANT, settings=settings, started_at=STARTED_AT)
    owner = owner_of(post(kubernetes, service, dry_run=False))
    sink = build_kafka_sink(version, tenant=TENANT, settings=settings, owner=owner)
    source = build_kafka_source(version, tenant=TENANT, settings=settings, owner=owner)
    assert sink is not None
    for manifest in (sink, source):
        post(kubernetes, manifest, dry_run=False)
    for manifest in (service, sink, source):
        live = get(kubernetes, manifest)
        assert patch_for(live, manifest) is None
    assert get(kubernetes, source)["metadata"]["ownerReferences"][0]["uid"] == owner.uid


async def merge_patch(api: client.ApiClient, manifest: Manifest, patch: Manifest) -> Any:
    kind = kind_of(manifest)
    # The client would pick JSON Patch for a dict; the differ writes an RFC 7386 merge patch.
    content_type: dict[str, Any] = {"_content_type": "application/merge-patch+json"}
    return await client.CustomObjectsApi(api).patch_namespaced_custom_object(
        kind.group,
        kind.version,
        manifest["metadata"]["namespace"],
        kind.plural,
        manifest["metadata"]["name"],
        patch,
        **content_type,
    )


async def test_a_new_start_converges_with_one_merge_patch_per_object(
    kubernetes: KubernetesControlPlane, namespace: str, admin_api: client.ApiClient
) -> None:
    """Start version 1 with a dead-letter topic and secured Kafka; then start version 2
    without them: the patches leave exactly the new objects, and Knative admits the change."""
    first_options, overrides = PIPELINES["secured Kafka, dead-letter topic"]
    first_settings = settings_for(namespace, overrides)
    first = version_of(first_options)
    service = build_service(first, tenant=TENANT, settings=first_settings, started_at=STARTED_AT)
    owner = owner_of(post(kubernetes, service, dry_run=False))
    source = build_kafka_source(first, tenant=TENANT, settings=first_settings, owner=owner)
    post(kubernetes, source, dry_run=False)

    second_settings = settings_for(namespace, {})
    second = version_of({"event": "orders-v2", "delivery": {"retry": 2}}, number=2)
    later = STARTED_AT + timedelta(minutes=5)
    wanted = build_all(second, second_settings, uid=owner.uid, started_at=later)
    assert wanted.sink is None
    for desired in (wanted.service, wanted.source):
        live = get(kubernetes, desired)
        patch = patch_for(live, desired)
        assert patch is not None
        (verdict,) = validate_updates([(live, desired)])
        assert verdict.valid, verdict.errors
        await merge_patch(admin_api, desired, patch)
        after = get(kubernetes, desired)
        assert patch_for(after, desired) is None
        assert after["metadata"]["uid"] == live["metadata"]["uid"]
    live_source = get(kubernetes, wanted.source)
    assert "net" not in live_source["spec"]
    assert "deadLetterSink" not in live_source["spec"]["delivery"]
    assert live_source["spec"]["consumerGroup"] == source["spec"]["consumerGroup"]
    live_service = get(kubernetes, wanted.service)
    assert "volumes" not in live_service["spec"]["template"]["spec"]
    annotations = live_service["spec"]["template"]["metadata"]["annotations"]
    assert annotations["pipeline-events.dev/started-at"] == later.isoformat()
