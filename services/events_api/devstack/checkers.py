"""Go tools the checks build from their modules under `tools/` (cached by content): kustomize,
which renders `k8s/` exactly as `kubectl kustomize` does (kubectl embeds the same module), and
actionlint, which checks the workflow files.
"""

import re
from pathlib import Path

from events_api.devstack.gobuild import Progress, build_go_program, tools_dir

KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
ACTIONLINT_MODULE = "github.com/rhysd/actionlint"


def _ignore(_: str) -> None:
    """A progress sink that says nothing."""


def pinned_version(tool: str, module: str) -> str:
    """The version `tools/<tool>/go.mod` requires of `module` (without the leading v)."""
    go_mod = (tools_dir() / tool / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} v(\S+)", go_mod, re.MULTILINE)
    if match is None:
        raise AssertionError(f"tools/{tool}/go.mod does not require {module}")
    return match.group(1)


def kustomize(*, progress: Progress = _ignore) -> Path:
    """The kustomize binary, built from `tools/kustomize` on first use."""
    version = pinned_version("kustomize", KUSTOMIZE_MODULE)
    return build_go_program(
        tools_dir() / "kustomize",
        KUSTOMIZE_MODULE,
        name=f"kustomize-{version}",
        # What `kustomize version` prints, as the release build stamps it.
        ldflags=f"-X sigs.k8s.io/kustomize/api/provenance.version=v{version}",
        progress=progress,
    )


def actionlint(*, progress: Progress = _ignore) -> Path:
    """The actionlint binary, built from `tools/actionlint` on first use."""
    version = pinned_version("actionlint", ACTIONLINT_MODULE)
    return build_go_program(
        tools_dir() / "actionlint",
        f"{ACTIONLINT_MODULE}/cmd/actionlint",
        name=f"actionlint-{version}",
        ldflags=f"-X {ACTIONLINT_MODULE}.version=v{version}",
        progress=progress,
    )
