"""Auth settings: typed from PIPELINE_EVENTS_AUTH_*, nonsense refused naming the variable."""

from typing import Any

import pytest

from events_api.auth.errors import AuthConfigError
from events_api.auth.settings import AuthMode, AuthSettings, load_auth_settings

SECRET = "x" * 32
JWT = {
    "PIPELINE_EVENTS_AUTH_MODE": "jwt",
    "PIPELINE_EVENTS_AUTH_JWT_ISSUER": "https://issuer.example",
    "PIPELINE_EVENTS_AUTH_JWT_AUDIENCE": "pipeline-events",
    "PIPELINE_EVENTS_AUTH_JWKS_URL": "https://issuer.example/jwks",
}


def jwt_settings(**overrides: Any) -> AuthSettings:
    fields: dict[str, Any] = {
        "mode": AuthMode.JWT,
        "jwt_issuer": "https://issuer.example",
        "jwt_audience": "pipeline-events",
        "jwks_url": "https://issuer.example/jwks",
    }
    return AuthSettings(**(fields | overrides))


def test_static_mode_from_the_environment() -> None:
    settings = load_auth_settings({"PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE": "/etc/tokens.json"})
    assert settings.mode is AuthMode.STATIC
    assert settings.static_tokens_file == "/etc/tokens.json"


def test_jwt_mode_from_the_environment_with_defaults() -> None:
    settings = load_auth_settings(JWT)
    assert settings.mode is AuthMode.JWT
    assert settings.jwt_algorithms == ("RS256", "ES256")
    assert settings.asymmetric_algorithms == ("RS256", "ES256")
    assert settings.leeway_seconds == 30.0
    assert settings.jwks_min_refresh_seconds == 30.0
    assert settings.jwks_ttl_seconds == 600.0
    assert settings.tenant_claim == "tenant"
    assert settings.scopes_claim == "scope"
    assert not settings.hs256_enabled


def test_variables_are_converted_to_their_types() -> None:
    settings = load_auth_settings(
        JWT
        | {
            "PIPELINE_EVENTS_AUTH_JWT_ALGORITHMS": "ES256, PS256",
            "PIPELINE_EVENTS_AUTH_LEEWAY_SECONDS": "5",
            "PIPELINE_EVENTS_AUTH_ALLOW_HS256": "true",
            "PIPELINE_EVENTS_AUTH_HS256_SECRET": SECRET,
            "PIPELINE_EVENTS_AUTH_SCOPES_CLAIM": "scp",
        }
    )
    assert settings.jwt_algorithms == ("ES256", "PS256")
    assert settings.leeway_seconds == 5.0
    assert settings.hs256_enabled
    assert settings.scopes_claim == "scp"


def test_a_malformed_value_names_the_variable() -> None:
    with pytest.raises(AuthConfigError, match=r"^invalid PIPELINE_EVENTS_AUTH_LEEWAY_SECONDS: "):
        load_auth_settings(JWT | {"PIPELINE_EVENTS_AUTH_LEEWAY_SECONDS": "soon"})
    with pytest.raises(AuthConfigError, match=r"PIPELINE_EVENTS_AUTH_MODE"):
        load_auth_settings({"PIPELINE_EVENTS_AUTH_MODE": "ldap"})


def test_hs256_only_development_mode_needs_no_jwks_url() -> None:
    settings = jwt_settings(jwks_url=None, allow_hs256=True, hs256_secret=SECRET)
    assert settings.hs256_enabled
    assert settings.jwks_url is None


def test_the_secret_never_shows_in_a_repr() -> None:
    settings = jwt_settings(allow_hs256=True, hs256_secret=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert "hs256_secret='<redacted>'" in repr(settings)


@pytest.mark.parametrize(
    ("fields", "variable"),
    [
        ({"mode": AuthMode.STATIC}, "PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE"),
        ({"jwt_issuer": None}, "PIPELINE_EVENTS_AUTH_JWT_ISSUER"),
        ({"jwt_audience": ""}, "PIPELINE_EVENTS_AUTH_JWT_AUDIENCE"),
        ({"jwks_url": None}, "PIPELINE_EVENTS_AUTH_JWKS_URL"),
        ({"jwks_url": "http://issuer.example/jwks"}, "PIPELINE_EVENTS_AUTH_JWKS_URL"),
        ({"jwks_url": "issuer.example/jwks"}, "PIPELINE_EVENTS_AUTH_JWKS_URL"),
        ({"allow_hs256": True}, "PIPELINE_EVENTS_AUTH_HS256_SECRET"),
        ({"hs256_secret": SECRET}, "PIPELINE_EVENTS_AUTH_ALLOW_HS256"),
        ({"allow_hs256": True, "hs256_secret": "short"}, "PIPELINE_EVENTS_AUTH_HS256_SECRET"),
        ({"jwt_algorithms": ("RS256", "HS256")}, "PIPELINE_EVENTS_AUTH_ALLOW_HS256"),
        ({"jwt_algorithms": ("none",)}, "PIPELINE_EVENTS_AUTH_JWT_ALGORITHMS"),
        ({"jwt_algorithms": ("HS512",)}, "PIPELINE_EVENTS_AUTH_JWT_ALGORITHMS"),
        ({"jwt_algorithms": ()}, "PIPELINE_EVENTS_AUTH_JWT_ALGORITHMS"),
        (
            {"jwt_algorithms": ("HS256",), "allow_hs256": True, "hs256_secret": SECRET},
            "PIPELINE_EVENTS_AUTH_JWT_ALGORITHMS",
        ),
        ({"tenant_claim": ""}, "PIPELINE_EVENTS_AUTH_TENANT_CLAIM"),
        ({"scopes_claim": ""}, "PIPELINE_EVENTS_AUTH_SCOPES_CLAIM"),
        ({"leeway_seconds": -1.0}, "PIPELINE_EVENTS_AUTH_LEEWAY_SECONDS"),
        ({"jwks_timeout_seconds": 0.0}, "PIPELINE_EVENTS_AUTH_JWKS_TIMEOUT_SECONDS"),
        ({"jwks_connect_timeout_seconds": 0.0}, "PIPELINE_EVENTS_AUTH_JWKS_CONNECT_TIMEOUT"),
        ({"jwks_min_refresh_seconds": 0.0}, "PIPELINE_EVENTS_AUTH_JWKS_MIN_REFRESH_SECONDS"),
        ({"jwks_ttl_seconds": 10.0}, "PIPELINE_EVENTS_AUTH_JWKS_TTL_SECONDS"),
    ],
)
def test_nonsense_is_refused_naming_the_variable(fields: dict[str, Any], variable: str) -> None:
    with pytest.raises(AuthConfigError, match=variable):
        jwt_settings(**fields)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/jwks", "http://localhost/jwks", "http://[::1]:9/jwks"]
)
def test_plain_http_is_allowed_on_loopback_only(url: str) -> None:
    assert jwt_settings(jwks_url=url).jwks_url == url
