"""The auth module's error tree: what callers of an authenticator catch, whatever the token kind.

PyJWT, httpx and msgspec errors never leave the auth module: the JWT verifier, the JWKS cache and
the static-token loader each translate them once, chained with ``from`` so the cause stays in the
traceback. Messages say what to do and never contain the presented token::

    AuthError                   base of every request-time auth failure; ``permanent`` marker
    ├── Unauthenticated         no usable credentials (the API answers 401 + WWW-Authenticate)
    │                           ``code``: missing_token | malformed_token | invalid_token |
    │                           expired_token
    ├── MissingScope            authenticated, but the token lacks a scope (the API answers 403)
    └── AuthUnavailable         retryable: the signing keys cannot be fetched right now (503)

    AuthConfigError             start-up only: settings or the static-token file make no sense

HTTP statuses and headers are chosen by the API's exception handlers, not here;
:func:`events_api.auth.bearer.bearer_challenge` renders the ``WWW-Authenticate`` value for them.
"""

from typing import ClassVar, Literal

from events_api.auth.scopes import Scope

UnauthenticatedCode = Literal["missing_token", "malformed_token", "invalid_token", "expired_token"]
"""Why a request is not authenticated, as the machine-readable ``error`` of the API's body."""


class AuthError(Exception):
    """Base of every error an authenticator raises while handling a request."""

    permanent: ClassVar[bool] = True
    """True when retrying the same request cannot succeed."""

    code: str
    """Machine-readable error code for the API's ``{"error": CODE, "message": TEXT}`` body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        """What went wrong and what to do; safe to show to the caller (no token inside)."""


class Unauthenticated(AuthError):
    """The request carries no credentials the API accepts."""

    def __init__(self, code: UnauthenticatedCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class MissingScope(AuthError):
    """The caller is authenticated but the token does not grant the scope the call needs."""

    code = "insufficient_scope"

    def __init__(self, scope: Scope) -> None:
        super().__init__(
            f"this call needs the scope {scope.value!r}; ask for a token that grants it"
        )
        self.scope = scope


class AuthUnavailable(AuthError):
    """The token's signing key is unknown and the key set cannot be fetched now; retry later."""

    permanent = False
    code = "auth_unavailable"

    def __init__(self, message: str, *, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        """When a retry can first succeed (the JWKS cache's next allowed fetch), in seconds."""


class AuthConfigError(Exception):
    """Auth settings or the static-token file are unusable; the message names what to fix.

    Raised at start-up only, never while handling a request.
    """
