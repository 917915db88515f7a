"""One validation problem and the JSON paths that locate it.

Every check in this package reports :class:`Problem` values instead of stopping at the first
error, so the API can answer a bad request body with the full list. Paths use the JSONPath-like
notation msgspec itself prints: ``$`` is the document, ``.name`` a field whose name is an
identifier, ``["x-y"]`` any other key, ``[2]`` an array index (``$.steps[2].needs[0]``).
"""

import json
import re

import msgspec

ROOT = "$"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MSGSPEC_AT = " - at `"


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """Something wrong with a document, where it is and what is wrong."""

    path: str
    """Where: a ``$``-rooted path such as ``$.steps[2].needs[0]``."""
    message: str
    """What is wrong, phrased so the author knows what to change."""


def join_key(path: str, key: str) -> str:
    """Append an object key to ``path`` (``.key``, or ``["key"]`` when not an identifier)."""
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def join_index(path: str, index: int) -> str:
    """Append an array index to ``path``."""
    return f"{path}[{index}]"


def split_msgspec_error(error: msgspec.ValidationError, *, prefix: str) -> Problem:
    """Turn a msgspec validation error into a :class:`Problem` rooted at ``prefix``.

    msgspec writes ``"<message> - at `$.x[0]`"`` (or just the message at the root); its ``$`` is
    the value that was converted, which sits at ``prefix`` in the whole document.
    """
    text = str(error)
    message, sep, rest = text.rpartition(_MSGSPEC_AT)
    if not sep or not rest.endswith("`") or not rest.startswith(ROOT):
        return Problem(path=prefix, message=text)
    return Problem(path=prefix + rest[len(ROOT) : -1], message=message)
