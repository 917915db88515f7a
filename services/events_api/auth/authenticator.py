"""The one entry point routes use: ``Authorization`` header in, :class:`Principal` out.

Two implementations behind one protocol, chosen by :class:`AuthSettings` in
:func:`open_authenticator` (for the app's lifespan) or :func:`create_authenticator`:

- :class:`StaticTokenAuthenticator` — API tokens from the token file, hashed; it can re-read the
  file when it changed (a rotated Kubernetes Secret), keeping the old tokens if the new file is bad;
- :class:`JwtAuthenticator` — JWTs verified by :class:`JwtVerifier` with keys from a
  :class:`JwksCache` that fetches over an injected or owned :class:`httpx.AsyncClient`.

Both raise only the auth error tree (:mod:`events_api.auth.errors`).
"""

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Protocol

import httpx

from events_api.auth.bearer import parse_bearer_token
from events_api.auth.errors import AuthConfigError, Unauthenticated
from events_api.auth.jwks import Clock, JwksCache
from events_api.auth.jwt_verifier import JwtVerifier
from events_api.auth.principal import Principal
from events_api.auth.settings import AuthMode, AuthSettings
from events_api.auth.static_tokens import StaticTokenTable, read_static_tokens_file

_FileSignature = tuple[int, int, int]


class Authenticator(Protocol):
    """Authenticates one request from its ``Authorization`` header."""

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller, from the header's value (None when the request has none).

        Raises:
            Unauthenticated: no token, a malformed one, or one that does not verify (401).
            AuthUnavailable: the token cannot be checked right now; retryable (503).
        """
        ...

    async def aclose(self) -> None:
        """Stop what the authenticator runs in the background; safe to call twice."""
        ...


class StaticTokenAuthenticator:
    """Accepts the tokens whose SHA-256 the token file lists."""

    def __init__(self, table: StaticTokenTable, *, path: Path | None = None) -> None:
        """Serve ``table``; with ``path``, :meth:`reload_if_changed` can refresh it from there."""
        self._table = table
        self._path = path
        self._signature: _FileSignature | None = None

    @classmethod
    async def from_file(cls, path: Path) -> "StaticTokenAuthenticator":
        """Read the token file in a worker thread.

        Raises:
            AuthConfigError: the file cannot be read or is invalid.
        """
        authenticator = cls(StaticTokenTable([]), path=path)
        await authenticator.reload_if_changed()
        return authenticator

    async def authenticate(self, authorization: str | None) -> Principal:
        """See :meth:`Authenticator.authenticate`."""
        token = parse_bearer_token(authorization)
        principal = self._table.lookup(token)
        if principal is None:
            raise Unauthenticated(
                "invalid_token", "the API token is not known (revoked, or mistyped?)"
            )
        return principal

    async def reload_if_changed(self) -> bool:
        """Re-read the token file if it changed since the last read; True when it did.

        A Kubernetes Secret update swaps the file behind a symlink, so the file's inode, mtime
        and size are compared. On an invalid new file the current tokens stay in service.

        Raises:
            AuthConfigError: the file cannot be read, or its new content is invalid.
        """
        if self._path is None:
            return False
        signature, table = await asyncio.to_thread(_read_if_changed, self._path, self._signature)
        if table is None:
            return False
        self._table, self._signature = table, signature
        return True

    async def aclose(self) -> None:
        """Nothing runs in the background; present for the protocol."""


class JwtAuthenticator:
    """Accepts JWTs that :class:`JwtVerifier` verifies."""

    def __init__(self, verifier: JwtVerifier, *, jwks: JwksCache | None = None) -> None:
        """Verify with ``verifier``; ``jwks`` is the cache to close in :meth:`aclose`."""
        self._verifier = verifier
        self._jwks = jwks

    async def authenticate(self, authorization: str | None) -> Principal:
        """See :meth:`Authenticator.authenticate`."""
        return await self._verifier.verify(parse_bearer_token(authorization))

    async def aclose(self) -> None:
        """Cancel an in-flight JWKS fetch; safe to call twice."""
        if self._jwks is not None:
            await self._jwks.aclose()


async def create_authenticator(
    settings: AuthSettings,
    *,
    http_client: httpx.AsyncClient | None = None,
    clock: Clock = time.monotonic,
) -> Authenticator:
    """The authenticator ``settings`` ask for; the caller closes it (and ``http_client``).

    Raises:
        AuthConfigError: the static token file is unusable, or JWT mode with a JWKS URL was
            given no HTTP client.
    """
    if settings.mode is AuthMode.STATIC:
        if settings.static_tokens_file is None:
            raise AuthConfigError(
                "static token mode without a token file (settings not validated?)"
            )
        return await StaticTokenAuthenticator.from_file(Path(settings.static_tokens_file))
    jwks = None
    if settings.jwks_url is not None:
        if http_client is None:
            raise AuthConfigError("JWT mode with a JWKS URL needs an HTTP client")
        jwks = JwksCache(
            http_client,
            settings.jwks_url,
            connect_timeout=settings.jwks_connect_timeout_seconds,
            timeout=settings.jwks_timeout_seconds,
            min_refresh_interval=settings.jwks_min_refresh_seconds,
            ttl=settings.jwks_ttl_seconds,
            clock=clock,
        )
    return JwtAuthenticator(JwtVerifier.from_settings(settings, keys=jwks), jwks=jwks)


@asynccontextmanager
async def open_authenticator(
    settings: AuthSettings,
    *,
    http_client: httpx.AsyncClient | None = None,
    clock: Clock = time.monotonic,
) -> AsyncIterator[Authenticator]:
    """The authenticator for the app's lifespan, closed on exit.

    Without ``http_client`` and with a JWKS URL, it opens its own client (no redirects; timeouts
    per request from the settings) and closes it on exit.
    """
    async with AsyncExitStack() as stack:
        if http_client is None and settings.mode is AuthMode.JWT and settings.jwks_url:
            http_client = await stack.enter_async_context(
                httpx.AsyncClient(
                    follow_redirects=False,
                    timeout=httpx.Timeout(
                        settings.jwks_timeout_seconds,
                        connect=settings.jwks_connect_timeout_seconds,
                    ),
                )
            )
        authenticator = await create_authenticator(settings, http_client=http_client, clock=clock)
        stack.push_async_callback(authenticator.aclose)
        yield authenticator


def _read_if_changed(
    path: Path, known: _FileSignature | None
) -> tuple[_FileSignature | None, StaticTokenTable | None]:
    """Blocking: the file's signature, and its tokens when the signature differs from ``known``."""
    try:
        stat = os.stat(path)
    except OSError as error:
        raise AuthConfigError(
            f"cannot read the static token file {path} ({error.strerror}); "
            "check PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE and the mounted Secret"
        ) from error
    signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if signature == known:
        return known, None
    return signature, read_static_tokens_file(path)
