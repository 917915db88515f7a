"""A running API application for tests: a client for it and bearer tokens of a few callers."""

from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette

from events_api.app import create_app
from events_api.auth.scopes import Scope
from events_api.auth.settings import AuthMode, AuthSettings
from events_api.auth.static_tokens import encode_token_file, new_token_entry
from events_api.context import AppContext
from events_api.settings import ApiSettings

ALL_SCOPES = tuple(Scope)


@dataclass
class Api:
    """A running application, a client for it, and the bearer tokens of a few callers."""

    app: Starlette
    client: httpx.AsyncClient
    tokens: dict[str, str]

    def auth(self, caller: str) -> dict[str, str]:
        """The Authorization header of `caller`."""
        return {"Authorization": f"Bearer {self.tokens[caller]}"}

    @property
    def context(self) -> AppContext:
        """The application's collaborators (its store, for setting up a test)."""
        context: AppContext = self.app.state.context
        return context


def write_token_file(path: Path) -> dict[str, str]:
    """A token file with callers of two tenants and a read-only one; their raw tokens."""
    callers = {
        "alice": ("tenant-a", ALL_SCOPES),
        "bob": ("tenant-b", ALL_SCOPES),
        "reader": ("tenant-a", (Scope.PIPELINES_READ,)),
    }
    minted = {
        name: new_token_entry(name=name, tenant=tenant, scopes=scopes)
        for name, (tenant, scopes) in callers.items()
    }
    path.write_bytes(encode_token_file([token.entry for token in minted.values()]))
    return {name: token.token for name, token in minted.items()}


def pipelines_app(folder: Path) -> tuple[Starlette, dict[str, str]]:
    """An API over SQLite in `folder`, static tokens for alice, bob and reader, and no trigger
    backend (the events endpoints answer 503); the app and the callers' raw tokens."""
    tokens = write_token_file(folder / "tokens.json")
    app = create_app(
        ApiSettings(
            sqlite_path=str(folder / "pipelines.sqlite3"),
            max_body_bytes=64 * 1024,
            trigger_backend="none",
        ),
        auth_settings=AuthSettings(
            mode=AuthMode.STATIC, static_tokens_file=str(folder / "tokens.json")
        ),
    )
    return app, tokens
