"""The JWKS cache's rules, over httpx's MockTransport and a fake clock (no sleeping).

The same rules run against a real HTTP server in tests/integration/events_api/auth/.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from events_api.auth.errors import AuthUnavailable, Unauthenticated
from events_api.auth.jwks import MAX_JWKS_BYTES, JwksCache, JwksFetchError, parse_jwks
from unit.events_api.auth.fakes import FakeClock
from unit.events_api.auth.signing import ec_key, jwks_of, rsa_key

URL = "https://issuer.example/jwks"
OLD = rsa_key("old")
NEW = ec_key("new")
INTERVAL = 30.0
TTL = 600.0

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


class Provider:
    """What the fake JWKS endpoint answers, and how often it was asked."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = jwks_of(OLD)
        self.failure: Exception | None = None
        self.status = 200
        self.gate: asyncio.Event | None = None
        self.requests = 0
        self.asked = asyncio.Event()

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.asked.set()
        assert request.url == URL
        assert request.extensions["timeout"] == {
            "connect": 2.0,
            "read": 5.0,
            "write": 5.0,
            "pool": 5.0,
        }
        if self.gate is not None:
            await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        return httpx.Response(self.status, json=self.document)


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def cache(provider: Provider, clock: FakeClock) -> AsyncIterator[JwksCache]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider.handle)) as client:
        cache = JwksCache(
            client,
            URL,
            connect_timeout=2.0,
            timeout=5.0,
            min_refresh_interval=INTERVAL,
            ttl=TTL,
            clock=clock,
        )
        yield cache
        await cache.aclose()


async def test_the_first_lookup_fetches_and_later_ones_use_the_cache(
    cache: JwksCache, provider: Provider
) -> None:
    assert provider.requests == 0
    first = await cache.get_key("old")
    again = await cache.get_key("old")
    assert first is again
    assert first.algorithm_name == "RS256"
    assert provider.requests == 1


async def test_an_unknown_kid_refreshes_at_most_once_per_interval(
    cache: JwksCache, provider: Provider, clock: FakeClock
) -> None:
    await cache.get_key("old")
    provider.document = jwks_of(OLD, NEW)
    # Within the interval of the first fetch: no request, the kid is simply unknown.
    with pytest.raises(Unauthenticated) as caught:
        await cache.get_key("new")
    assert caught.value.code == "invalid_token"
    assert provider.requests == 1

    clock.advance(INTERVAL)
    assert (await cache.get_key("new")).algorithm_name == "ES256"
    assert provider.requests == 2


async def test_a_flood_of_made_up_kids_costs_one_fetch_per_interval(
    cache: JwksCache, provider: Provider, clock: FakeClock
) -> None:
    await cache.get_key("old")
    for round_ in range(1, 4):
        clock.advance(INTERVAL)
        for attempt in range(50):
            with pytest.raises(Unauthenticated):
                await cache.get_key(f"made-up-{round_}-{attempt}")
        assert provider.requests == 1 + round_
    assert (await cache.get_key("old")) is not None


async def test_the_key_set_is_refetched_after_its_ttl(
    cache: JwksCache, provider: Provider, clock: FakeClock
) -> None:
    await cache.get_key("old")
    clock.advance(TTL - 1)
    await cache.get_key("old")
    assert provider.requests == 1

    provider.document = jwks_of(NEW)
    clock.advance(1)
    assert await cache.get_key("new")
    assert provider.requests == 2
    # The rotated-out key is gone with the old key set.
    with pytest.raises(Unauthenticated):
        await cache.get_key("old")
    assert provider.requests == 2


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.ReadError("reset")],
)
async def test_endpoint_down_keeps_known_keys_and_unknown_kids_are_unavailable(
    cache: JwksCache, provider: Provider, clock: FakeClock, failure: Exception
) -> None:
    await cache.get_key("old")
    provider.failure = failure
    clock.advance(TTL)
    assert await cache.get_key("old")
    assert provider.requests == 2

    with pytest.raises(AuthUnavailable) as caught:
        await cache.get_key("new")
    assert not caught.value.permanent
    assert caught.value.retry_after_seconds == INTERVAL
    assert isinstance(caught.value.__cause__, JwksFetchError)
    assert isinstance(caught.value.__cause__.__cause__, type(failure))
    assert provider.requests == 2

    clock.advance(INTERVAL / 2)
    with pytest.raises(AuthUnavailable) as caught:
        await cache.get_key("new")
    assert caught.value.retry_after_seconds == INTERVAL / 2
    assert provider.requests == 2


async def test_a_first_fetch_failure_is_unavailable_until_the_endpoint_is_back(
    cache: JwksCache, provider: Provider, clock: FakeClock
) -> None:
    provider.failure = httpx.ConnectError("refused")
    with pytest.raises(AuthUnavailable):
        await cache.get_key("old")
    provider.failure = None
    with pytest.raises(AuthUnavailable):
        await cache.get_key("old")
    assert provider.requests == 1
    clock.advance(INTERVAL)
    assert await cache.get_key("old")
    assert provider.requests == 2


@pytest.mark.parametrize(
    ("status", "document", "reason"),
    [
        (503, jwks_of(OLD), "HTTP 503"),
        (302, jwks_of(OLD), "HTTP 302"),
        (200, {"keys": []}, "no usable signing key"),
        (200, {"nokeys": 1}, "not a JWKS document"),
        (200, {"keys": [{"kty": "oct", "kid": "old", "k": "c2VjcmV0"}]}, "no usable signing key"),
    ],
)
async def test_a_bad_answer_counts_as_the_endpoint_down(
    cache: JwksCache, provider: Provider, status: int, document: dict[str, Any], reason: str
) -> None:
    provider.status, provider.document = status, document
    with pytest.raises(AuthUnavailable) as caught:
        await cache.get_key("old")
    assert reason in str(caught.value.__cause__)


async def test_an_oversized_key_set_is_refused(provider: Provider, clock: FakeClock) -> None:
    async def huge(request: httpx.Request) -> httpx.Response:
        provider.requests += 1
        return httpx.Response(200, content=b" " * (MAX_JWKS_BYTES + 1))

    async with httpx.AsyncClient(transport=httpx.MockTransport(huge)) as client:
        cache = JwksCache(client, URL, clock=clock)
        with pytest.raises(AuthUnavailable) as caught:
            await cache.get_key("old")
    assert "larger than" in str(caught.value.__cause__)


async def test_a_hanging_endpoint_hits_the_deadline(clock: FakeClock) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async with httpx.AsyncClient(transport=httpx.MockTransport(hang)) as client:
        cache = JwksCache(client, URL, timeout=0.01, clock=clock)
        with pytest.raises(AuthUnavailable) as caught:
            await cache.get_key("old")
    assert "no answer within 0.01 s" in str(caught.value.__cause__)


async def test_concurrent_lookups_share_one_fetch(cache: JwksCache, provider: Provider) -> None:
    provider.gate = asyncio.Event()
    lookups = [asyncio.create_task(cache.get_key(kid)) for kid in ["old", "old", "x", "old"] * 5]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    provider.gate.set()
    results = await asyncio.gather(*lookups, return_exceptions=True)
    assert provider.requests == 1
    assert sum(isinstance(result, Unauthenticated) for result in results) == 5
    assert all(not isinstance(result, BaseException) for result in results[::4])


async def test_a_cancelled_waiter_does_not_cancel_the_shared_fetch(
    cache: JwksCache, provider: Provider
) -> None:
    provider.gate = asyncio.Event()
    impatient = asyncio.create_task(cache.get_key("old"))
    patient = asyncio.create_task(cache.get_key("old"))
    await asyncio.sleep(0)
    impatient.cancel()
    provider.gate.set()
    assert await patient
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert provider.requests == 1


async def test_aclose_cancels_an_inflight_fetch_and_is_idempotent(
    cache: JwksCache, provider: Provider
) -> None:
    provider.gate = asyncio.Event()
    waiter = asyncio.create_task(cache.get_key("old"))
    await provider.asked.wait()
    await cache.aclose()
    await cache.aclose()
    with pytest.raises(asyncio.CancelledError):
        await waiter


def test_parse_jwks_keeps_signing_keys_with_a_kid() -> None:
    keys: list[dict[str, Any]] = [
        OLD.public_jwk,
        NEW.public_jwk,
        {**rsa_key("enc").public_jwk, "use": "enc"},
        {key: value for key, value in rsa_key("nokid").public_jwk.items() if key != "kid"},
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ"},
        {"kty": "RSA", "kid": "broken"},
    ]
    parsed = parse_jwks(json.dumps({"keys": keys}).encode())
    assert set(parsed) == {"old", "new"}
