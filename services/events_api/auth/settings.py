"""How the API authenticates callers: one frozen, typed, validated settings Struct.

Every field comes from the environment variable ``PIPELINE_EVENTS_AUTH_<FIELD>`` (see
:func:`load_auth_settings`); the README's settings table documents them. Nonsense combinations
are refused when the Struct is built, whoever builds it, with a message naming the variable to
fix — an auth misconfiguration must stop the start-up, never weaken the checks.
"""

import os
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import msgspec

from events_api.auth.errors import AuthConfigError
from events_api.loopback import is_loopback_host

ENV_PREFIX = "PIPELINE_EVENTS_AUTH_"
HS256 = "HS256"
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Algorithms a JWKS key may sign with; HMAC ones are never taken from a key set."""
_REDACTED = "<redacted>"
MIN_HS256_SECRET_BYTES = 32
"""RFC 7518 section 3.2: an HS256 key at least as long as the hash output."""


class AuthMode(StrEnum):
    """Which kind of bearer token the API accepts."""

    STATIC = "static"
    JWT = "jwt"


def env_name(field: str) -> str:
    """The variable of a settings field (``jwks_url`` → ``PIPELINE_EVENTS_AUTH_JWKS_URL``)."""
    return ENV_PREFIX + field.upper()


class AuthSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Authentication settings (environment variables ``PIPELINE_EVENTS_AUTH_<FIELD>``)."""

    mode: AuthMode = AuthMode.STATIC
    """``static``: API tokens from a file; ``jwt``: JWTs from an identity provider."""
    static_tokens_file: str | None = None
    """Static mode: path of the JSON token file (a mounted Secret), holding SHA-256 hashes only."""
    jwt_issuer: str | None = None
    """JWT mode: the exact ``iss`` every token must carry."""
    jwt_audience: str | None = None
    """JWT mode: the ``aud`` every token must include (this API's identifier at the provider)."""
    jwt_algorithms: tuple[str, ...] = ("RS256", "ES256")
    """JWT mode: accepted asymmetric algorithms (comma-separated in the environment)."""
    jwks_url: str | None = None
    """JWT mode: the provider's JWKS URL (https, or http on a loopback address)."""
    allow_hs256: bool = False
    """Development only: also accept HS256 tokens signed with ``hs256_secret``."""
    hs256_secret: str | None = None
    """Development only: the HS256 secret (at least 32 bytes); requires ``allow_hs256``."""
    tenant_claim: str = "tenant"
    """JWT mode: the claim naming the caller's tenant (a non-empty string)."""
    scopes_claim: str = "scope"
    """JWT mode: the claim with the scopes, a space-separated string or a list of strings."""
    leeway_seconds: float = 30.0
    """JWT mode: clock skew tolerated on ``exp``, ``nbf`` and ``iat``, in seconds."""
    jwks_min_refresh_seconds: float = 30.0
    """JWT mode: least seconds between two JWKS fetches (bounds unknown-``kid`` floods)."""
    jwks_ttl_seconds: float = 600.0
    """JWT mode: seconds after which a fetched key set is refetched."""
    jwks_timeout_seconds: float = 5.0
    """JWT mode: overall deadline of one JWKS fetch, in seconds."""
    jwks_connect_timeout_seconds: float = 2.0
    """JWT mode: seconds to connect to the JWKS endpoint."""

    def __post_init__(self) -> None:
        _check_numbers(self)
        _check_algorithms(self)
        if self.mode is AuthMode.STATIC:
            _check_static(self)
        else:
            _check_jwt(self)

    def __repr__(self) -> str:
        # The secret must not reach logs through a repr.
        shown = msgspec.structs.asdict(self)
        if shown["hs256_secret"] is not None:
            shown["hs256_secret"] = _REDACTED
        return "AuthSettings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    @property
    def hs256_enabled(self) -> bool:
        """Whether HS256 tokens are accepted (development only)."""
        return self.allow_hs256 and self.hs256_secret is not None

    @property
    def asymmetric_algorithms(self) -> tuple[str, ...]:
        """The configured algorithms a JWKS key may sign with."""
        return tuple(name for name in self.jwt_algorithms if name in ASYMMETRIC_ALGORITHMS)


def load_auth_settings(environ: Mapping[str, str] | None = None) -> AuthSettings:
    """Build the settings from ``PIPELINE_EVENTS_AUTH_*`` variables; unset ones keep defaults.

    Raises:
        AuthConfigError: a value has the wrong type, or the combination makes no sense; the
            message names the variable.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(AuthSettings):
        name = env_name(field.name)
        if name in env:
            raw[field.name] = env[name]
    if "jwt_algorithms" in raw:
        raw["jwt_algorithms"] = [part.strip() for part in raw["jwt_algorithms"].split(",")]
    try:
        return msgspec.convert(raw, AuthSettings, strict=False)
    except msgspec.ValidationError as error:
        raise AuthConfigError(_name_the_variable(str(error))) from error


def _name_the_variable(message: str) -> str:
    # msgspec says "... - at `$.leeway_seconds`"; point at the variable instead.
    found = re.search(r"`\$\.(\w+)", message)
    if found is None:
        return f"invalid auth setting ({ENV_PREFIX}*): {message}"
    return f"invalid {env_name(found[1])}: {message.split(' - at ', maxsplit=1)[0]}"


def _check_numbers(settings: AuthSettings) -> None:
    if not 0 <= settings.leeway_seconds <= 300:
        raise AuthConfigError(f"{env_name('leeway_seconds')} must be between 0 and 300 seconds")
    for field in (
        "jwks_min_refresh_seconds",
        "jwks_timeout_seconds",
        "jwks_connect_timeout_seconds",
    ):
        if getattr(settings, field) <= 0:
            raise AuthConfigError(f"{env_name(field)} must be a positive number of seconds")
    if settings.jwks_ttl_seconds < settings.jwks_min_refresh_seconds:
        raise AuthConfigError(
            f"{env_name('jwks_ttl_seconds')} must be at least "
            f"{env_name('jwks_min_refresh_seconds')} ({settings.jwks_min_refresh_seconds})"
        )


def _check_algorithms(settings: AuthSettings) -> None:
    for name in settings.jwt_algorithms:
        if name.lower() == "none":
            raise AuthConfigError(
                f"{env_name('jwt_algorithms')} lists 'none': unsigned tokens are never accepted"
            )
        if name == HS256 and not settings.allow_hs256:
            raise AuthConfigError(
                f"{env_name('jwt_algorithms')} lists HS256; HS256 is for development only: "
                f"remove it, or set {env_name('allow_hs256')}=true with {env_name('hs256_secret')}"
            )
        if name != HS256 and name not in ASYMMETRIC_ALGORITHMS:
            raise AuthConfigError(
                f"{env_name('jwt_algorithms')} lists {name!r}; "
                f"choose among {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}"
            )


def _check_static(settings: AuthSettings) -> None:
    if not settings.static_tokens_file:
        raise AuthConfigError(
            f"static token mode needs {env_name('static_tokens_file')} "
            f"(or set {env_name('mode')}=jwt)"
        )


def _check_jwt(settings: AuthSettings) -> None:
    for field in ("jwt_issuer", "jwt_audience", "tenant_claim", "scopes_claim"):
        if not getattr(settings, field):
            raise AuthConfigError(f"JWT mode needs {env_name(field)}")
    _check_hs256(settings)
    if settings.jwks_url is None:
        if not settings.hs256_enabled:
            raise AuthConfigError(
                f"JWT mode needs {env_name('jwks_url')} (or, in development only, "
                f"{env_name('allow_hs256')}=true with {env_name('hs256_secret')})"
            )
        return
    _check_jwks_url(settings.jwks_url)
    if not settings.asymmetric_algorithms:
        raise AuthConfigError(
            f"{env_name('jwt_algorithms')} lists no asymmetric algorithm for the keys at "
            f"{env_name('jwks_url')}; e.g. RS256,ES256"
        )


def _check_hs256(settings: AuthSettings) -> None:
    if settings.allow_hs256 and not settings.hs256_secret:
        raise AuthConfigError(
            f"{env_name('allow_hs256')}=true needs {env_name('hs256_secret')} (development only)"
        )
    if settings.hs256_secret is not None and not settings.allow_hs256:
        raise AuthConfigError(
            f"{env_name('hs256_secret')} is set but {env_name('allow_hs256')} is not true; "
            "unset the secret (HS256 is for development only)"
        )
    if settings.hs256_secret and len(settings.hs256_secret.encode()) < MIN_HS256_SECRET_BYTES:
        raise AuthConfigError(
            f"{env_name('hs256_secret')} must be at least {MIN_HS256_SECRET_BYTES} bytes long"
        )


def _check_jwks_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return
    raise AuthConfigError(
        f"{env_name('jwks_url')} must be an https:// URL (plain http only on a loopback "
        "address): keys fetched in clear text could be replaced by anyone on the path"
    )
