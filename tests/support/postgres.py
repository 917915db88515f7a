"""Databases on the PostgreSQL server the tests (and benchmarks) start: one fresh per user."""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from events_api.devstack import PostgresServer


@asynccontextmanager
async def fresh_database(
    server: PostgresServer, *, prefix: str = "db", seconds_per_call: float = 30.0
) -> AsyncIterator[str]:
    """A new, empty database nobody else uses, dropped afterwards; its URL."""
    name = f"{prefix}_{secrets.token_hex(8)}"
    admin = await asyncpg.connect(server.dsn, timeout=seconds_per_call)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"', timeout=seconds_per_call)
        yield f"postgresql://{server.user}@{server.host}:{server.port}/{name}"
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)', timeout=seconds_per_call)
    finally:
        await admin.close(timeout=seconds_per_call)
