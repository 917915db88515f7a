"""A real Kubernetes API for tests and by-hand work: etcd 3.6 and kube-apiserver, no cluster.

Both are built from their Go modules under `tools/` (cached by content), then started on
127.0.0.1 and free ports: RBAC authorization on, an admin token in `system:masters`, ServiceAccount
token minting (TokenRequest), and an audit log of every request the tests can read. With
`watch_cache=False` the apiserver serves watches straight from etcd, so compacting etcd past a
watch's resourceVersion forces the 410 Gone a client must survive.

There is no controller-manager: no garbage collection, no default ServiceAccounts, namespaces stay
Terminating after a delete. Tests use a fresh namespace each and create what they need.
"""

import base64
import json
import secrets
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from events_api.devstack.errors import StartTimeout
from events_api.devstack.gobuild import build_go_program, tools_dir
from events_api.devstack.ports import free_port
from events_api.devstack.processes import ManagedProcess

ETCD_VERSION = "3.6.16"
KUBERNETES_VERSION = "1.36.3"
ADMIN_USER = "pipeline-events-admin"
_HTTP_TIMEOUT = 10.0

Progress = Callable[[str], None]

_AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
"""


def _ignore(_: str) -> None:
    """A progress sink that says nothing."""


def ensure_etcd(*, progress: Progress = _ignore) -> Path:
    """The etcd binary, built from `tools/etcd` on first use."""
    return build_go_program(
        tools_dir() / "etcd",
        "go.etcd.io/etcd/server/v3",
        name=f"etcd-{ETCD_VERSION}",
        progress=progress,
    )


def ensure_kube_apiserver(*, progress: Progress = _ignore) -> Path:
    """The kube-apiserver binary, built from `tools/kube-apiserver` on first use.

    The version is stamped in, as Kubernetes' own release build does, so `/version` is truthful.
    """
    major, minor, _ = KUBERNETES_VERSION.split(".")
    stamp = "k8s.io/component-base/version"
    ldflags = (
        f"-X {stamp}.gitVersion=v{KUBERNETES_VERSION} -X {stamp}.gitMajor={major} "
        f"-X {stamp}.gitMinor={minor} -X {stamp}.gitTreeState=clean"
    )
    return build_go_program(
        tools_dir() / "kube-apiserver",
        "k8s.io/kubernetes/cmd/kube-apiserver",
        name=f"kube-apiserver-{KUBERNETES_VERSION}",
        ldflags=ldflags,
        progress=progress,
    )


def _post_json(url: str, body: object) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - a loopback http URL we built
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT) as response:  # noqa: S310
        result: dict[str, Any] = json.load(response)
        return result


@dataclass
class EtcdServer:
    """A running single-member etcd; `stop()` ends it (safe to call twice)."""

    client_url: str
    workdir: Path
    process: ManagedProcess

    def revision(self) -> int:
        """The store's current revision."""
        key = base64.b64encode(b"\0").decode()
        reply = _post_json(f"{self.client_url}/v3/kv/range", {"key": key, "limit": 1})
        return int(reply["header"]["revision"])

    def compact(self, revision: int | None = None) -> int:
        """Compact history up to `revision` (default: now); older watches then get 410 Gone."""
        target = self.revision() if revision is None else revision
        _post_json(f"{self.client_url}/v3/kv/compaction", {"revision": target, "physical": True})
        return target

    def stop(self) -> None:
        """Stop etcd by PID."""
        self.process.stop()


def start_etcd(*, workdir: Path, progress: Progress = _ignore) -> EtcdServer:
    """Start etcd with a fresh data folder under `workdir`, on 127.0.0.1 and free ports."""
    binary = ensure_etcd(progress=progress)
    workdir.mkdir(parents=True, exist_ok=True)
    client_url = f"http://127.0.0.1:{free_port()}"
    peer_url = f"http://127.0.0.1:{free_port()}"
    process = ManagedProcess(
        f"etcd {ETCD_VERSION}",
        [
            str(binary),
            f"--data-dir={workdir / 'data'}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ],
        log_path=workdir / "etcd.log",
    )
    process.start()

    def is_ready() -> bool:
        try:
            with urllib.request.urlopen(f"{client_url}/health", timeout=1) as response:  # noqa: S310
                return bool(json.load(response).get("health") == "true")
        except (OSError, ValueError):
            return False

    process.wait_until_ready(is_ready, timeout=60)
    return EtcdServer(client_url=client_url, workdir=workdir, process=process)


def _write_signing_key(workdir: Path) -> tuple[Path, Path]:
    """An RSA key pair the apiserver signs and verifies ServiceAccount tokens with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = workdir / "sa.key", workdir / "sa.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    private.chmod(0o600)
    return private, public


def _version_of(current: dict[str, Any]) -> dict[str, Any]:
    return {"resourceVersion": current["metadata"]["resourceVersion"]}


@dataclass
class KubeApiServer:
    """A running kube-apiserver over an `EtcdServer`; `stop()` ends it, `restart()` bounces it."""

    url: str
    ca_file: Path
    admin_token: str
    audit_log: Path
    workdir: Path
    watch_cache: bool
    process: ManagedProcess
    _argv: list[str] = field(repr=False)

    @property
    def admin_kubeconfig(self) -> Path:
        """A kubeconfig for the admin user (group `system:masters`, which bypasses RBAC)."""
        return self.write_kubeconfig(self.admin_token, name="admin")

    def write_kubeconfig(self, token: str, *, name: str) -> Path:
        """Write a kubeconfig that authenticates with `token`; JSON, which is valid YAML."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "test",
                    "cluster": {"server": self.url, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": name, "context": {"cluster": "test", "user": name}}],
            "current-context": name,
        }
        path = self.workdir / f"kubeconfig-{name}.json"
        path.write_text(json.dumps(config, indent=2))
        return path

    def request(
        self, method: str, path: str, body: object = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """A JSON request to the apiserver (admin by default), for setting up tests.

        Raises:
            urllib.error.HTTPError: the apiserver answered with an error status.
        """
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the loopback https URL we started
            self.url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {token or self.admin_token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT, context=context) as response:  # noqa: S310
            result: dict[str, Any] = json.load(response)
            return result

    def service_account_token(
        self, namespace: str, name: str, *, expiration_seconds: int = 3600
    ) -> str:
        """Mint a token for an existing ServiceAccount through the TokenRequest API."""
        reply = self.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": expiration_seconds},
            },
        )
        token: str = reply["status"]["token"]
        return token

    def install_crds(self, crds: list[dict[str, Any]], *, timeout: float = 60.0) -> None:
        """Create (or replace) CustomResourceDefinitions and wait until each is Established.

        Raises:
            StartTimeout: a definition was not Established within `timeout` seconds.
        """
        base = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        for crd in crds:
            name = crd["metadata"]["name"]
            try:
                current = self.request("GET", f"{base}/{name}")
            except urllib.error.HTTPError as error:
                if error.code != 404:
                    raise
                self.request("POST", base, crd)
            else:
                replacement = {**crd, "metadata": {**crd["metadata"], **_version_of(current)}}
                self.request("PUT", f"{base}/{name}", replacement)
        deadline = time.monotonic() + timeout
        for crd in crds:
            name = crd["metadata"]["name"]
            self._wait_until(self._is_established, f"{base}/{name}", deadline=deadline)
            # Established is not enough: each version's storage (its watch cache) then initializes
            # and answers 429 until it has; a list that succeeds proves it is served.
            group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
            for version in crd["spec"]["versions"]:
                if version.get("served", True):
                    path = f"/apis/{group}/{version['name']}/{plural}?limit=1"
                    self._wait_until(self._answers, path, deadline=deadline)

    def _is_established(self, path: str) -> bool:
        conditions = self.request("GET", path).get("status", {}).get("conditions") or []
        return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

    def _answers(self, path: str) -> bool:
        try:
            self.request("GET", path)
        except urllib.error.HTTPError as error:
            if error.code in {404, 429, 503}:
                return False
            raise
        return True

    @staticmethod
    def _wait_until(check: Callable[[str], bool], path: str, *, deadline: float) -> None:
        while not check(path):
            if time.monotonic() > deadline:
                raise StartTimeout(f"the apiserver does not serve {path} yet")
            time.sleep(0.1)

    def audit_events(self) -> list[dict[str, Any]]:
        """Every audit event logged so far (one JSON object per line)."""
        if not self.audit_log.exists():
            return []
        lines = self.audit_log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def is_ready(self) -> bool:
        """Whether `/readyz` answers ok."""
        if not self.ca_file.exists():
            return False
        try:
            request = urllib.request.Request(  # noqa: S310
                self.url + "/readyz", headers={"Authorization": f"Bearer {self.admin_token}"}
            )
            context = ssl.create_default_context(cafile=str(self.ca_file))
            with urllib.request.urlopen(request, timeout=2, context=context) as response:  # noqa: S310
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def restart(self, *, start_timeout: float = 120.0) -> None:
        """Stop the apiserver and start it again on the same port and etcd."""
        self.process.stop()
        self.process = ManagedProcess(self.process.name, self._argv, log_path=self.process.log_path)
        self.process.start()
        self.process.wait_until_ready(self.is_ready, timeout=start_timeout)

    def stop(self) -> None:
        """Stop the apiserver by PID."""
        self.process.stop()

    def kill(self) -> None:
        """Kill the apiserver at once (SIGKILL), as a crash would; `stop()` is then a no-op."""
        self.process.kill()


def start_kube_apiserver(
    *,
    workdir: Path,
    etcd: EtcdServer,
    watch_cache: bool = True,
    start_timeout: float = 120.0,
    progress: Progress = _ignore,
) -> KubeApiServer:
    """Start kube-apiserver on 127.0.0.1 and a free port, storing in `etcd`."""
    binary = ensure_kube_apiserver(progress=progress)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    admin_token = secrets.token_urlsafe(32)
    tokens = workdir / "tokens.csv"
    tokens.write_text(f'{admin_token},{ADMIN_USER},{ADMIN_USER},"system:masters"\n')
    tokens.chmod(0o600)
    signing_key, verifying_key = _write_signing_key(workdir)
    audit_policy = workdir / "audit-policy.yaml"
    audit_policy.write_text(_AUDIT_POLICY)
    cert_dir = workdir / "certs"
    argv = [
        str(binary),
        f"--etcd-servers={etcd.client_url}",
        # Each apiserver gets its own prefix, so two of them can share one etcd.
        f"--etcd-prefix=/registry-{secrets.token_hex(4)}",
        f"--secure-port={port}",
        "--bind-address=127.0.0.1",
        # Without it start-up fails on a host with no default route.
        "--advertise-address=127.0.0.1",
        # A loopback advertise address otherwise loops on endpoint errors.
        "--endpoint-reconciler-type=none",
        f"--cert-dir={cert_dir}",
        "--authorization-mode=RBAC",
        "--service-cluster-ip-range=10.0.0.0/24",
        # No controller-manager creates default ServiceAccounts for the admission plugin to find.
        "--disable-admission-plugins=ServiceAccount",
        f"--service-account-issuer=https://127.0.0.1:{port}/",
        f"--service-account-key-file={verifying_key}",
        f"--service-account-signing-key-file={signing_key}",
        f"--token-auth-file={tokens}",
        f"--audit-policy-file={audit_policy}",
        f"--audit-log-path={workdir / 'audit.log'}",
        "--audit-log-format=json",
        f"--watch-cache={'true' if watch_cache else 'false'}",
        "--profiling=false",
        "--v=0",
    ]
    process = ManagedProcess(
        f"kube-apiserver {KUBERNETES_VERSION}", argv, log_path=workdir / "kube-apiserver.log"
    )
    server = KubeApiServer(
        url=f"https://127.0.0.1:{port}",
        ca_file=cert_dir / "apiserver.crt",
        admin_token=admin_token,
        audit_log=workdir / "audit.log",
        workdir=workdir,
        watch_cache=watch_cache,
        process=process,
        _argv=argv,
    )
    progress(f"Starting kube-apiserver {KUBERNETES_VERSION} on {server.url}…")
    process.start()
    process.wait_until_ready(server.is_ready, timeout=start_timeout)
    return server


@dataclass
class KubernetesControlPlane:
    """etcd and kube-apiserver together; `stop()` ends both (safe to call twice)."""

    etcd: EtcdServer
    apiserver: KubeApiServer

    def stop(self) -> None:
        """Stop the apiserver, then etcd."""
        self.apiserver.stop()
        self.etcd.stop()

    def __enter__(self) -> "KubernetesControlPlane":
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_kubernetes(
    *, workdir: Path, watch_cache: bool = True, progress: Progress = _ignore
) -> KubernetesControlPlane:
    """Start etcd and a kube-apiserver over it, under `workdir`."""
    etcd = start_etcd(workdir=workdir / "etcd", progress=progress)
    try:
        apiserver = start_kube_apiserver(
            workdir=workdir / "apiserver", etcd=etcd, watch_cache=watch_cache, progress=progress
        )
    except BaseException:
        etcd.stop()
        raise
    return KubernetesControlPlane(etcd=etcd, apiserver=apiserver)
