"""From verified JWT claims to a :class:`Principal`: which claims name the tenant and scopes.

Pure: it runs after the signature and the standard claims (``exp``, ``nbf``, ``iss``, ``aud``,
``sub``) have been verified. Identity providers disagree on the shape of scopes — OAuth's
``scope`` is a space-separated string, others put a list in ``scp`` or ``scopes`` — so the claim
name is configurable and both shapes are read. Scopes this API does not know are ignored.
"""

from collections.abc import Mapping
from typing import Any

from events_api.auth.errors import Unauthenticated
from events_api.auth.principal import Principal
from events_api.auth.scopes import known_scopes
from pipeline_models import TenantId

MAX_TENANT_LENGTH = 256


def principal_from_claims(
    claims: Mapping[str, Any], *, tenant_claim: str, scopes_claim: str
) -> Principal:
    """The caller a verified token describes.

    Raises:
        Unauthenticated: ``invalid_token`` — no usable subject, tenant, or scopes claim; the
            message names the claim.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("invalid_token", "the token's 'sub' claim must be a non-empty string")
    return Principal(
        subject=subject,
        tenant=read_tenant(claims, tenant_claim),
        scopes=known_scopes(read_scope_names(claims, scopes_claim)),
    )


def read_tenant(claims: Mapping[str, Any], claim: str) -> TenantId:
    """The tenant named by ``claim``: a non-empty string of at most 256 characters."""
    tenant = claims.get(claim)
    if not isinstance(tenant, str) or not tenant.strip() or len(tenant) > MAX_TENANT_LENGTH:
        raise Unauthenticated(
            "invalid_token",
            f"the token has no usable {claim!r} claim naming the tenant (a non-empty string of "
            f"at most {MAX_TENANT_LENGTH} characters); ask the identity provider to add it",
        )
    return TenantId(tenant)


def read_scope_names(claims: Mapping[str, Any], claim: str) -> list[str]:
    """The scope names in ``claim``: a space-separated string or a list; none when absent."""
    value = claims.get(claim)
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return value
    raise Unauthenticated(
        "invalid_token",
        f"the token's {claim!r} claim must be a space-separated string or a list of strings",
    )
