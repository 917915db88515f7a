"""The identity provider's signing keys: an async, cached, rate-limited JWKS client.

PyJWT's own ``PyJWKClient`` fetches with urllib, synchronously, and would block the event loop;
this cache fetches with an injected :class:`httpx.AsyncClient` and uses PyJWT only to turn the
JWKS document into keys (:class:`jwt.PyJWKSet`). The rules:

- the first lookup fetches; afterwards keys are served from memory, by ``kid``;
- the key set is refetched when it is older than ``ttl``, or when a token names an unknown
  ``kid`` (the provider rotated keys) — but every fetch *attempt* is at least
  ``min_refresh_interval`` after the previous one, so a flood of tokens with made-up ``kid`` s
  costs the provider one request per interval, not one per token;
- concurrent lookups that need a fetch share one in-flight fetch (a task the cache owns; a
  cancelled waiter does not cancel it for the others; :meth:`JwksCache.aclose` does);
- a failed fetch keeps the known keys in service; only a ``kid`` that is unknown while the
  provider is unreachable raises :class:`AuthUnavailable` (retryable), chained to the failure;
- a fetch never retries by itself, and has a connect timeout and an overall deadline.

httpx, msgspec and PyJWT errors of a fetch are translated into :class:`JwksFetchError` here, once;
that error never leaves the module except as the ``__cause__`` of :class:`AuthUnavailable`.
Time comes from an injected monotonic :data:`Clock`, so tests move time instead of sleeping.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
from jwt import PyJWK, PyJWKSet, PyJWTError

from events_api.auth.errors import AuthUnavailable, Unauthenticated

Clock = Callable[[], float]
"""Monotonic seconds (``time.monotonic`` in production, a fake in tests)."""

MAX_JWKS_BYTES = 512 * 1024
"""A key set larger than this is refused (real ones are a few kilobytes)."""

logger = logging.getLogger(__name__)


class JwksFetchError(Exception):
    """Fetching or decoding the key set failed; the message says how (and never leaves here)."""


class _JwksDocument(msgspec.Struct, frozen=True):
    keys: list[dict[str, Any]]


_decoder = msgspec.json.Decoder(_JwksDocument)


def parse_jwks(body: bytes) -> dict[str, PyJWK]:
    """The signature keys of a JWKS document, by ``kid``.

    Keys without a ``kid``, symmetric (``oct``) keys and encryption keys (``use: enc``) are
    skipped: a public key set must never hand out an HMAC secret (algorithm confusion).

    Raises:
        JwksFetchError: the body is not a JWKS document, or holds no usable signing key.
    """
    try:
        document = _decoder.decode(body)
    except msgspec.DecodeError as error:
        raise JwksFetchError(f"the key set is not a JWKS document: {error}") from error
    candidates = [
        key
        for key in document.keys
        if isinstance(key.get("kid"), str) and key.get("kty") != "oct" and key.get("use") != "enc"
    ]
    try:
        key_set = PyJWKSet(candidates)
    except PyJWTError as error:
        raise JwksFetchError(f"the key set holds no usable signing key: {error}") from error
    return {key.key_id: key for key in key_set if key.key_id is not None}


class JwksCache:
    """The signing keys of one JWKS URL, fetched on demand and cached (see the module docs)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        url: str,
        *,
        connect_timeout: float = 2.0,
        timeout: float = 5.0,
        min_refresh_interval: float = 30.0,
        ttl: float = 600.0,
        clock: Clock = time.monotonic,
    ) -> None:
        """Prepare the cache; nothing is fetched until the first lookup.

        Args:
            client: the HTTP client; the cache never closes it.
            url: the provider's JWKS URL.
            connect_timeout: seconds to establish the connection.
            timeout: overall deadline of one fetch, in seconds (also each read's timeout).
            min_refresh_interval: least seconds between two fetch attempts.
            ttl: seconds after a successful fetch at which the key set is refetched.
            clock: monotonic time source.
        """
        self._client = client
        self._url = url
        self._timeout = timeout
        self._http_timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._min_refresh_interval = min_refresh_interval
        self._ttl = ttl
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._failure: JwksFetchError | None = None
        self._inflight: asyncio.Task[None] | None = None

    async def get_key(self, kid: str) -> PyJWK:
        """The signing key named ``kid``, fetching the key set when the rules above allow.

        Raises:
            Unauthenticated: ``invalid_token`` — the provider's key set has no such key.
            AuthUnavailable: the key is unknown and the key set cannot be fetched now.
        """
        if self._is_stale():
            await self._refresh_if_allowed()
        if kid not in self._keys:
            await self._refresh_if_allowed()
        key = self._keys.get(kid)
        if key is not None:
            return key
        if self._failure is not None:
            raise AuthUnavailable(
                "the token's signing key is unknown and the identity provider's key set cannot "
                "be fetched right now; retry shortly",
                retry_after_seconds=self._seconds_until_next_fetch(),
            ) from self._failure
        raise Unauthenticated(
            "invalid_token",
            "the token is signed with a key (kid) the identity provider does not publish; "
            "get a new token",
        )

    async def aclose(self) -> None:
        """Cancel an in-flight fetch and wait for it to end; safe to call twice."""
        task = self._inflight
        if task is not None:
            task.cancel()
            # wait() neither raises the task's CancelledError nor swallows our own cancellation.
            await asyncio.wait([task])

    def _is_stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._ttl

    def _seconds_until_next_fetch(self) -> float:
        if self._attempted_at is None:
            return 0.0
        return max(0.0, self._attempted_at + self._min_refresh_interval - self._clock())

    async def _refresh_if_allowed(self) -> None:
        """Join the in-flight fetch, or start one unless the last attempt was too recent."""
        if self._inflight is None:
            if self._seconds_until_next_fetch() > 0:
                return
            self._attempted_at = self._clock()
            self._inflight = asyncio.create_task(self._refresh(), name=f"jwks-refresh {self._url}")
            self._inflight.add_done_callback(self._forget_refresh)
        # shield: a waiter's cancellation must not cancel the fetch other waiters share.
        await asyncio.shield(self._inflight)

    async def _refresh(self) -> None:
        """One fetch; records its outcome instead of raising (nobody may be left to hear it)."""
        try:
            keys = await self._fetch()
        except JwksFetchError as error:
            self._failure = error
            logger.warning("cannot refresh the JWKS from %s: %s", self._url, error)
        else:
            self._keys = keys
            self._fetched_at = self._clock()
            self._failure = None

    def _forget_refresh(self, task: "asyncio.Task[None]") -> None:
        # A callback rather than `finally`: it runs even for a task cancelled before it started.
        if self._inflight is task:
            self._inflight = None

    async def _fetch(self) -> dict[str, PyJWK]:
        """GET the key set within the deadline; translates httpx's errors (the only place)."""
        try:
            async with asyncio.timeout(self._timeout):
                body = await self._get_body()
        except TimeoutError as error:
            raise JwksFetchError(f"no answer within {self._timeout} s") from error
        except httpx.HTTPError as error:
            raise JwksFetchError(f"{type(error).__name__}: {error}") from error
        return parse_jwks(body)

    async def _get_body(self) -> bytes:
        headers = {"Accept": "application/json"}
        request = self._client.stream("GET", self._url, headers=headers, timeout=self._http_timeout)
        async with request as response:
            if response.status_code != httpx.codes.OK:
                raise JwksFetchError(f"the JWKS endpoint answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise JwksFetchError(f"the key set is larger than {MAX_JWKS_BYTES} bytes")
            return bytes(body)
