"""Authentication and authorization of the API's callers.

Routes see three things: an :class:`Authenticator` (``Authorization`` header → :class:`Principal`),
:func:`require_scope`, and the error tree of :mod:`events_api.auth.errors` with
:func:`bearer_challenge` for the ``WWW-Authenticate`` header. Modules, lowest first:
``scopes``, ``errors``, ``principal``, ``bearer``, ``settings``, ``claims``, ``static_tokens``,
``jwks``, ``jwt_verifier``, ``authenticator``.
"""

from events_api.auth.authenticator import (
    Authenticator,
    JwtAuthenticator,
    StaticTokenAuthenticator,
    create_authenticator,
    open_authenticator,
)
from events_api.auth.bearer import bearer_challenge, parse_bearer_token
from events_api.auth.errors import (
    AuthConfigError,
    AuthError,
    AuthUnavailable,
    MissingScope,
    Unauthenticated,
    UnauthenticatedCode,
)
from events_api.auth.jwks import Clock, JwksCache
from events_api.auth.jwt_verifier import JwtVerifier
from events_api.auth.principal import Principal, require_scope
from events_api.auth.scopes import Scope
from events_api.auth.settings import AuthMode, AuthSettings, load_auth_settings
from events_api.auth.static_tokens import hash_token, new_token_entry

__all__ = [
    "AuthConfigError",
    "AuthError",
    "AuthMode",
    "AuthSettings",
    "AuthUnavailable",
    "Authenticator",
    "Clock",
    "JwksCache",
    "JwtAuthenticator",
    "JwtVerifier",
    "MissingScope",
    "Principal",
    "Scope",
    "StaticTokenAuthenticator",
    "Unauthenticated",
    "UnauthenticatedCode",
    "bearer_challenge",
    "create_authenticator",
    "hash_token",
    "load_auth_settings",
    "new_token_entry",
    "open_authenticator",
    "parse_bearer_token",
    "require_scope",
]
