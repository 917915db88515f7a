"""The Go tools the deployment tests build from their modules under `tools/` (cached by content).

kustomize renders `k8s/` exactly as `kubectl kustomize` and `kubectl apply -k` do (kubectl embeds
the same module); actionlint checks the workflow files.
"""

import subprocess
from pathlib import Path
from typing import Any

import yaml

from events_api.devstack.checkers import actionlint, kustomize

REPO = Path(__file__).resolve().parents[2]
__all__ = ["REPO", "actionlint", "kustomize", "render"]


def render(kustomization: Path) -> list[dict[str, Any]]:
    """The manifests `kubectl kustomize <kustomization>` prints, parsed.

    Raises:
        AssertionError: kustomize refused the kustomization (its message is quoted).
    """
    completed = subprocess.run(
        [str(kustomize()), "build", str(kustomization)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise AssertionError(f"kustomize build {kustomization} failed:\n{completed.stderr}")
    return [doc for doc in yaml.safe_load_all(completed.stdout) if doc is not None]
