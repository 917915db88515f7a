"""The HTTP side of bearer tokens (RFC 6750): reading ``Authorization``, writing the challenge.

Parsing is strict, so that what reaches a verifier is one token68 string: the scheme is ``Bearer``
in any letter case, followed by spaces and exactly one token of the token68 alphabet
(``A-Z a-z 0-9 - . _ ~ + /`` then optional ``=`` padding). Anything else is a malformed header,
answered without echoing what was sent. The challenge follows RFC 6750 section 3: no ``error``
attribute when credentials were missing, ``invalid_request`` for a malformed header,
``invalid_token`` for a token that does not verify, ``insufficient_scope`` for a missing scope.
"""

import re

from events_api.auth.errors import AuthError, MissingScope, Unauthenticated

REALM = "pipeline-events"
MAX_TOKEN_LENGTH = 8192
"""Longer tokens are refused before any hashing or decoding (real JWTs stay far below)."""

_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +(?P<rest>.*))?")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# Characters a quoted-string in a challenge may carry without escaping.
_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\]')

_HOW_TO = "send the header 'Authorization: Bearer <token>'"


def parse_bearer_token(authorization: str | None) -> str:
    """Extract the token from an ``Authorization`` header value.

    Args:
        authorization: the header's value, or None when the request has none.

    Returns:
        The token, exactly as sent.

    Raises:
        Unauthenticated: ``missing_token`` without a header (or an empty one);
            ``malformed_token`` for another scheme, a missing or extra token, or a token outside
            the token68 alphabet.
    """
    value = (authorization or "").strip(" \t")
    if not value:
        raise Unauthenticated("missing_token", f"this API needs a bearer token: {_HOW_TO}")
    credentials = _CREDENTIALS.fullmatch(value)
    if credentials is None:
        raise Unauthenticated(
            "malformed_token", f"the Authorization header is malformed: {_HOW_TO}"
        )
    if credentials["scheme"].lower() != "bearer":
        raise Unauthenticated(
            "malformed_token", f"the Authorization header uses another scheme: {_HOW_TO}"
        )
    token = credentials["rest"]
    if not token:
        raise Unauthenticated(
            "malformed_token", f"the Authorization header has no token: {_HOW_TO}"
        )
    if len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated(
            "malformed_token", f"the bearer token is longer than {MAX_TOKEN_LENGTH} characters"
        )
    if _TOKEN68.fullmatch(token) is None:
        raise Unauthenticated(
            "malformed_token",
            "the bearer token must be one token of letters, digits and -._~+/ (then optional '='"
            f" padding), with no spaces: {_HOW_TO}",
        )
    return token


def bearer_challenge(error: AuthError | None = None) -> str:
    """The ``WWW-Authenticate`` value for a 401 or 403 answer (RFC 6750 section 3).

    Args:
        error: why the request failed; None (or a missing token) gives the bare challenge.
    """
    attributes = [f'realm="{REALM}"']
    if isinstance(error, Unauthenticated) and error.code != "missing_token":
        rfc_code = "invalid_request" if error.code == "malformed_token" else "invalid_token"
        attributes.append(f'error="{rfc_code}"')
        attributes.append(f'error_description="{_quotable(error.message)}"')
    elif isinstance(error, MissingScope):
        attributes.append('error="insufficient_scope"')
        attributes.append(f'scope="{error.scope.value}"')
    return "Bearer " + ", ".join(attributes)


def _quotable(text: str) -> str:
    """``text`` with every character a quoted-string cannot carry replaced by ``'``."""
    return _UNSAFE_IN_QUOTES.sub("'", text)
