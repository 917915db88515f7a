"""The versions the dev tooling reports are the ones its Go modules pin."""

import re

from events_api.devstack.gobuild import tools_dir
from events_api.devstack.kubernetes import ETCD_VERSION, KUBERNETES_VERSION


def _required(module: str, go_mod: str) -> str:
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} v(\S+)", go_mod, re.MULTILINE)
    assert match, f"{module} is not required"
    return match.group(1)


def test_kube_apiserver_module_pins_the_reported_release() -> None:
    go_mod = (tools_dir() / "kube-apiserver" / "go.mod").read_text()
    assert _required("k8s.io/kubernetes", go_mod) == KUBERNETES_VERSION
    minor_patch = KUBERNETES_VERSION.split(".", 1)[1]
    # Every staging module is replaced by the same release's v0.MINOR.PATCH.
    replacements = re.findall(r"(k8s\.io/[\w.-]+) => k8s\.io/[\w.-]+ v(\S+)", go_mod)
    assert len(replacements) > 25
    assert {version for _, version in replacements} == {f"0.{minor_patch}"}


def test_etcd_module_pins_the_reported_release() -> None:
    go_mod = (tools_dir() / "etcd" / "go.mod").read_text()
    assert _required("go.etcd.io/etcd/server/v3", go_mod) == ETCD_VERSION
