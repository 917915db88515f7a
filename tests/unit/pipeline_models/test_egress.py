"""The egress policy's decisions."""

import ipaddress

import pytest

from pipeline_models import EgressPolicy, egress_denial_reason

DEFAULT = EgressPolicy()


def decide(policy: EgressPolicy, host: str, address: str, *, api: str | None = None) -> str | None:
    api_addresses = frozenset({ipaddress.ip_address(api)}) if api else frozenset()
    return egress_denial_reason(
        policy,
        host=host,
        address=ipaddress.ip_address(address),
        kubernetes_api_addresses=api_addresses,
    )


@pytest.mark.parametrize(
    ("policy", "host", "address", "fragment"),
    [
        (DEFAULT, "example.com", "93.184.216.34", None),
        (DEFAULT, "example.com", "2606:2800:220:1::1", None),
        (DEFAULT, "localhost", "127.0.0.1", "loopback"),
        (DEFAULT, "x", "::1", "loopback"),
        (DEFAULT, "x", "::ffff:127.0.0.1", "loopback"),
        (DEFAULT, "metadata", "169.254.169.254", "metadata"),
        (DEFAULT, "metadata", "fd00:ec2::254", "metadata"),
        (DEFAULT, "x", "169.254.10.1", "link-local"),
        (DEFAULT, "x", "fe80::1", "link-local"),
        (DEFAULT, "x", "0.0.0.0", "unspecified"),  # noqa: S104 - an address under test
        (DEFAULT, "kubernetes.default.svc", "93.184.216.34", "Kubernetes API"),
        (DEFAULT, "KUBERNETES.default.svc.cluster.local.", "93.184.216.34", "Kubernetes API"),
        (DEFAULT, "svc", "10.0.0.1", "private"),
        (DEFAULT, "svc", "172.20.0.1", "private"),
        (DEFAULT, "svc", "192.168.1.1", "private"),
        (DEFAULT, "svc", "100.64.0.1", "private"),
        (DEFAULT, "svc", "fd12::1", "private"),
        (EgressPolicy(allow_private_networks=True), "svc", "10.0.0.1", None),
        (EgressPolicy(allow_private_networks=True), "x", "169.254.169.254", "metadata"),
        (
            EgressPolicy(allow_hosts=("svc.ns.svc.cluster.local",)),
            "svc.ns.svc.cluster.local",
            "10.0.0.1",
            None,
        ),
        (EgressPolicy(allow_hosts=("*.internal",)), "a.b.internal", "10.0.0.1", None),
        (EgressPolicy(allow_hosts=("*.internal",)), "internal", "10.0.0.1", "private"),
        (EgressPolicy(allow_hosts=("*.internal",)), "a.internal", "127.0.0.1", "loopback"),
        (EgressPolicy(allow_cidrs=("10.1.0.0/16",)), "x", "10.1.2.3", None),
        (EgressPolicy(allow_cidrs=("10.1.0.0/16",)), "x", "10.2.0.1", "private"),
        (EgressPolicy(deny_cidrs=("93.184.0.0/16",)), "x", "93.184.216.34", "denied network"),
        (EgressPolicy(deny_kubernetes_api=False), "kubernetes", "93.184.216.34", None),
        (EgressPolicy(allow_loopback=True), "localhost", "127.0.0.1", None),
        (EgressPolicy(allow_loopback=True), "x", "::1", None),
        (EgressPolicy(allow_loopback=True), "x", "::ffff:127.0.0.1", None),
        (EgressPolicy(allow_loopback=True), "x", "169.254.169.254", "metadata"),
        (EgressPolicy(allow_loopback=True), "x", "0.0.0.0", "unspecified"),  # noqa: S104
        (EgressPolicy(allow_loopback=True), "kubernetes", "127.0.0.1", "Kubernetes API"),
    ],
)
def test_decisions(policy: EgressPolicy, host: str, address: str, fragment: str | None) -> None:
    reason = decide(policy, host, address)
    if fragment is None:
        assert reason is None
    else:
        assert reason is not None
        assert fragment in reason


def test_kubernetes_service_address_is_denied() -> None:
    reason = decide(
        EgressPolicy(allow_private_networks=True), "10.96.0.1", "10.96.0.1", api="10.96.0.1"
    )
    assert reason is not None
    assert "Kubernetes API" in reason
