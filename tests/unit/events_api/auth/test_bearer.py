"""The Authorization header is parsed strictly; the challenge follows RFC 6750."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events_api.auth.bearer import MAX_TOKEN_LENGTH, bearer_challenge, parse_bearer_token
from events_api.auth.errors import MissingScope, Unauthenticated
from events_api.auth.scopes import Scope

_TOKEN68 = st.from_regex(r"[A-Za-z0-9\-._~+/]{1,64}={0,2}", fullmatch=True)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer   abc", "abc"),
        ("  Bearer abc  ", "abc"),
        ("Bearer a-b_c~d+e/f==", "a-b_c~d+e/f=="),
    ],
)
def test_a_bearer_token_is_extracted(header: str, token: str) -> None:
    assert parse_bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_header_is_a_missing_token(header: str | None) -> None:
    with pytest.raises(Unauthenticated) as caught:
        parse_bearer_token(header)
    assert caught.value.code == "missing_token"
    assert "Authorization: Bearer <token>" in caught.value.message


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token abc",
        "Bearerabc",
        "Bearer abc def",
        "Bearer abc,def",
        "Bearer a=b",
        'Bearer "abc"',
        "Bearer\tabc",
        "Bearer ab\u00e9c",
        "Bearer =abc",
        "abc",
        ":",
    ],
)
def test_anything_else_is_malformed(header: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        parse_bearer_token(header)
    assert caught.value.code == "malformed_token"


def test_an_overlong_token_is_refused_before_any_work() -> None:
    with pytest.raises(Unauthenticated) as caught:
        parse_bearer_token("Bearer " + "a" * (MAX_TOKEN_LENGTH + 1))
    assert caught.value.code == "malformed_token"
    assert parse_bearer_token("Bearer " + "a" * MAX_TOKEN_LENGTH) == "a" * MAX_TOKEN_LENGTH


def test_the_message_never_echoes_what_was_sent() -> None:
    with pytest.raises(Unauthenticated) as caught:
        parse_bearer_token("Bearer secret-part other-secret-part")
    assert "secret" not in str(caught.value)


@given(token=_TOKEN68)
def test_every_token68_round_trips(token: str) -> None:
    assert parse_bearer_token(f"Bearer {token}") == token


@given(header=st.text(max_size=80))
def test_any_header_gives_a_token_or_unauthenticated(header: str) -> None:
    try:
        token = parse_bearer_token(header)
    except Unauthenticated as error:
        code = error.code
    else:
        assert token
        assert token in header
        return
    assert code in {"missing_token", "malformed_token"}


@pytest.mark.parametrize(
    ("error", "challenge"),
    [
        (None, 'Bearer realm="pipeline-events"'),
        (Unauthenticated("missing_token", "send one"), 'Bearer realm="pipeline-events"'),
        (
            Unauthenticated("malformed_token", 'bad "header" \\ here'),
            'Bearer realm="pipeline-events", error="invalid_request", '
            "error_description=\"bad 'header' ' here\"",
        ),
        (
            Unauthenticated("expired_token", "the token has expired"),
            'Bearer realm="pipeline-events", error="invalid_token", '
            'error_description="the token has expired"',
        ),
        (
            MissingScope(Scope.EVENTS_WRITE),
            'Bearer realm="pipeline-events", error="insufficient_scope", scope="events:write"',
        ),
    ],
)
def test_the_challenge_follows_rfc_6750(
    error: Unauthenticated | MissingScope | None, challenge: str
) -> None:
    assert bearer_challenge(error) == challenge
