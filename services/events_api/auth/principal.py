"""Who is calling: the authenticated principal every authenticator returns, and scope checks.

The principal carries the tenant the caller acts for; routes pass it to the store, which keeps
tenants apart (another tenant's pipeline looks like no pipeline at all). Authorization here is
only "does the token grant this scope".
"""

import msgspec

from events_api.auth.errors import MissingScope
from events_api.auth.scopes import Scope
from pipeline_models import TenantId


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated caller."""

    subject: str
    """Who the token was issued to: a JWT's ``sub``, or a static token's ``name``."""
    tenant: TenantId
    """The tenant the caller acts for; every store call is scoped to it."""
    scopes: frozenset[Scope]
    """What the caller may do (scopes this API does not know are already dropped)."""

    def has_scope(self, scope: Scope) -> bool:
        """Tell whether the token grants ``scope``."""
        return scope in self.scopes


def require_scope(principal: Principal, scope: Scope) -> None:
    """Check that ``principal`` may do what ``scope`` names.

    Raises:
        MissingScope: the token does not grant ``scope``.
    """
    if not principal.has_scope(scope):
        raise MissingScope(scope)
