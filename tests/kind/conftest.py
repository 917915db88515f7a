"""The kind suite's cluster: the one `scripts/kind-setup.sh` made, or a skip that says why.

It needs docker, kind and kubectl, and the cluster the script creates (`$KIND_CLUSTER`, default
`pipeline-events`) with the product deployed. Anywhere else every test here skips with the
missing piece named; with `PIPELINE_EVENTS_KIND_REQUIRED=1` (the kind workflow sets it) a
missing piece fails instead, so CI cannot pass by skipping.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from events_api.devstack.ports import accepts_connections, free_port
from events_api.devstack.processes import ManagedProcess
from kind.cluster import Cluster

TOKEN_ENV = "PIPELINE_EVENTS_KIND_TOKEN"
# The token whose hash k8s/overlays/kind/tokens.json lists: public, for local clusters only.
DEFAULT_TOKEN = "kind-e2e-only-token-not-a-secret"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder `kind`, so `-m 'not kind'` leaves them out."""
    for item in items:
        if "tests/kind/" in item.nodeid or item.nodeid.startswith("kind/"):
            item.add_marker(pytest.mark.kind)


def _unavailable() -> str | None:
    """Why the kind cluster cannot be used here, or None when it can."""
    for tool in ("docker", "kind", "kubectl"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (the kind suite needs docker, kind and kubectl)"
    name = Cluster.from_environment().name
    try:
        clusters = subprocess.run(
            ["kind", "get", "clusters"], capture_output=True, text=True, timeout=60, check=True
        ).stdout.split()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        return f"`kind get clusters` failed (is the docker engine running?): {error}"
    if name not in clusters:
        return f"no kind cluster named {name!r}: run scripts/kind-setup.sh first"
    return None


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    """The kind cluster, or a skip (a failure when PIPELINE_EVENTS_KIND_REQUIRED=1)."""
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("PIPELINE_EVENTS_KIND_REQUIRED") == "1":
            pytest.fail(f"the kind suite is required here, but {reason}")
        pytest.skip(reason)
    return Cluster.from_environment()


@pytest.fixture(scope="session")
def api(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A client of the deployed API, through `kubectl port-forward` to its Service."""
    port = free_port()
    forward = ManagedProcess(
        "kubectl port-forward",
        [*cluster.kubectl, "port-forward", "-n", "pipeline-events", "svc/pipeline-events-api",
         f"{port}:80"],
        log_path=tmp_path_factory.mktemp("kind") / "port-forward.log",
    )  # fmt: skip
    forward.start()
    try:
        forward.wait_until_ready(lambda: accepts_connections(port), timeout=60)
        token = os.environ.get(TOKEN_ENV, DEFAULT_TOKEN)
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(90.0, connect=10.0),
        ) as client:
            yield client
    finally:
        forward.stop()
