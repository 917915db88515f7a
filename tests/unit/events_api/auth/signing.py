"""Test helpers: signing keys generated in-test with ``cryptography``, their JWKS, and tokens.

Shared by the unit and the integration tests of ``events_api.auth``. Nothing here verifies:
tokens are minted with PyJWT's ``encode`` (or by hand, for tokens PyJWT refuses to make).
"""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://issuer.example"
AUDIENCE = "pipeline-events"
HS256_SECRET = "development-secret-that-is-32-bytes-or-longer"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class SigningKey:
    """A private key, its algorithm and ``kid``, and its public JWK."""

    kid: str
    algorithm: str
    private_key: PrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK with ``kid``, ``alg`` and ``use``."""
        public = self.private_key.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


@cache
def _rsa_private_key(seed: str) -> rsa.RSAPrivateKey:
    # Generating RSA keys is slow; one per name per test session is enough.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_key(kid: str, algorithm: str = "RS256") -> SigningKey:
    """An RSA-2048 signing key (cached by ``kid``)."""
    return SigningKey(kid=kid, algorithm=algorithm, private_key=_rsa_private_key(kid))


def ec_key(kid: str) -> SigningKey:
    """A fresh P-256 signing key for ES256."""
    return SigningKey(
        kid=kid, algorithm="ES256", private_key=ec.generate_private_key(ec.SECP256R1())
    )


def jwks_of(*keys: SigningKey) -> dict[str, Any]:
    """The JWKS document publishing ``keys``."""
    return {"keys": [key.public_jwk for key in keys]}


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims for the test issuer and audience; ``None`` values remove a claim."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "tenant": "team-a",
        "scope": "pipelines:read events:write openid",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def sign(key: SigningKey, payload: dict[str, Any], **headers: Any) -> str:
    """A JWT signed by ``key``, its ``kid`` in the header (``kid=None`` leaves it out)."""
    header = {name: value for name, value in ({"kid": key.kid} | headers).items() if value}
    return jwt.encode(payload, key.private_key, algorithm=key.algorithm, headers=header)


def sign_hs256(payload: dict[str, Any], secret: str = HS256_SECRET, **headers: Any) -> str:
    """A JWT signed with HS256."""
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers or None)


def forge(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A compact JWT assembled by hand (e.g. ``alg: none``), with any signature bytes."""
    return ".".join(_b64(part) for part in (_json(header), _json(payload), signature))


def forge_hmac(header: dict[str, Any], payload: dict[str, Any], secret: bytes) -> str:
    """A JWT whose signature is HMAC-SHA256 with ``secret``, whatever the header's ``alg``."""
    signing_input = f"{_b64(_json(header))}.{_b64(_json(payload))}".encode()
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{_b64(signature)}"


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
