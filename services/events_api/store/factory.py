"""Opening the right pipeline store for the configuration: PostgreSQL when a URL is set.

``open_store`` is an async context manager for the API's lifespan: it connects, applies the
schema migrations, yields a :class:`PipelineStore`, and closes it on the way out.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from events_api.store.options import StoreOptions
from events_api.store.postgres import PostgresPipelineStore
from events_api.store.protocol import PipelineStore
from events_api.store.sqlite import SqlitePipelineStore
from events_api.store.timestamps import Clock, utc_now

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@asynccontextmanager
async def open_store(
    *,
    database_url: str | None,
    sqlite_path: Path,
    options: StoreOptions | None = None,
    clock: Clock = utc_now,
) -> AsyncIterator[PipelineStore]:
    """Open the store: PostgreSQL at ``database_url`` if set, else SQLite at ``sqlite_path``.

    Args:
        database_url: a libpq URL (``postgresql://user@host:5432/db``); None or "" for SQLite.
        sqlite_path: the SQLite file (created with its folder); unused with PostgreSQL.
        options: timeouts and pool sizes; the defaults suit both backends.
        clock: the source of the times stored (tests pass a fake).

    Raises:
        ValueError: ``database_url`` is not a PostgreSQL URL.
        StoreUnavailable: the database cannot be reached (retry later).
        StoreError: the database cannot be used (e.g. its schema history differs from ours).
    """
    options = options or StoreOptions()
    store: PipelineStore
    if database_url:
        if not database_url.startswith(POSTGRES_SCHEMES):
            raise ValueError(
                "the database URL must start with postgresql:// or postgres://; "
                "leave it unset to use SQLite"
            )
        store = await PostgresPipelineStore.open(database_url, options=options, clock=clock)
    else:
        store = await SqlitePipelineStore.open(sqlite_path, options=options, clock=clock)
    try:
        yield store
    finally:
        await store.close()
