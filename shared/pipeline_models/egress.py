"""Where a pipeline's HTTP steps may connect: the runner's egress policy and its decision.

Pipelines are tenant code that runs inside the cluster, so an ``http`` step could otherwise
reach what the tenant must not: the node (loopback), the cloud's instance metadata service
(``169.254.169.254``, AWS's IPv6 ``fd00:ec2::254``, which hand out node credentials), the
Kubernetes API, and every in-cluster service on private addresses. The default is safe:

* always denied, whatever the policy: link-local (which holds the IPv4 metadata address), the
  metadata addresses, unspecified and multicast addresses;
* loopback unless ``allow_loopback``: only for runners on a developer's machine (the local
  trigger backend), where the services a pipeline calls listen on 127.0.0.1. In a pod, loopback
  is the pod's own sidecars, so the Knative backend refuses this setting;
* the Kubernetes API (its service names, and the addresses the runner learns from
  ``KUBERNETES_SERVICE_HOST``) unless ``deny_kubernetes_api`` is turned off;
* private ranges (RFC 1918, CGNAT ``100.64.0.0/10``, IPv6 unique-local ``fc00::/7``) unless
  ``allow_private_networks``, or unless the host or address is in the allow-lists;
* ``deny_cidrs`` always.

The runner must decide on the *resolved* address it actually connects to (and re-check after
redirects), or DNS rebinding defeats the policy; this module only decides.
"""

import ipaddress
from typing import Annotated, Final

import msgspec

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES: Final = frozenset(
    ipaddress.ip_address(text) for text in ("169.254.169.254", "fd00:ec2::254")
)
LOOPBACK_NETWORKS: Final = tuple(ipaddress.ip_network(text) for text in ("127.0.0.0/8", "::1/128"))
ALWAYS_DENIED_NETWORKS: Final = tuple(
    ipaddress.ip_network(text)
    for text in (
        "0.0.0.0/8",
        "169.254.0.0/16",
        "224.0.0.0/4",
        "255.255.255.255/32",
        "::/128",
        "fe80::/10",
        "ff00::/8",
    )
)
PRIVATE_NETWORKS: Final = tuple(
    ipaddress.ip_network(text)
    for text in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
KUBERNETES_API_HOSTS: Final = frozenset(
    {"kubernetes", "kubernetes.default", "kubernetes.default.svc"}
)
"""Service names of the Kubernetes API; any ``kubernetes.default.svc.<domain>`` also matches."""

HostPattern = Annotated[str, msgspec.Meta(min_length=1, max_length=253)]


class EgressPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Which destinations ``http`` steps may reach (see the module docstring)."""

    allow_private_networks: bool = False
    """Let pipelines reach private addresses (in-cluster services, VPC hosts)."""
    deny_kubernetes_api: bool = True
    """Refuse the Kubernetes API's names and service addresses."""
    allow_hosts: tuple[HostPattern, ...] = ()
    """Host names allowed even on private addresses: exact, or ``*.example.com`` for
    subdomains. Never overrides the always-denied addresses."""
    allow_cidrs: tuple[str, ...] = ()
    """Networks (``10.1.0.0/16``) allowed even though private."""
    deny_cidrs: tuple[str, ...] = ()
    """Networks refused in any case."""
    allow_loopback: bool = False
    """Let pipelines reach 127.0.0.0/8 and ::1: development on one machine only."""


def parse_networks(texts: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """Parse CIDR strings; raise ValueError naming the bad one."""
    networks: list[IPNetwork] = []
    for text in texts:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as error:
            raise ValueError(f"{text!r} is not an IP network in CIDR notation") from error
    return tuple(networks)


def egress_denial_reason(
    policy: EgressPolicy,
    *,
    host: str,
    address: IPAddress,
    kubernetes_api_addresses: frozenset[IPAddress] = frozenset(),
) -> str | None:
    """Why a connection to ``host`` at ``address`` is refused, or None when it is allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    name = host.lower().rstrip(".")
    if reason := _denied_reason(policy, name, address, kubernetes_api_addresses):
        return reason
    allowed = _host_allowed(policy, name) or any(
        address in network for network in parse_networks(policy.allow_cidrs)
    )
    private = any(address in network for network in PRIVATE_NETWORKS)
    if private and not allowed and not policy.allow_private_networks:
        return f"{address} is a private address and private networks are not allowed"
    return None


def _denied_reason(
    policy: EgressPolicy,
    name: str,
    address: IPAddress,
    kubernetes_api_addresses: frozenset[IPAddress],
) -> str | None:
    """Reasons no allow-list can override."""
    if policy.deny_kubernetes_api and (
        name in KUBERNETES_API_HOSTS
        or name.startswith("kubernetes.default.svc.")
        or address in kubernetes_api_addresses
    ):
        return "pipelines may not call the Kubernetes API"
    if address in METADATA_ADDRESSES:
        return f"{address} is the cloud metadata service"
    if any(address in network for network in ALWAYS_DENIED_NETWORKS):
        return f"{address} is a link-local, unspecified or multicast address"
    if not policy.allow_loopback and any(address in network for network in LOOPBACK_NETWORKS):
        return f"{address} is a loopback address and loopback is not allowed"
    if any(address in network for network in parse_networks(policy.deny_cidrs)):
        return f"{address} is in a denied network"
    return None


def _host_allowed(policy: EgressPolicy, name: str) -> bool:
    for raw_pattern in policy.allow_hosts:
        pattern = raw_pattern.lower().rstrip(".")
        if pattern.startswith("*."):
            if name.endswith(pattern[1:]):
                return True
        elif name == pattern:
            return True
    return False
