"""The provisioned database is a real PostgreSQL 15 that takes connections and queries."""

import asyncpg
import pytest

from events_api.devstack import POSTGRES_MAJOR, PostgresServer

pytestmark = pytest.mark.postgres


async def test_a_query_runs_on_the_provisioned_server(postgres_server: PostgresServer) -> None:
    connection = await asyncpg.connect(postgres_server.dsn, timeout=10)
    try:
        version = await connection.fetchval("SHOW server_version_num", timeout=10)
        await connection.execute("CREATE TEMP TABLE smoke (id int PRIMARY KEY, name text)")
        await connection.executemany(
            "INSERT INTO smoke VALUES ($1, $2)", [(1, "one"), (2, "two")], timeout=10
        )
        rows = await connection.fetch("SELECT name FROM smoke ORDER BY id", timeout=10)
    finally:
        await connection.close(timeout=10)

    assert int(version) // 10000 == POSTGRES_MAJOR
    assert [row["name"] for row in rows] == ["one", "two"]


async def test_the_server_listens_on_loopback_only(postgres_server: PostgresServer) -> None:
    connection = await asyncpg.connect(postgres_server.dsn, timeout=10)
    try:
        listen = await connection.fetchval("SHOW listen_addresses", timeout=10)
    finally:
        await connection.close(timeout=10)
    assert listen == "127.0.0.1"
