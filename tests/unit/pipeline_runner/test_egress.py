"""The egress guard checks every resolved address and pins the request to the checked one."""

import ipaddress

import httpx
import pytest

from pipeline_models import EgressPolicy
from pipeline_runner.egress import (
    EgressGuardTransport,
    IPAddress,
    SystemResolver,
    kubernetes_api_addresses,
    policy_check,
)
from pipeline_runner.errors import EgressDenied


class FixedResolver:
    def __init__(self, *addresses: str) -> None:
        self.addresses = [ipaddress.ip_address(text) for text in addresses]
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return self.addresses


class Capture:
    """The transport behind the guard: records what would go on the wire."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(204)


async def send(url: str, resolver: FixedResolver, policy: EgressPolicy) -> Capture:
    capture = Capture()
    guard = EgressGuardTransport(
        httpx.MockTransport(capture), resolver=resolver, check=policy_check(policy)
    )
    async with httpx.AsyncClient(transport=guard) as client:
        await client.get(url)
    return capture


async def test_the_request_goes_to_the_checked_address_under_its_name() -> None:
    capture = await send(
        "https://api.example.com:8443/v1?q=1", FixedResolver("93.184.215.14"), EgressPolicy()
    )

    [request] = capture.requests
    assert str(request.url) == "https://93.184.215.14:8443/v1?q=1"
    assert request.headers["host"] == "api.example.com:8443"
    assert request.extensions["sni_hostname"] == "api.example.com"


@pytest.mark.parametrize(
    "addresses",
    [
        ("169.254.169.254",),
        ("127.0.0.1",),
        ("10.0.0.8",),
        ("93.184.215.14", "10.0.0.8"),
        ("::ffff:127.0.0.1",),
    ],
)
async def test_a_name_resolving_to_any_denied_address_is_refused(addresses: tuple[str]) -> None:
    with pytest.raises(EgressDenied):
        await send("http://rebind.example.com/", FixedResolver(*addresses), EgressPolicy())


async def test_the_policy_allow_list_opens_private_addresses() -> None:
    policy = EgressPolicy(allow_hosts=("*.svc.cluster.local",))

    capture = await send(
        "http://orders.team-a.svc.cluster.local/", FixedResolver("10.96.0.20"), policy
    )

    assert len(capture.requests) == 1


async def test_an_ip_literal_is_checked_without_resolving() -> None:
    resolver = FixedResolver()

    with pytest.raises(EgressDenied, match="metadata"):
        await send("http://169.254.169.254/latest", resolver, EgressPolicy())

    assert resolver.asked == []


async def test_the_kubernetes_api_address_is_refused() -> None:
    check = policy_check(
        EgressPolicy(allow_private_networks=True),
        kubernetes_api_addresses=kubernetes_api_addresses({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}),
    )

    assert check("anything.example", ipaddress.ip_address("10.96.0.1")) is not None
    assert check("anything.example", ipaddress.ip_address("10.96.0.2")) is None
    assert kubernetes_api_addresses({"KUBERNETES_SERVICE_HOST": "kubernetes"}) == frozenset()


async def test_the_system_resolver_resolves_localhost() -> None:
    addresses = await SystemResolver().resolve("localhost", 80)

    assert (
        ipaddress.ip_address("127.0.0.1") in addresses or ipaddress.ip_address("::1") in addresses
    )
