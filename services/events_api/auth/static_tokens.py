"""Static API tokens: the token file's format, its validation, hashing, and constant-time lookup.

The file (in Kubernetes a mounted Secret) is JSON and holds only SHA-256 hashes, so reading it
(or a backup of it) does not reveal a usable token::

    {"tokens": [{"name": "ci-bot", "sha256": "<64 hex digits>", "tenant": "team-a",
                 "scopes": ["pipelines:read", "events:write"]}]}

Tokens are random (:func:`new_token`, 256 bits), so a fast hash is enough: there is nothing to
brute-force that a slow password hash would protect. Verification hashes the presented token and
compares it with every entry using :func:`hmac.compare_digest`, without stopping at a match, so
the time taken says nothing about which entry (if any) matched.

Reading the file blocks, so the API reads it before its event loop runs
(:func:`read_static_tokens_file`) or in a worker thread (:func:`load_static_tokens_file`).
"""

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

import msgspec

from events_api.auth.errors import AuthConfigError
from events_api.auth.principal import Principal
from events_api.auth.scopes import Scope, describe_scopes, known_scopes, unknown_scopes
from pipeline_models import TenantId

_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_TOKEN_BYTES = 32


class StaticTokenEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One token in the file, as written there (unknown fields are typos, hence forbidden)."""

    name: str
    """Unique label of the token; the principal's ``subject`` (e.g. ``ci-bot``)."""
    sha256: str
    """Hex SHA-256 of the token's UTF-8 bytes (:func:`hash_token`); the token itself never."""
    tenant: str
    """The tenant the token acts for."""
    scopes: list[str]
    """What the token may do: names of :class:`~events_api.auth.scopes.Scope` values."""


class StaticTokenFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole token file."""

    tokens: list[StaticTokenEntry]


class NewStaticToken(msgspec.Struct, frozen=True, kw_only=True):
    """A freshly minted token: hand ``token`` to its user once, store only ``entry``."""

    token: str
    entry: StaticTokenEntry


class _Known(msgspec.Struct, frozen=True, kw_only=True):
    digest: bytes
    principal: Principal


_decoder = msgspec.json.Decoder(StaticTokenFile)
_encoder = msgspec.json.Encoder()


def hash_token(token: str) -> str:
    """The hex SHA-256 of ``token``, as the file's ``sha256`` field stores it."""
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_PREFIX = "pe_"  # noqa: S105 - a prefix, not a secret
"""Marks our tokens (secret scanners can recognise them) and keeps them from starting with
``-``, which a command line would read as an option (``--token -x…``)."""


def new_token() -> str:
    """A fresh random token: ``pe_`` and 256 bits in URL-safe base64 (valid in a bearer header)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def new_token_entry(*, name: str, tenant: str, scopes: Iterable[Scope]) -> NewStaticToken:
    """Mint a token and the file entry that accepts it (for a CLI or an operator's script)."""
    token = new_token()
    entry = StaticTokenEntry(
        name=name, sha256=hash_token(token), tenant=tenant, scopes=sorted(s.value for s in scopes)
    )
    return NewStaticToken(token=token, entry=entry)


def encode_token_file(entries: Sequence[StaticTokenEntry]) -> bytes:
    """The JSON of a token file holding ``entries``."""
    return _encoder.encode(StaticTokenFile(tokens=list(entries)))


class StaticTokenTable:
    """The validated tokens of one file, looked up by the presented token in constant time."""

    def __init__(self, known: Sequence[_Known]) -> None:
        self._known = tuple(known)

    def __len__(self) -> int:
        return len(self._known)

    def lookup(self, token: str) -> Principal | None:
        """The principal of ``token``, or None when no entry's hash matches."""
        digest = hashlib.sha256(token.encode()).digest()
        found: Principal | None = None
        # Compare with every entry, even after a match: no early exit to time.
        for known in self._known:
            if hmac.compare_digest(known.digest, digest):
                found = known.principal
        return found


def parse_static_tokens(data: bytes, *, source: str) -> StaticTokenTable:
    """Decode and validate a token file's bytes.

    Args:
        data: the file's content.
        source: where the bytes came from (a path), for error messages.

    Raises:
        AuthConfigError: the JSON does not fit the format, or an entry is invalid; the message
            names the source and the entry.
    """
    try:
        document = _decoder.decode(data)
    except msgspec.DecodeError as error:
        raise AuthConfigError(f"static token file {source}: {error}") from error
    if not document.tokens:
        raise AuthConfigError(f"static token file {source} lists no tokens; add at least one")
    known = [_validate_entry(entry, index, source) for index, entry in enumerate(document.tokens)]
    _reject_duplicates(document.tokens, source)
    return StaticTokenTable(known)


def read_static_tokens_file(path: Path) -> StaticTokenTable:
    """Read and validate the token file; blocking, so call it before the event loop runs.

    Raises:
        AuthConfigError: the file cannot be read, or its content is invalid.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise AuthConfigError(
            f"cannot read the static token file {path} ({error.strerror}); "
            "check PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE and the mounted Secret"
        ) from error
    return parse_static_tokens(data, source=str(path))


async def load_static_tokens_file(path: Path) -> StaticTokenTable:
    """:func:`read_static_tokens_file` in a worker thread, so the event loop never blocks."""
    return await asyncio.to_thread(read_static_tokens_file, path)


def _validate_entry(entry: StaticTokenEntry, index: int, source: str) -> _Known:
    where = f"static token file {source}, tokens[{index}] ({entry.name!r})"
    if not entry.name.strip():
        raise AuthConfigError(f"static token file {source}, tokens[{index}]: the name is empty")
    if _HEX_SHA256.fullmatch(entry.sha256) is None:
        raise AuthConfigError(
            f"{where}: sha256 must be the 64 hex digits of the token's SHA-256 "
            "(store the hash, never the token)"
        )
    if not entry.tenant.strip():
        raise AuthConfigError(f"{where}: the tenant is empty")
    if not entry.scopes:
        raise AuthConfigError(f"{where}: lists no scopes; valid scopes: {describe_scopes()}")
    if unknown := unknown_scopes(entry.scopes):
        raise AuthConfigError(
            f"{where}: unknown scopes {unknown}; valid scopes: {describe_scopes()}"
        )
    principal = Principal(
        subject=entry.name, tenant=TenantId(entry.tenant), scopes=known_scopes(entry.scopes)
    )
    return _Known(digest=bytes.fromhex(entry.sha256), principal=principal)


def _reject_duplicates(entries: Sequence[StaticTokenEntry], source: str) -> None:
    names: dict[str, int] = {}
    hashes: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if (first := names.setdefault(entry.name, index)) != index:
            raise AuthConfigError(
                f"static token file {source}: tokens[{first}] and tokens[{index}] "
                f"are both named {entry.name!r}; names must be unique"
            )
        if (first := hashes.setdefault(entry.sha256.lower(), index)) != index:
            raise AuthConfigError(
                f"static token file {source}: tokens[{first}] ({entries[first].name!r}) and "
                f"tokens[{index}] ({entry.name!r}) have the same sha256; give each its own token"
            )
