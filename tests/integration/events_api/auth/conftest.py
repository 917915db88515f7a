"""Fixtures of the auth integration tests: a real JWKS server, a real HTTP client, fake time."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from integration.events_api.auth.jwks_server import JwksServer
from unit.events_api.auth.fakes import FakeClock


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    """A JWKS endpoint on 127.0.0.1, publishing nothing until a test says what."""
    server = JwksServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """A real client that ignores proxy variables (the server is local)."""
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    """Time the tests move by hand."""
    return FakeClock()
