"""Fixtures of the store's contract suite: every test runs on SQLite and on a real PostgreSQL.

``store_target`` is parametrized over both backends and gives each test a database nobody else
uses: a file in ``tmp_path``, or a database created on the session's PostgreSQL server (and
dropped afterwards). ``store`` opens the store on it, migrations included.
"""

from collections.abc import AsyncIterator

import pytest

from events_api.devstack import PostgresServer
from events_api.store import PipelineStore
from integration.store.targets import TIMEOUT, Backend, StoreTarget
from pipeline_models import TenantId
from support.postgres import fresh_database


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest) -> Backend:
    """The backend under test."""
    name: Backend = request.param
    return name


@pytest.fixture
async def store_target(
    backend: Backend, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StoreTarget]:
    """A fresh, empty database on the backend under test."""
    sqlite_path = tmp_path_factory.mktemp("store") / "state" / "pipelines.db"
    if backend == "sqlite":
        yield StoreTarget(backend=backend, database_url=None, sqlite_path=sqlite_path)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    async with fresh_database(server, prefix="store", seconds_per_call=TIMEOUT) as database_url:
        yield StoreTarget(backend=backend, database_url=database_url, sqlite_path=sqlite_path)


@pytest.fixture
async def store(store_target: StoreTarget) -> AsyncIterator[PipelineStore]:
    """The store under test, on a fresh database."""
    async with store_target.open() as opened:
        yield opened


@pytest.fixture
def tenant() -> TenantId:
    """The tenant most tests act as."""
    return TenantId("tenant-a")


@pytest.fixture
def other_tenant() -> TenantId:
    """Someone else, who must never see the first tenant's pipelines."""
    return TenantId("tenant-b")
