"""Fixtures for the runner's tests: a real local HTTP upstream, and runner environments."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from unit.pipeline_runner.helpers import EnvFactory, Upstream, runner_env


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    """A running upstream; its port is in ``.port``."""
    state = Upstream()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state
        if state.gate is not None:
            state.gate.set()
    await server.wait_closed()


@pytest.fixture
def make_env() -> EnvFactory:
    """Build a runner environment: ``make_env(steps, options=..., **settings)``."""
    return runner_env
