"""The factory builds the authenticator the settings ask for; both kinds read the header."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from events_api.auth import (
    AuthConfigError,
    AuthMode,
    AuthSettings,
    JwtAuthenticator,
    Scope,
    StaticTokenAuthenticator,
    Unauthenticated,
    create_authenticator,
    hash_token,
    open_authenticator,
    require_scope,
)
from unit.events_api.auth.fakes import FakeClock
from unit.events_api.auth.signing import (
    AUDIENCE,
    HS256_SECRET,
    ISSUER,
    claims,
    jwks_of,
    rsa_key,
    sign,
    sign_hs256,
)

KEY = rsa_key("key-1")
JWKS_URL = "https://issuer.example/jwks"


def jwt_settings(**overrides: Any) -> AuthSettings:
    fields: dict[str, Any] = {
        "mode": AuthMode.JWT,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "jwks_url": JWKS_URL,
    }
    return AuthSettings(**(fields | overrides))


async def test_static_mode_reads_the_token_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    entry = {"name": "bot", "sha256": hash_token("tok"), "tenant": "t", "scopes": ["events:read"]}
    path.write_text(json.dumps({"tokens": [entry]}))
    settings = AuthSettings(static_tokens_file=str(path))
    async with open_authenticator(settings) as authenticator:
        assert isinstance(authenticator, StaticTokenAuthenticator)
        principal = await authenticator.authenticate("Bearer tok")
    require_scope(principal, Scope.EVENTS_READ)


async def test_static_mode_with_a_bad_file_stops_the_start(tmp_path: Path) -> None:
    settings = AuthSettings(static_tokens_file=str(tmp_path / "absent.json"))
    with pytest.raises(AuthConfigError, match="PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE"):
        await create_authenticator(settings)


async def test_jwt_mode_fetches_keys_with_the_given_client() -> None:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=jwks_of(KEY))

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client,
        open_authenticator(jwt_settings(), http_client=client, clock=FakeClock()) as auth,
    ):
        assert isinstance(auth, JwtAuthenticator)
        principal = await auth.authenticate(f"Bearer {sign(KEY, claims())}")
        assert principal.tenant == "team-a"
        with pytest.raises(Unauthenticated) as caught:
            await auth.authenticate(None)
        assert caught.value.code == "missing_token"
    assert [str(request.url) for request in requests] == [JWKS_URL]


async def test_jwt_mode_opens_and_closes_its_own_client() -> None:
    settings = jwt_settings(jwks_url="http://127.0.0.1:9/jwks")
    async with open_authenticator(settings) as authenticator:
        assert isinstance(authenticator, JwtAuthenticator)


async def test_development_hs256_mode_needs_no_client() -> None:
    settings = jwt_settings(jwks_url=None, allow_hs256=True, hs256_secret=HS256_SECRET)
    async with open_authenticator(settings) as authenticator:
        principal = await authenticator.authenticate(f"Bearer {sign_hs256(claims())}")
    assert principal.subject == "user-1"


async def test_a_jwks_url_without_a_client_is_a_configuration_error() -> None:
    with pytest.raises(AuthConfigError, match="HTTP client"):
        await create_authenticator(jwt_settings())
