"""A principal carries its tenant and scopes; require_scope names what is missing."""

import pytest

from events_api.auth.errors import AuthError, MissingScope
from events_api.auth.principal import Principal, require_scope
from events_api.auth.scopes import Scope, describe_scopes, known_scopes, unknown_scopes
from pipeline_models import TenantId

READER = Principal(
    subject="user-1", tenant=TenantId("team-a"), scopes=frozenset({Scope.PIPELINES_READ})
)


def test_a_granted_scope_passes() -> None:
    require_scope(READER, Scope.PIPELINES_READ)


@pytest.mark.parametrize("scope", [Scope.PIPELINES_WRITE, Scope.EVENTS_READ, Scope.EVENTS_WRITE])
def test_a_missing_scope_is_named(scope: Scope) -> None:
    with pytest.raises(MissingScope) as caught:
        require_scope(READER, scope)
    assert caught.value.scope is scope
    assert caught.value.code == "insufficient_scope"
    assert scope.value in caught.value.message
    assert isinstance(caught.value, AuthError)
    assert caught.value.permanent


def test_unknown_scope_names_are_dropped_or_reported() -> None:
    names = ["openid", "events:read", "pipelines:admin", "events:read"]
    assert known_scopes(names) == {Scope.EVENTS_READ}
    assert unknown_scopes(names) == ["openid", "pipelines:admin"]
    assert describe_scopes() == "events:read, events:write, pipelines:read, pipelines:write"


def test_principals_are_immutable_values() -> None:
    same = Principal(subject="user-1", tenant=TenantId("team-a"), scopes=READER.scopes)
    assert same == READER
    with pytest.raises(AttributeError):
        READER.tenant = TenantId("team-b")  # type: ignore[misc]
