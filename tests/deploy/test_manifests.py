"""`k8s/` as kustomize renders it, judged by the real kube-apiserver and read for what it promises.

Every object of the base and of each overlay is sent to the apiserver as a server-side dry run
(`?dryRun=All`: admission and validation run, nothing is stored), with Knative's CRDs installed.
The namespaces are created for real first, since a dry run of a Namespace creates nothing. The
settings in the ConfigMap and Secret must be settings the API accepts, and the Knative Service
they make the API build must be admitted too — and selected by the runner pods' policies.
"""

import ipaddress
import json
import urllib.error
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.gotools import REPO, render
from deploy.manifests import Manifest, config_env, find, one, secret_data, selects
from events_api.auth.settings import AuthMode, load_auth_settings
from events_api.auth.static_tokens import parse_static_tokens
from events_api.devstack.kubernetes import KubeApiServer, KubernetesControlPlane
from events_api.settings import load_settings
from events_api.triggers.knative.service_manifest import build_service
from events_api.triggers.knative.settings import load_knative_settings
from pipeline_models import (
    LogStep,
    PipelineId,
    PipelineOptions,
    PipelineSpec,
    PipelineVersion,
    StepId,
    TenantId,
)
from pipeline_models.egress import ALWAYS_DENIED_NETWORKS, LOOPBACK_NETWORKS, PRIVATE_NETWORKS

pytestmark = pytest.mark.kubernetes

KUSTOMIZATIONS = {
    "base": REPO / "k8s" / "base",
    "example": REPO / "k8s" / "overlays" / "example",
    "kind": REPO / "k8s" / "overlays" / "kind",
}
API_NAMESPACE = "pipeline-events"
TRIGGER_NAMESPACE = "pipeline-events-triggers"

# Where each kind the manifests use is created; a kind missing here fails the test, by name.
COLLECTIONS = {
    ("v1", "Namespace"): "/api/v1/namespaces",
    ("v1", "ServiceAccount"): "/api/v1/namespaces/{ns}/serviceaccounts",
    ("v1", "ConfigMap"): "/api/v1/namespaces/{ns}/configmaps",
    ("v1", "Secret"): "/api/v1/namespaces/{ns}/secrets",
    ("v1", "Service"): "/api/v1/namespaces/{ns}/services",
    ("apps/v1", "Deployment"): "/apis/apps/v1/namespaces/{ns}/deployments",
    ("apps/v1", "StatefulSet"): "/apis/apps/v1/namespaces/{ns}/statefulsets",
    ("policy/v1", "PodDisruptionBudget"): "/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
    ("networking.k8s.io/v1", "Ingress"): "/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses",
    ("networking.k8s.io/v1", "NetworkPolicy"): (
        "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies"
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "Role",
    ): "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): (
        "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings"
    ),
    ("serving.knative.dev/v1", "Service"): "/apis/serving.knative.dev/v1/namespaces/{ns}/services",
}


@pytest.fixture(scope="module", params=sorted(KUSTOMIZATIONS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Manifest]]:
    """One kustomization's output, as `kubectl apply -k` would send it."""
    name: str = request.param
    return name, render(KUSTOMIZATIONS[name])


@pytest.fixture(scope="module")
def apiserver(kubernetes: KubernetesControlPlane) -> KubeApiServer:
    """The apiserver, with the product's two namespaces created for real."""
    server = kubernetes.apiserver
    for name in (API_NAMESPACE, TRIGGER_NAMESPACE):
        _create_namespace(server, name)
    return server


def _create_namespace(apiserver: KubeApiServer, name: str) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    try:
        apiserver.request("POST", "/api/v1/namespaces", body)
    except urllib.error.HTTPError as error:
        if error.code != 409:
            raise


def dry_run(apiserver: KubeApiServer, manifest: Manifest) -> str | None:
    """Send `manifest` as a server-side dry run; the apiserver's refusal, or None if admitted.

    A Namespace exists already (created for real), so it is checked as a dry-run update.
    """
    key = (manifest["apiVersion"], manifest["kind"])
    assert key in COLLECTIONS, f"no collection known for {key}: add it to COLLECTIONS"
    metadata = manifest["metadata"]
    collection = COLLECTIONS[key].format(ns=metadata.get("namespace", ""))
    if "{ns}" in COLLECTIONS[key] and not metadata.get("namespace"):
        return "no metadata.namespace: the base names every object's namespace"
    method, path = "POST", f"{collection}?dryRun=All&fieldValidation=Strict"
    if manifest["kind"] == "Namespace":
        method, path = "PUT", f"{collection}/{metadata['name']}?dryRun=All&fieldValidation=Strict"
    try:
        apiserver.request(method, path, manifest)
    except urllib.error.HTTPError as error:
        answer = json.loads(error.read() or b"{}")
        return f"{error.code} {answer.get('reason')}: {answer.get('message')}"
    return None


def test_every_manifest_is_admitted_by_the_apiserver(
    rendered: tuple[str, list[Manifest]], apiserver: KubeApiServer
) -> None:
    name, manifests = rendered
    refused = {
        f"{m['kind']} {m['metadata'].get('namespace', '')}/{m['metadata']['name']}": reason
        for m in manifests
        if (reason := dry_run(apiserver, m)) is not None
    }
    assert not refused, f"the apiserver refused objects of {name}: {refused}"
    kinds = {m["kind"] for m in manifests}
    assert kinds >= {
        "Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Secret",
        "Deployment", "Service", "Ingress", "PodDisruptionBudget", "NetworkPolicy",
    }  # fmt: skip


def test_the_kind_suites_kafka_and_postgres_are_admitted(apiserver: KubeApiServer) -> None:
    """What scripts/kind-setup.sh deploys besides k8s/ (images as the script fills them in)."""
    folder = REPO / "tests" / "kind" / "manifests"
    for name, image in (("kafka", "apache/kafka:4.1.1"), ("postgres", "postgres:15-bookworm")):
        text = (folder / f"{name}.yaml").read_text().replace(f"{name.upper()}_IMAGE", image)
        manifests = [doc for doc in yaml.safe_load_all(text) if doc is not None]
        for manifest in manifests:
            if manifest["kind"] == "Namespace":
                _create_namespace(apiserver, manifest["metadata"]["name"])
        refused = {m["metadata"]["name"]: dry_run(apiserver, m) for m in manifests}
        assert not {key: why for key, why in refused.items() if why}, refused


def test_a_dry_run_does_refuse_what_is_invalid(apiserver: KubeApiServer) -> None:
    """The check above can fail: the apiserver judges, it does not just accept."""
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "broken", "namespace": TRIGGER_NAMESPACE},
        "spec": {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
    }
    assert dry_run(apiserver, policy) is not None
    unknown_field = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "broken", "namespace": API_NAMESPACE},
        "dta": {"a": "b"},
    }
    assert dry_run(apiserver, unknown_field) is not None


def test_the_settings_are_ones_the_api_accepts(rendered: tuple[str, list[Manifest]]) -> None:
    name, manifests = rendered
    env = config_env(manifests)
    settings = load_settings(env)
    knative = load_knative_settings(env)
    auth = load_auth_settings(env)
    # In a pod, the server binds every interface, on the port the probes and Service use.
    assert settings.host == "0.0.0.0"  # noqa: S104 - what a pod must bind
    deployment = one(manifests, "Deployment", "pipeline-events-api")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [
        {"name": "http", "containerPort": settings.port, "protocol": "TCP"}
    ]
    # The production store, shared by the replicas: PostgreSQL, never SQLite.
    assert settings.database_url.startswith("postgresql://"), name
    assert settings.trigger_backend == "knative"
    assert knative.namespace == TRIGGER_NAMESPACE
    # The runner's ServiceAccount exists where its pods run.
    accounts = find(manifests, "ServiceAccount", knative.runner_service_account)
    assert [a["metadata"]["namespace"] for a in accounts] == [TRIGGER_NAMESPACE]
    # The runner image is pinned (kustomize's `images:` cannot reach a setting).
    assert ":" in knative.runner_image.rsplit("/", 1)[-1]
    assert not knative.runner_image.endswith(":latest")
    if auth.mode is AuthMode.STATIC:
        assert auth.static_tokens_file is not None
        mounted = Path(auth.static_tokens_file)
        mount = next(m for m in container["volumeMounts"] if Path(m["mountPath"]) == mounted.parent)
        volume = next(
            v for v in deployment["spec"]["template"]["spec"]["volumes"]
            if v["name"] == mount["name"]
        )  # fmt: skip
        tokens = secret_data(one(manifests, "Secret", volume["secret"]["secretName"]))
        parse_static_tokens(tokens[mounted.name].encode(), source=mounted.name)


def test_the_deployment_runs_hardened_and_replicated(rendered: tuple[str, list[Manifest]]) -> None:
    _, manifests = rendered
    deployment = one(manifests, "Deployment", "pipeline-events-api")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["replicas"] == 2
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert set(container["resources"]) == {"requests", "limits"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    # The root filesystem is read-only: a writable /tmp of the pod's own.
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/tmp"}  # noqa: S108
    env = config_env(manifests)
    grace = float(env["PIPELINE_EVENTS_SHUTDOWN_GRACE_SECONDS"])
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause + grace < pod["terminationGracePeriodSeconds"]
    assert pod["serviceAccountName"] == "pipeline-events-api"
    labels = spec["template"]["metadata"]["labels"]
    assert selects(spec["selector"], labels)
    for kind in ("Service", "PodDisruptionBudget"):
        obj = one(manifests, kind, "pipeline-events-api")
        selector = obj["spec"]["selector"]
        assert selects(selector if kind != "Service" else {"matchLabels": selector}, labels)
    budget = one(manifests, "PodDisruptionBudget", "pipeline-events-api")["spec"]
    assert budget["minAvailable"] < spec["replicas"]


def test_the_ingress_forwards_api_paths_unchanged_over_tls(
    rendered: tuple[str, list[Manifest]],
) -> None:
    _, manifests = rendered
    ingress = one(manifests, "Ingress", "pipeline-events-api")
    annotations = ingress["metadata"].get("annotations") or {}
    assert not [key for key in annotations if key.endswith(("rewrite-target", "use-regex"))]
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/api", "Prefix")
    assert path["backend"]["service"]["name"] == "pipeline-events-api"
    assert [tls["hosts"] for tls in ingress["spec"]["tls"]] == [[rule["host"]]]
    service = one(manifests, "Service", "pipeline-events-api")
    assert path["backend"]["service"]["port"]["name"] in {
        p["name"] for p in service["spec"]["ports"]
    }
    # The API's own routes start with /api (the Ingress does not strip the prefix).
    assert config_env(manifests)["PIPELINE_EVENTS_ROOT_PATH"] == ""


def _policies(manifests: list[Manifest], namespace: str, labels: dict[str, str]) -> list[Manifest]:
    return [
        policy
        for policy in find(manifests, "NetworkPolicy")
        if policy["metadata"]["namespace"] == namespace
        and selects(policy["spec"]["podSelector"], labels)
    ]


def runner_service(manifests: list[Manifest]) -> Manifest:
    """The Knative Service the API would create with these settings, for a one-step pipeline."""
    settings = load_knative_settings(config_env(manifests))
    version = PipelineVersion(
        pipeline_id=PipelineId("pipeline-k3v9x0q2m1ab"),
        version=1,
        spec=PipelineSpec(
            name="orders",
            options=PipelineOptions(event="orders"),
            steps=(LogStep(id=StepId("log"), message="an order arrived"),),
        ),
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    return build_service(
        version, tenant=TenantId("team-a"), settings=settings, started_at=datetime.now(UTC)
    )


def test_the_runner_services_these_settings_make_are_admitted(
    rendered: tuple[str, list[Manifest]], apiserver: KubeApiServer
) -> None:
    _, manifests = rendered
    service = runner_service(manifests)
    assert service["metadata"]["namespace"] == TRIGGER_NAMESPACE
    assert dry_run(apiserver, service) is None


def test_network_policies_select_the_pods_they_are_for(
    rendered: tuple[str, list[Manifest]],
) -> None:
    _, manifests = rendered
    api_labels = one(manifests, "Deployment", "pipeline-events-api")["spec"]["template"]["metadata"]
    api = _policies(manifests, API_NAMESPACE, api_labels["labels"])
    # What a revision's pods carry: the template's labels (Knative adds its own beside them).
    runner_labels: dict[str, Any] = runner_service(manifests)["spec"]["template"]["metadata"][
        "labels"
    ]
    runner = _policies(manifests, TRIGGER_NAMESPACE, runner_labels)
    for pods, policies in (("API", api), ("runner", runner)):
        types = {kind for policy in policies for kind in policy["spec"]["policyTypes"]}
        assert types == {"Ingress", "Egress"}, f"the {pods} pods are not isolated both ways"
    # The API's pods are not runner pods, and the other way round.
    assert not _policies(manifests, TRIGGER_NAMESPACE, api_labels["labels"])
    ingress_peers = [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for policy in runner
        for rule in policy["spec"].get("ingress", [])
        for peer in rule["from"]
    ]
    assert set(ingress_peers) >= {"knative-serving", "knative-eventing"}


def _blocks(policies: list[Manifest]) -> Iterator[dict[str, Any]]:
    for policy in policies:
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                if "ipBlock" in peer:
                    yield peer["ipBlock"]


def test_runner_egress_denies_what_the_runner_settings_deny_by_default() -> None:
    """The cluster enforces the runner's default egress policy too (the base's `except` lists)."""
    manifests = render(KUSTOMIZATIONS["base"])
    runner = _policies(manifests, TRIGGER_NAMESPACE, {"pipeline-events.dev/pipeline": "p"})
    blocks = list(_blocks(runner))
    assert blocks, "no ipBlock lets http steps reach anything"
    for block in blocks:
        allowed = ipaddress.ip_network(block["cidr"])
        excepted = [ipaddress.ip_network(text) for text in block.get("except", [])]
        for network in (*ALWAYS_DENIED_NETWORKS, *LOOPBACK_NETWORKS, *PRIVATE_NETWORKS):
            if not _within(network, allowed):
                continue
            assert any(_within(network, e) for e in excepted), (
                f"{block['cidr']} lets runner pods reach {network}, which the runner denies"
            )


def _within(inner: ipaddress.IPv4Network | ipaddress.IPv6Network, outer: Any) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)
