"""Run code as the events API's ServiceAccount, with exactly the RBAC that `k8s/base` ships.

`k8s/base/rbac.yaml` is applied to a test's own namespaces (the manifest's namespaces swapped
for them), then a token is minted for the ServiceAccount, so a test proves the shipped Role is
sufficient — and, through the audit log, that the API uses no more than it grants.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from events_api.devstack.kubernetes import KubeApiServer

RBAC_FILE = Path(__file__).resolve().parents[2] / "k8s" / "base" / "rbac.yaml"
API_NAMESPACE = "pipeline-events"
TRIGGER_NAMESPACE = "pipeline-events-triggers"

_PATHS = {
    "ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
    "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
}


@dataclass(frozen=True)
class ApiIdentity:
    """The ServiceAccount the API runs as in a test, and its bearer token."""

    namespace: str
    name: str
    token: str

    @property
    def username(self) -> str:
        """How the apiserver (and its audit log) names this ServiceAccount."""
        return f"system:serviceaccount:{self.namespace}:{self.name}"


def shipped_rbac() -> list[dict[str, Any]]:
    """The objects of `k8s/base/rbac.yaml`."""
    return [doc for doc in yaml.safe_load_all(RBAC_FILE.read_text()) if doc]


def role_rules() -> set[tuple[str, str]]:
    """The (verb, resource) pairs the shipped Role grants."""
    pairs = set()
    for doc in shipped_rbac():
        if doc["kind"] == "Role":
            for rule in doc["rules"]:
                pairs |= {
                    (verb, resource) for verb in rule["verbs"] for resource in rule["resources"]
                }
    return pairs


def _relocate(obj: dict[str, Any], namespaces: dict[str, str]) -> dict[str, Any]:
    obj = {**obj, "metadata": {**obj["metadata"]}}
    obj["metadata"]["namespace"] = namespaces[obj["metadata"]["namespace"]]
    if "subjects" in obj:
        obj["subjects"] = [
            {**subject, "namespace": namespaces[subject["namespace"]]}
            for subject in obj["subjects"]
        ]
    return obj


def apply_shipped_rbac(
    apiserver: KubeApiServer, *, api_namespace: str, trigger_namespace: str
) -> ApiIdentity:
    """Apply the shipped RBAC into the given namespaces; the API's identity there."""
    namespaces = {API_NAMESPACE: api_namespace, TRIGGER_NAMESPACE: trigger_namespace}
    account = ""
    for obj in shipped_rbac():
        relocated = _relocate(obj, namespaces)
        namespace = relocated["metadata"]["namespace"]
        apiserver.request("POST", _PATHS[obj["kind"]].format(ns=namespace), relocated)
        if obj["kind"] == "ServiceAccount":
            account = relocated["metadata"]["name"]
    token = apiserver.service_account_token(api_namespace, account)
    return ApiIdentity(namespace=api_namespace, name=account, token=token)
