"""JWT verification: algorithms, signatures, standard claims, tenant and scopes.

Keys are generated in-test; the JWKS side is a dict standing in for the cache (its own logic is
tested in test_jwks_cache.py), so these tests are about what a token must be to be accepted.
"""

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import InsecureKeyLengthWarning, PyJWK

from events_api.auth.errors import Unauthenticated
from events_api.auth.jwt_verifier import JwtVerifier
from events_api.auth.principal import Principal
from events_api.auth.scopes import Scope
from pipeline_models import TenantId
from unit.events_api.auth.signing import (
    AUDIENCE,
    HS256_SECRET,
    ISSUER,
    SigningKey,
    claims,
    ec_key,
    forge,
    forge_hmac,
    rsa_key,
    sign,
    sign_hs256,
)

RSA = rsa_key("rsa-1")
RSA_PS = rsa_key("rsa-ps", algorithm="PS256")
EC = ec_key("ec-1")
UNPUBLISHED = rsa_key("rsa-1-impostor")


class DictKeys:
    """A key source over fixed keys; an unknown kid is an invalid token, as in the cache."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = {key.kid: PyJWK(key.public_jwk) for key in keys}

    async def get_key(self, kid: str) -> PyJWK:
        try:
            return self.keys[kid]
        except KeyError:
            raise Unauthenticated("invalid_token", "unknown kid") from None


def verifier(**overrides: Any) -> JwtVerifier:
    options: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "algorithms": ("RS256", "ES256", "PS256"),
        "keys": DictKeys(RSA, RSA_PS, EC),
        "hs256_secret": None,
        "leeway_seconds": 30.0,
    }
    return JwtVerifier(**(options | overrides))


async def rejected(token: str, code: str = "invalid_token", **overrides: Any) -> str:
    """Assert ``token`` is refused with ``code``; return the message (which never has the token)."""
    with pytest.raises(Unauthenticated) as caught:
        await verifier(**overrides).verify(token)
    assert caught.value.code == code, caught.value.message
    assert token not in str(caught.value)
    return caught.value.message


@pytest.mark.parametrize("key", [RSA, RSA_PS, EC], ids=lambda key: key.algorithm)
async def test_a_valid_token_yields_its_principal(key: SigningKey) -> None:
    principal = await verifier().verify(sign(key, claims()))
    assert principal == Principal(
        subject="user-1",
        tenant=TenantId("team-a"),
        scopes=frozenset({Scope.PIPELINES_READ, Scope.EVENTS_WRITE}),
    )


async def test_hs256_is_accepted_only_when_enabled_with_its_secret() -> None:
    token = sign_hs256(claims())
    assert (await verifier(hs256_secret=HS256_SECRET).verify(token)).subject == "user-1"
    assert "accepted: RS256, ES256, PS256" in await rejected(token)
    await rejected(
        sign_hs256(claims(), secret="another-secret-of-at-least-32-bytes!"),
        hs256_secret=HS256_SECRET,
    )


@pytest.mark.parametrize("key", [RSA, EC], ids=lambda key: key.algorithm)
async def test_key_set_tokens_still_verify_with_their_keys_when_hs256_is_on(
    key: SigningKey,
) -> None:
    token = sign(key, claims())
    assert (await verifier(hs256_secret=HS256_SECRET).verify(token)).subject == "user-1"


async def test_hs256_only_development_mode_accepts_no_key_set_token() -> None:
    message = await rejected(sign(RSA, claims()), keys=None, hs256_secret=HS256_SECRET)
    assert "accepted: HS256" in message


@pytest.mark.parametrize(
    "header",
    [
        {"alg": "none"},
        {"alg": "none", "kid": RSA.kid},
        {"alg": "None", "kid": RSA.kid},
        {"alg": "NONE"},
        {"typ": "JWT"},
        {"alg": ""},
        {"alg": ["RS256"], "kid": RSA.kid},
    ],
)
async def test_unsigned_tokens_are_always_refused(header: dict[str, Any]) -> None:
    token = forge(header, claims())
    await rejected(token)
    await rejected(token, hs256_secret=HS256_SECRET)


async def test_an_algorithm_outside_the_allow_list_is_refused() -> None:
    assert "accepted: RS256" in await rejected(sign(EC, claims()), algorithms=("RS256",))


async def test_hs256_forged_with_the_public_key_is_refused() -> None:
    # The classic confusion: HMAC over the token keyed with the provider's public key PEM.
    pem = RSA.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    token = forge_hmac({"alg": "HS256", "kid": RSA.kid}, claims(), pem)
    await rejected(token)
    await rejected(token, hs256_secret=HS256_SECRET)


async def test_an_rs256_header_is_never_checked_with_the_hmac_secret() -> None:
    token = forge_hmac({"alg": "RS256", "kid": RSA.kid}, claims(), HS256_SECRET.encode())
    await rejected(token, hs256_secret=HS256_SECRET)
    await rejected(token, hs256_secret=HS256_SECRET, keys=None)


async def test_a_token_must_use_its_keys_algorithm() -> None:
    # Signed correctly by the RSA key, but announced as PS256: the key is bound to RS256.
    token = sign(rsa_key(RSA.kid, algorithm="PS256"), claims())
    assert "does not match its signing key" in await rejected(token)


async def test_a_signature_by_another_key_is_refused() -> None:
    assert "signature" in await rejected(sign(UNPUBLISHED, claims(), kid=RSA.kid))


async def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = sign(RSA, claims()).split(".")
    payload = forge({}, claims(tenant="team-b")).split(".")[1]
    await rejected(f"{header}.{payload}.{signature}")


async def test_a_token_without_kid_is_refused() -> None:
    token = sign(RSA, claims(), kid=None)
    assert "kid" in await rejected(token)


async def test_an_unknown_kid_is_refused() -> None:
    await rejected(sign(UNPUBLISHED, claims()))


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("garbage", "malformed_token"),
        ("a.b.c", "malformed_token"),
        ("e30.e30.", "invalid_token"),
        (forge({"alg": "RS256", "kid": RSA.kid}, claims())[:-1] + ".!!", "malformed_token"),
        (sign(RSA, claims())[:40], "malformed_token"),
    ],
)
async def test_garbled_tokens_are_refused(token: str, code: str) -> None:
    await rejected(token, code)


async def test_an_expired_token_says_so() -> None:
    now = int(time.time())
    message = await rejected(sign(RSA, claims(exp=now - 120)), "expired_token")
    assert "expired" in message


async def test_the_leeway_tolerates_small_clock_skew() -> None:
    now = int(time.time())
    skewed = claims(exp=now - 5, nbf=now + 5, iat=now + 5)
    assert (await verifier().verify(sign(RSA, skewed))).subject == "user-1"
    await rejected(sign(RSA, claims(exp=now - 5)), "expired_token", leeway_seconds=0.0)
    await rejected(sign(RSA, claims(nbf=now + 5)), leeway_seconds=0.0)


async def test_a_not_yet_valid_token_is_refused() -> None:
    now = int(time.time())
    assert "not valid yet" in await rejected(sign(RSA, claims(nbf=now + 300)))
    assert "not valid yet" in await rejected(sign(RSA, claims(iat=now + 300)))


async def test_a_wrong_issuer_is_refused() -> None:
    assert "issuer" in await rejected(sign(RSA, claims(iss="https://evil.example")))


async def test_a_wrong_audience_is_refused() -> None:
    assert "audience" in await rejected(sign(RSA, claims(aud="another-api")))


async def test_an_audience_list_including_ours_is_accepted() -> None:
    token = sign(RSA, claims(aud=["another-api", AUDIENCE]))
    assert (await verifier().verify(token)).subject == "user-1"


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub"])
async def test_required_claims_are_named_when_missing(claim: str) -> None:
    message = await rejected(sign(RSA, claims(**{claim: None})))
    assert repr(claim) in message


@pytest.mark.parametrize("sub", ["", 42])
async def test_the_subject_must_be_a_non_empty_string(sub: object) -> None:
    await rejected(sign(RSA, claims(sub=sub)))


@pytest.mark.parametrize("tenant", [None, "", "  ", 7, ["team-a"], "t" * 257])
async def test_a_token_without_a_usable_tenant_names_the_claim(tenant: object) -> None:
    message = await rejected(sign(RSA, claims(tenant=tenant)))
    assert "'tenant' claim" in message


async def test_the_tenant_claim_is_configurable() -> None:
    token = sign(RSA, claims(tenant=None, org="team-z"))
    assert (await verifier(tenant_claim="org").verify(token)).tenant == "team-z"
    assert "'org' claim" in await rejected(sign(RSA, claims()), tenant_claim="org")


@pytest.mark.parametrize(
    ("value", "scopes"),
    [
        ("events:read", {Scope.EVENTS_READ}),
        ("  pipelines:write   events:read  ", {Scope.PIPELINES_WRITE, Scope.EVENTS_READ}),
        (["pipelines:read", "profile"], {Scope.PIPELINES_READ}),
        ([], set()),
        (None, set()),
        ("openid email", set()),
    ],
)
async def test_scopes_come_from_a_string_or_a_list(value: object, scopes: set[Scope]) -> None:
    token = sign(RSA, claims(scope=None, scp=value))
    assert (await verifier(scopes_claim="scp").verify(token)).scopes == scopes


@pytest.mark.parametrize("value", [42, {"events:read": True}, ["events:read", 1]])
async def test_a_malformed_scopes_claim_is_refused(value: object) -> None:
    assert "'scope' claim" in await rejected(sign(RSA, claims(scope=value)))


async def test_a_weak_key_in_the_key_set_is_refused() -> None:
    weak = SigningKey(
        kid="weak",
        algorithm="RS256",
        private_key=rsa.generate_private_key(public_exponent=65537, key_size=1024),  # noqa: S505 (on purpose)
    )
    with pytest.warns(InsecureKeyLengthWarning):
        token = sign(weak, claims())
    assert "too weak" in await rejected(token, keys=DictKeys(weak))
