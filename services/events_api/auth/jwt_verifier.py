"""Verifying a JWT: signature, algorithm, standard claims, then tenant and scopes.

PyJWT does the cryptography and the standard claims; this module decides which key and which
algorithms a token may be checked with, *before* PyJWT sees it, so that algorithm confusion is
impossible by construction:

- ``alg: none`` and anything outside the configured allow-list are refused from the header;
- an ``HS256`` token is checked only with the development secret, and only with ``HS256``;
- any other token is checked only with the JWKS key its ``kid`` names, with that key's own
  algorithm (PyJWT binds a ``PyJWK`` to one algorithm), and a key set never yields HMAC keys.

So an RS256 token is never checked against the HMAC secret, and an HS256 token forged with the
provider's public key as the "secret" fails. ``exp``, ``iss``, ``aud`` and ``sub`` are required,
``nbf`` and ``iat`` honoured when present, with a configurable leeway. PyJWT's errors are
translated here (:func:`_translate`) into :class:`Unauthenticated` with a code and a message
that says what to do.
"""

from collections.abc import Sequence
from typing import Any, Protocol

import jwt
from jwt import PyJWK

from events_api.auth.claims import principal_from_claims
from events_api.auth.errors import Unauthenticated, UnauthenticatedCode
from events_api.auth.principal import Principal
from events_api.auth.settings import HS256, AuthSettings

REQUIRED_CLAIMS = ("exp", "iss", "aud", "sub")


class KeySource(Protocol):
    """Where JWKS keys come from (:class:`events_api.auth.jwks.JwksCache`, or a test double)."""

    async def get_key(self, kid: str) -> PyJWK:
        """The key named ``kid``; raises Unauthenticated or AuthUnavailable."""
        ...


# Most specific first: InvalidSignatureError is a DecodeError.
_TRANSLATIONS: tuple[tuple[type[jwt.PyJWTError], UnauthenticatedCode, str], ...] = (
    (jwt.ExpiredSignatureError, "expired_token", "the token has expired; get a new one"),
    (
        jwt.ImmatureSignatureError,
        "invalid_token",
        "the token is not valid yet (its nbf or iat is in the future); check the clocks",
    ),
    (
        jwt.InvalidIssuerError,
        "invalid_token",
        "the token comes from an issuer this API does not trust; get one from its provider",
    ),
    (
        jwt.InvalidAudienceError,
        "invalid_token",
        "the token is meant for another audience; request one for this API",
    ),
    (jwt.InvalidSignatureError, "invalid_token", "the token's signature does not verify"),
    (
        jwt.InvalidAlgorithmError,
        "invalid_token",
        "the token's algorithm does not match its signing key",
    ),
    (jwt.InvalidKeyError, "invalid_token", "the token's signing key is unusable (too weak?)"),
    (jwt.DecodeError, "malformed_token", "the bearer token is not a well-formed JWT"),
)


class JwtVerifier:
    """Turns a JWT into a :class:`Principal`, or raises why not (see the module docs)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        algorithms: Sequence[str],
        keys: KeySource | None,
        hs256_secret: str | None = None,
        tenant_claim: str = "tenant",
        scopes_claim: str = "scope",
        leeway_seconds: float = 30.0,
    ) -> None:
        """Configure the checks.

        Args:
            issuer: the required ``iss``.
            audience: the ``aud`` a token must include.
            algorithms: asymmetric algorithms accepted with JWKS keys (HS256 is dropped here).
            keys: the JWKS keys; None accepts no asymmetric token (HS256-only development).
            hs256_secret: when set, HS256 tokens signed with it are accepted (development only).
            tenant_claim: the claim naming the tenant.
            scopes_claim: the claim holding the scopes.
            leeway_seconds: clock skew tolerated on ``exp``, ``nbf`` and ``iat``.
        """
        self._issuer = issuer
        self._audience = audience
        self._asymmetric = (
            [name for name in algorithms if name != HS256] if keys is not None else []
        )
        self._keys = keys
        self._hs256_secret = hs256_secret
        self._tenant_claim = tenant_claim
        self._scopes_claim = scopes_claim
        self._leeway = leeway_seconds
        accepted = [*self._asymmetric, *([HS256] if hs256_secret else [])]
        self._accepted_text = ", ".join(accepted) or "none"

    @classmethod
    def from_settings(cls, settings: AuthSettings, *, keys: KeySource | None) -> "JwtVerifier":
        """A verifier configured by validated settings (JWT mode)."""
        if settings.jwt_issuer is None or settings.jwt_audience is None:
            raise ValueError("JWT settings without issuer or audience (not validated?)")
        return cls(
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            algorithms=settings.asymmetric_algorithms,
            keys=keys,
            hs256_secret=settings.hs256_secret if settings.hs256_enabled else None,
            tenant_claim=settings.tenant_claim,
            scopes_claim=settings.scopes_claim,
            leeway_seconds=settings.leeway_seconds,
        )

    async def verify(self, token: str) -> Principal:
        """Verify ``token`` and describe its caller.

        Raises:
            Unauthenticated: the token is malformed, expired, or does not verify.
            AuthUnavailable: the token's key is unknown and the key set cannot be fetched now.
        """
        header = _read_header(token)
        key, algorithms = await self._key_for(header)
        claims = self._decode(token, key, algorithms)
        return principal_from_claims(
            claims, tenant_claim=self._tenant_claim, scopes_claim=self._scopes_claim
        )

    async def _key_for(self, header: dict[str, Any]) -> tuple[PyJWK | str, list[str]]:
        """The one key and algorithm list this token may be verified with."""
        algorithm = header.get("alg")
        if algorithm == HS256 and self._hs256_secret:
            return self._hs256_secret, [HS256]
        if algorithm in self._asymmetric and self._keys is not None:
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise Unauthenticated(
                    "invalid_token", "the token's header names no signing key (kid)"
                )
            return await self._keys.get_key(kid), self._asymmetric
        raise Unauthenticated(
            "invalid_token",
            f"the token's algorithm is not accepted; accepted: {self._accepted_text}",
        )

    def _decode(self, token: str, key: PyJWK | str, algorithms: list[str]) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS), "enforce_minimum_key_length": True},
            )
        except jwt.MissingRequiredClaimError as error:
            raise Unauthenticated(
                "invalid_token", f"the token has no {error.claim!r} claim; get a complete token"
            ) from error
        except jwt.PyJWTError as error:
            raise _translate(error) from error


def _read_header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise _translate(error) from error


def _translate(error: jwt.PyJWTError) -> Unauthenticated:
    for kind, code, message in _TRANSLATIONS:
        if isinstance(error, kind):
            return Unauthenticated(code, message)
    return Unauthenticated("invalid_token", "the token is invalid; get a new one")
