"""JWT authentication against a real JWKS endpoint: rotation, outages and the refresh limit.

The endpoint is a real HTTP server on 127.0.0.1 and the client a real httpx client; only time is
fake, so "30 seconds later" is a clock move, not a wait.
"""

import asyncio
from collections.abc import AsyncIterator
from http import HTTPStatus

import httpx
import pytest

from events_api.auth import (
    Authenticator,
    AuthMode,
    AuthSettings,
    AuthUnavailable,
    MissingScope,
    Scope,
    Unauthenticated,
    open_authenticator,
    require_scope,
)
from integration.events_api.auth.jwks_server import JwksServer
from unit.events_api.auth.fakes import FakeClock
from unit.events_api.auth.signing import AUDIENCE, ISSUER, SigningKey, claims, ec_key, rsa_key, sign

INTERVAL = 30.0
TTL = 600.0
OLD = rsa_key("2024-old")
NEW = ec_key("2025-new")
NEVER_PUBLISHED = rsa_key("never-published")


@pytest.fixture
async def authenticator(
    jwks_server: JwksServer, http_client: httpx.AsyncClient, clock: FakeClock
) -> AsyncIterator[Authenticator]:
    settings = AuthSettings(
        mode=AuthMode.JWT,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwks_url=jwks_server.url,
        jwks_min_refresh_seconds=INTERVAL,
        jwks_ttl_seconds=TTL,
    )
    async with open_authenticator(settings, http_client=http_client, clock=clock) as auth:
        yield auth


def bearer(key: SigningKey, **overrides: object) -> str:
    return f"Bearer {sign(key, claims(**overrides))}"


async def test_a_token_signed_by_a_rotated_in_key_is_accepted_after_a_refresh(
    authenticator: Authenticator, jwks_server: JwksServer, clock: FakeClock
) -> None:
    jwks_server.publish(OLD)
    assert (await authenticator.authenticate(bearer(OLD))).subject == "user-1"
    assert jwks_server.requests == 1

    jwks_server.publish(OLD, NEW)
    clock.advance(INTERVAL)
    assert (await authenticator.authenticate(bearer(NEW))).subject == "user-1"
    assert (await authenticator.authenticate(bearer(OLD))).subject == "user-1"
    assert jwks_server.requests == 2

    # The old key is withdrawn; the next scheduled refresh stops accepting it.
    jwks_server.publish(NEW)
    clock.advance(TTL)
    with pytest.raises(Unauthenticated) as caught:
        await authenticator.authenticate(bearer(OLD))
    assert caught.value.code == "invalid_token"
    assert (await authenticator.authenticate(bearer(NEW))).subject == "user-1"
    assert jwks_server.requests == 3


async def test_a_rotated_in_key_right_after_a_fetch_waits_for_the_interval(
    authenticator: Authenticator, jwks_server: JwksServer, clock: FakeClock
) -> None:
    jwks_server.publish(OLD)
    await authenticator.authenticate(bearer(OLD))
    jwks_server.publish(OLD, NEW)
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(bearer(NEW))
    assert jwks_server.requests == 1
    clock.advance(INTERVAL)
    assert await authenticator.authenticate(bearer(NEW))


@pytest.mark.parametrize("outage", ["stopped", "http-503"])
async def test_endpoint_down_keeps_known_keys_and_unknown_kids_are_unavailable(
    authenticator: Authenticator, jwks_server: JwksServer, clock: FakeClock, outage: str
) -> None:
    jwks_server.publish(OLD)
    await authenticator.authenticate(bearer(OLD))
    if outage == "stopped":
        await asyncio.to_thread(jwks_server.stop)
    else:
        jwks_server.answer_with(HTTPStatus.SERVICE_UNAVAILABLE)

    clock.advance(TTL)
    assert (await authenticator.authenticate(bearer(OLD))).subject == "user-1"
    with pytest.raises(AuthUnavailable) as caught:
        await authenticator.authenticate(bearer(NEW))
    assert not caught.value.permanent
    assert caught.value.retry_after_seconds == INTERVAL

    # The endpoint recovers, with the new key; the next allowed fetch picks it up.
    jwks_server.publish(OLD, NEW)
    if outage == "stopped":
        await asyncio.to_thread(jwks_server.start)
    else:
        jwks_server.answer_with(HTTPStatus.OK)
    clock.advance(INTERVAL)
    assert (await authenticator.authenticate(bearer(NEW))).subject == "user-1"


async def test_endpoint_down_from_the_start_is_unavailable_not_unauthenticated(
    authenticator: Authenticator, jwks_server: JwksServer
) -> None:
    await asyncio.to_thread(jwks_server.stop)
    with pytest.raises(AuthUnavailable):
        await authenticator.authenticate(bearer(OLD))


async def test_a_flood_of_unknown_kids_fetches_at_most_once_per_interval(
    authenticator: Authenticator, jwks_server: JwksServer, clock: FakeClock
) -> None:
    jwks_server.publish(OLD)
    await authenticator.authenticate(bearer(OLD))
    tokens = [
        f"Bearer {sign(NEVER_PUBLISHED, claims(), kid=f'made-up-{index}')}" for index in range(100)
    ]
    for round_ in range(1, 4):
        clock.advance(INTERVAL)
        outcomes = await asyncio.gather(
            *(authenticator.authenticate(token) for token in tokens), return_exceptions=True
        )
        assert all(isinstance(outcome, Unauthenticated) for outcome in outcomes)
        # A second flood in the same interval costs nothing.
        for token in tokens[:10]:
            with pytest.raises(Unauthenticated):
                await authenticator.authenticate(token)
        assert jwks_server.requests == 1 + round_


async def test_concurrent_first_requests_share_one_fetch(
    authenticator: Authenticator, jwks_server: JwksServer
) -> None:
    jwks_server.publish(OLD)
    principals = await asyncio.gather(*(authenticator.authenticate(bearer(OLD)) for _ in range(20)))
    assert {principal.subject for principal in principals} == {"user-1"}
    assert jwks_server.requests == 1


async def test_tenant_and_scopes_come_through_for_the_routes(
    authenticator: Authenticator, jwks_server: JwksServer
) -> None:
    jwks_server.publish(OLD)
    alice = await authenticator.authenticate(bearer(OLD, tenant="team-a", scope="events:read"))
    bob = await authenticator.authenticate(bearer(OLD, sub="bob", tenant="team-b"))
    # Cross-tenant isolation is the store's job; it needs the two callers' tenants apart.
    assert (alice.tenant, bob.tenant) == ("team-a", "team-b")
    require_scope(alice, Scope.EVENTS_READ)
    with pytest.raises(MissingScope) as caught:
        require_scope(alice, Scope.PIPELINES_WRITE)
    assert caught.value.scope is Scope.PIPELINES_WRITE


async def test_the_authenticator_can_own_its_http_client(
    jwks_server: JwksServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    jwks_server.publish(OLD)
    settings = AuthSettings(
        mode=AuthMode.JWT, jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwks_url=jwks_server.url
    )
    async with open_authenticator(settings, clock=clock) as authenticator:
        assert (await authenticator.authenticate(bearer(OLD))).tenant == "team-a"
    assert jwks_server.requests == 1
