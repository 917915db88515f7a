"""Enforcing the egress policy on the address an http step actually connects to.

:func:`pipeline_models.egress_denial_reason` decides; this module applies it where it cannot be
fooled. :class:`EgressGuardTransport` wraps httpx's transport: it resolves the request's host,
checks **every** resolved address (a name that resolves to one allowed and one denied address is
refused), then *pins* the request to the checked address — the URL's host becomes the IP, while
the ``Host`` header and the TLS server name (``sni_hostname``, so certificates are still checked
against the name) stay the original host. A DNS answer that changes between the check and the
connection (DNS rebinding) therefore cannot redirect the request. Redirects are never followed
(the client is built with ``follow_redirects=False``), and proxies from the environment are
ignored, so no request leaves by a path that was not checked.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Mapping
from typing import Protocol

import httpx

from pipeline_models import EgressPolicy, egress_denial_reason
from pipeline_runner.errors import EgressDenied, UpstreamUnavailable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
EgressCheck = Callable[[str, IPAddress], str | None]
"""``(host, address) -> reason`` when the connection is refused, None when allowed."""


class Resolver(Protocol):
    """Turns a host name into the addresses to connect to."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Resolve ``host``; raise :class:`UpstreamUnavailable` when it cannot be resolved."""
        ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo``), bounded by a timeout."""

    def __init__(self, *, timeout_seconds: float = 10.0) -> None:
        self._timeout = timeout_seconds

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Resolve ``host`` with ``getaddrinfo`` (TCP), in the resolver's order, de-duplicated."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as error:
            raise UpstreamUnavailable(f"resolving {host!r} timed out") from error
        except socket.gaierror as error:
            # In a cluster a missing name is often a service not created yet: retry later.
            raise UpstreamUnavailable(f"cannot resolve {host!r}: {error.strerror}") from error
        addresses: list[IPAddress] = []
        for *_, sockaddr in infos:
            address = ipaddress.ip_address(sockaddr[0])
            if address not in addresses:
                addresses.append(address)
        return addresses


def policy_check(
    policy: EgressPolicy, *, kubernetes_api_addresses: frozenset[IPAddress] = frozenset()
) -> EgressCheck:
    """The production check: the operator's policy, plus the Kubernetes API's addresses."""

    def check(host: str, address: IPAddress) -> str | None:
        return egress_denial_reason(
            policy, host=host, address=address, kubernetes_api_addresses=kubernetes_api_addresses
        )

    return check


def kubernetes_api_addresses(env: Mapping[str, str]) -> frozenset[IPAddress]:
    """The Kubernetes API's service address, from ``KUBERNETES_SERVICE_HOST`` when it is an IP."""
    try:
        return frozenset({ipaddress.ip_address(env.get("KUBERNETES_SERVICE_HOST", ""))})
    except ValueError:
        return frozenset()


class EgressGuardTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks and pins the destination address of every request."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, *, resolver: Resolver, check: EgressCheck
    ) -> None:
        self._inner = inner
        self._resolver = resolver
        self._check = check

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Resolve, check every address, then send to the first one (see module docstring)."""
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await self._resolver.resolve(host, port)
        if not addresses:
            raise UpstreamUnavailable(f"{host!r} resolved to no address")
        for address in addresses:
            if reason := self._check(host, address):
                raise EgressDenied(f"the egress policy refuses {host!r} ({address}): {reason}")
        request.url = request.url.copy_with(host=str(addresses[0]))
        request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the wrapped transport's connections."""
        await self._inner.aclose()


def guarded_client(
    *, resolver: Resolver, check: EgressCheck, max_connections: int = 100
) -> httpx.AsyncClient:
    """The http steps' client: guarded transport, no redirects, no proxies from the environment.

    Timeouts are given per request by the step (see :mod:`pipeline_runner.steps.http`).
    """
    inner = httpx.AsyncHTTPTransport(
        trust_env=False, limits=httpx.Limits(max_connections=max_connections)
    )
    return httpx.AsyncClient(
        transport=EgressGuardTransport(inner, resolver=resolver, check=check),
        follow_redirects=False,
        trust_env=False,
    )
