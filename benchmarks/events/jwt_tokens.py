"""Bearer tokens for the JWT variants: an HS256 token (development mode) and an RS256 token whose
public key a small JWKS endpoint on 127.0.0.1 serves, the way an identity provider would.

The API fetches the key set once (then serves it from memory), so the JWKS endpoint is not on
the measured path; the signature check on every request is.
"""

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://idp.bench.example"
AUDIENCE = "pipeline-events-bench"
KEY_ID = "bench-rs256"
SCOPES = "pipelines:read pipelines:write events:read events:write"


def _claims(tenant: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "bench-user",
        "tenant": tenant,
        "scope": SCOPES,
        "iat": now,
        "exp": now + 4 * 3600,
    }


_JWT_MODE = {
    "PIPELINE_EVENTS_AUTH_MODE": "jwt",
    "PIPELINE_EVENTS_AUTH_JWT_ISSUER": ISSUER,
    "PIPELINE_EVENTS_AUTH_JWT_AUDIENCE": AUDIENCE,
}
"""The settings every JWT variant shares: the mode and the claims the tokens carry."""


@dataclass(frozen=True)
class Hs256:
    """An HS256 secret and a token signed with it; the API's `PIPELINE_EVENTS_AUTH_*` settings."""

    secret: str
    token: str

    @property
    def env(self) -> dict[str, str]:
        """The API's settings accepting this token (JWT mode, HS256 development secret)."""
        return {
            **_JWT_MODE,
            "PIPELINE_EVENTS_AUTH_ALLOW_HS256": "true",
            "PIPELINE_EVENTS_AUTH_HS256_SECRET": self.secret,
        }


def hs256_token(tenant: str) -> Hs256:
    """A fresh 32-byte-plus secret and a token for `tenant` with every scope."""
    secret = secrets.token_urlsafe(48)
    return Hs256(secret=secret, token=jwt.encode(_claims(tenant), secret, algorithm="HS256"))


@dataclass(frozen=True)
class Rs256:
    """An RS256 token and the JWKS URL serving its public key."""

    jwks_url: str
    token: str

    @property
    def env(self) -> dict[str, str]:
        """The API's settings accepting this token (JWT mode, keys from the JWKS URL)."""
        return {
            **_JWT_MODE,
            "PIPELINE_EVENTS_AUTH_JWT_ALGORITHMS": "RS256",
            "PIPELINE_EVENTS_AUTH_JWKS_URL": self.jwks_url,
        }


@contextmanager
def rs256_provider(tenant: str) -> Iterator[Rs256]:
    """A 2048-bit RSA key, its JWKS on a loopback port (a thread), and a token for `tenant`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": KEY_ID, "alg": "RS256", "use": "sig"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="bench-jwks", daemon=True)
    thread.start()
    try:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        token = jwt.encode(_claims(tenant), pem, algorithm="RS256", headers={"kid": KEY_ID})
        yield Rs256(jwks_url=f"http://127.0.0.1:{server.server_port}/jwks.json", token=token)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
