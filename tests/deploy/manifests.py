"""Pure helpers over rendered manifests: finding objects, decoding settings, matching selectors."""

import base64
from collections.abc import Iterable, Mapping
from typing import Any

Manifest = dict[str, Any]


def find(manifests: Iterable[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    """The objects of `kind` (named `name`, when given; generated names keep their prefix)."""
    found = []
    for manifest in manifests:
        if manifest["kind"] != kind:
            continue
        object_name = manifest["metadata"]["name"]
        if name is None or object_name == name or object_name.startswith(f"{name}-"):
            found.append(manifest)
    return found


def one(manifests: Iterable[Manifest], kind: str, name: str) -> Manifest:
    """The single object of `kind` named `name` (or kustomize's `name-<hash>`)."""
    exact = [m for m in find(manifests, kind, name) if m["metadata"]["name"] == name]
    found = exact or find(manifests, kind, name)
    assert len(found) == 1, f"expected one {kind} {name}, found {[m['metadata'] for m in found]}"
    return found[0]


def config_env(manifests: list[Manifest]) -> dict[str, str]:
    """The environment the API's Deployment gets from its ConfigMap and Secret (`envFrom`)."""
    deployment = one(manifests, "Deployment", "pipeline-events-api")
    env: dict[str, str] = {}
    for source in deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]:
        if "configMapRef" in source:
            config_map = one(manifests, "ConfigMap", source["configMapRef"]["name"])
            env.update(config_map.get("data", {}))
        else:
            secret = one(manifests, "Secret", source["secretRef"]["name"])
            env.update(secret_data(secret))
    return env


def secret_data(secret: Manifest) -> dict[str, str]:
    """A Secret's values, decoded (`data` is base64; `stringData` is plain)."""
    values = {
        key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()
    }
    values.update(secret.get("stringData", {}))
    return values


def selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector (`matchLabels`, `matchExpressions`) matches `labels`."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        present = key in labels
        matched = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not matched:
            return False
    return True
