"""An API application over a real SQLite store and a real static-token file, per test."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from events_api.app import create_app
from events_api.auth.settings import AuthMode, AuthSettings
from events_api.settings import ApiSettings
from support.api import Api, write_token_file


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    """The API with SQLite under `tmp_path` and static tokens for alice, bob and reader."""
    tokens = write_token_file(tmp_path / "tokens.json")
    app = create_app(
        ApiSettings(
            sqlite_path=str(tmp_path / "pipelines.sqlite3"),
            max_body_bytes=64 * 1024,
            trigger_backend="none",
        ),
        auth_settings=AuthSettings(
            mode=AuthMode.STATIC, static_tokens_file=str(tmp_path / "tokens.json")
        ),
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as client,
    ):
        yield Api(app=app, client=client, tokens=tokens)
