"""An API application over a real SQLite store and a real static-token file, per test."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from support.api import Api, pipelines_app


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    """The API with SQLite under `tmp_path` and static tokens for alice, bob and reader."""
    app, tokens = pipelines_app(tmp_path)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://api") as client,
    ):
        yield Api(app=app, client=client, tokens=tokens)
