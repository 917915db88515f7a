"""Static API tokens: stored as hashes, validated with messages that name the entry."""

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from events_api.auth.authenticator import StaticTokenAuthenticator
from events_api.auth.errors import AuthConfigError, Unauthenticated
from events_api.auth.scopes import Scope
from events_api.auth.static_tokens import (
    StaticTokenEntry,
    encode_token_file,
    hash_token,
    load_static_tokens_file,
    new_token,
    new_token_entry,
    parse_static_tokens,
    read_static_tokens_file,
)
from pipeline_models import TenantId

TOKEN = "s3cr3t-token-for-tests"


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "ci-bot",
        "sha256": hash_token(TOKEN),
        "tenant": "team-a",
        "scopes": ["pipelines:read", "events:write"],
    }
    return base | overrides


def document(*entries: dict[str, Any]) -> bytes:
    return json.dumps({"tokens": list(entries)}).encode()


def test_hash_token_is_hex_sha256() -> None:
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()


def test_a_listed_token_yields_its_principal() -> None:
    table = parse_static_tokens(document(entry()), source="tokens.json")
    principal = table.lookup(TOKEN)
    assert principal is not None
    assert principal.subject == "ci-bot"
    assert principal.tenant == TenantId("team-a")
    assert principal.scopes == {Scope.PIPELINES_READ, Scope.EVENTS_WRITE}


def test_an_unlisted_token_yields_nothing() -> None:
    table = parse_static_tokens(document(entry()), source="tokens.json")
    assert table.lookup(TOKEN + "x") is None
    assert table.lookup(hash_token(TOKEN)) is None


def test_each_token_finds_its_own_entry() -> None:
    other = "another-token"
    table = parse_static_tokens(
        document(entry(), entry(name="ops", sha256=hash_token(other), tenant="team-b")),
        source="tokens.json",
    )
    assert len(table) == 2
    first, second = table.lookup(TOKEN), table.lookup(other)
    assert first is not None
    assert first.tenant == "team-a"
    assert second is not None
    assert second.tenant == "team-b"


def test_upper_case_hex_is_accepted() -> None:
    table = parse_static_tokens(
        document(entry(sha256=hash_token(TOKEN).upper())), source="tokens.json"
    )
    assert table.lookup(TOKEN) is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json", r"tokens\.json: JSON is malformed"),
        (b"{}", r"tokens\.json: Object missing required field `tokens`"),
        (document(), r"lists no tokens"),
        (document(entry(sha256=TOKEN)), r"tokens\[0\] \('ci-bot'\): sha256 must be the 64 hex"),
        (document(entry(), entry(name="b", scopes=["pipelines:admin"])), r"tokens\[1\] \('b'\)"),
        (document(entry(scopes=[])), r"lists no scopes; valid scopes: events:read"),
        (document(entry(tenant=" ")), r"tokens\[0\] \('ci-bot'\): the tenant is empty"),
        (document(entry(name="")), r"tokens\[0\]: the name is empty"),
        (document(entry(token=TOKEN)), r"unknown field `token` - at `\$\.tokens\[0\]`"),
        (document(entry(scopes="events:read")), r"Expected `array`"),
        (
            document(entry(), entry(sha256=hash_token("other"))),
            r"tokens\[0\] and tokens\[1\] are both named 'ci-bot'",
        ),
        (
            document(entry(), entry(name="copy")),
            r"tokens\[0\] \('ci-bot'\) and tokens\[1\] \('copy'\) have the same sha256",
        ),
    ],
)
def test_an_invalid_file_is_refused_naming_the_entry(content: bytes, message: str) -> None:
    with pytest.raises(AuthConfigError, match=message) as caught:
        parse_static_tokens(content, source="tokens.json")
    assert TOKEN not in str(caught.value)


def test_an_unknown_scope_is_named() -> None:
    with pytest.raises(AuthConfigError, match=r"unknown scopes \['pipelines:admin'\]"):
        parse_static_tokens(document(entry(scopes=["pipelines:admin"])), source="t.json")


def test_a_new_entry_accepts_its_token_and_stores_only_the_hash(tmp_path: Path) -> None:
    minted = new_token_entry(name="ops", tenant="team-b", scopes=[Scope.EVENTS_READ])
    assert minted.entry == StaticTokenEntry(
        name="ops", sha256=hash_token(minted.token), tenant="team-b", scopes=["events:read"]
    )
    content = encode_token_file([minted.entry])
    assert minted.token.encode() not in content
    path = tmp_path / "tokens.json"
    path.write_bytes(content)
    principal = read_static_tokens_file(path).lookup(minted.token)
    assert principal is not None
    assert principal.scopes == {Scope.EVENTS_READ}


def test_new_tokens_are_random_and_long() -> None:
    tokens = {new_token() for _ in range(10)}
    assert len(tokens) == 10
    assert all(len(token) >= 43 for token in tokens)


def test_a_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError, match=r"PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE"):
        read_static_tokens_file(tmp_path / "absent.json")


async def test_the_file_is_read_off_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_bytes(document(entry()))
    table = await load_static_tokens_file(path)
    assert table.lookup(TOKEN) is not None


async def test_the_authenticator_checks_the_header_and_the_token(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_bytes(document(entry()))
    authenticator = await StaticTokenAuthenticator.from_file(path)
    principal = await authenticator.authenticate(f"Bearer {TOKEN}")
    assert principal.subject == "ci-bot"
    for header, code in [
        (None, "missing_token"),
        ("Basic abc", "malformed_token"),
        ("Bearer wrong-token", "invalid_token"),
    ]:
        with pytest.raises(Unauthenticated) as caught:
            await authenticator.authenticate(header)
        assert caught.value.code == code
    await authenticator.aclose()


async def test_a_changed_file_is_reloaded_and_a_bad_one_keeps_the_old_tokens(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tokens.json"
    path.write_bytes(document(entry()))
    authenticator = await StaticTokenAuthenticator.from_file(path)
    assert not await authenticator.reload_if_changed()

    # As a Kubernetes Secret update does: a new file swapped in under the same name.
    replacement = tmp_path / "tokens.new"
    replacement.write_bytes(document(entry(name="new", sha256=hash_token("new-token"))))
    os.replace(replacement, path)
    assert await authenticator.reload_if_changed()
    assert (await authenticator.authenticate("Bearer new-token")).subject == "new"
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(f"Bearer {TOKEN}")

    broken = tmp_path / "tokens.broken"
    broken.write_bytes(b"{")
    os.replace(broken, path)
    with pytest.raises(AuthConfigError):
        await authenticator.reload_if_changed()
    assert (await authenticator.authenticate("Bearer new-token")).subject == "new"


def test_minted_tokens_are_marked_and_never_look_like_an_option() -> None:
    for _ in range(200):
        token = new_token()
        assert token.startswith("pe_")
        assert len(token) > 40
