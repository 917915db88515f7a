"""The four scopes a token can grant, and how scope lists from tokens and files are read.

A scope is a verb on a resource (``pipelines:write``). Tokens from an identity provider carry
scopes this API does not know (``openid``, ``profile``, other services' scopes): those are
ignored, not errors. The static-token file is our own configuration, so there an unknown scope is
a typo and :func:`unknown_scopes` lets the loader reject it.
"""

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    """What a token may do; each API call needs exactly one of these."""

    PIPELINES_READ = "pipelines:read"
    PIPELINES_WRITE = "pipelines:write"
    EVENTS_READ = "events:read"
    EVENTS_WRITE = "events:write"


_KNOWN = frozenset(scope.value for scope in Scope)


def known_scopes(names: Iterable[str]) -> frozenset[Scope]:
    """The scopes among ``names`` that this API knows; the others are dropped."""
    return frozenset(Scope(name) for name in names if name in _KNOWN)


def unknown_scopes(names: Iterable[str]) -> list[str]:
    """The names that are not scopes of this API, in their original order."""
    return [name for name in names if name not in _KNOWN]


def describe_scopes() -> str:
    """The valid scope names, for error messages (``events:read, events:write, ...``)."""
    return ", ".join(sorted(_KNOWN))
