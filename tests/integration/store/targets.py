"""Where a store test's database lives, and raw access for the few tests that go around the store.

A :class:`StoreTarget` names one fresh database (a SQLite file, or a PostgreSQL database of its
own); :meth:`StoreTarget.open` opens a store on it, and calling it twice gives two "replicas"
sharing the data, as two API processes would.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiosqlite
import asyncpg

from events_api.store import PipelineStore, StoreOptions, open_store
from events_api.store.timestamps import Clock, utc_now

Backend = Literal["sqlite", "postgres"]
TIMEOUT = 30.0


@dataclass(frozen=True)
class StoreTarget:
    """One test's database on one backend."""

    backend: Backend
    database_url: str | None
    sqlite_path: Path

    def open(
        self, *, options: StoreOptions | None = None, clock: Clock = utc_now
    ) -> AbstractAsyncContextManager[PipelineStore]:
        """A store on this database (each call: another replica)."""
        return open_store(
            database_url=self.database_url,
            sqlite_path=self.sqlite_path,
            options=options,
            clock=clock,
        )

    async def fetch(self, *, sqlite: str, postgres: str, args: Sequence[Any] = ()) -> list[Any]:
        """Rows of a raw query (as tuples), written once per backend."""
        if self.database_url is None:
            async with aiosqlite.connect(self.sqlite_path, isolation_level=None) as db:
                return [tuple(row) for row in await db.execute_fetchall(sqlite, args)]
        connection = await asyncpg.connect(self.database_url, timeout=TIMEOUT)
        try:
            rows = await connection.fetch(postgres, *args, timeout=TIMEOUT)
        finally:
            await connection.close(timeout=TIMEOUT)
        return [tuple(row) for row in rows]

    async def execute(self, *, sqlite: str, postgres: str, args: Sequence[Any] = ()) -> None:
        """Run a raw statement, written once per backend."""
        await self.fetch(sqlite=sqlite, postgres=postgres, args=args)

    @asynccontextmanager
    async def holding_write_lock(self) -> AsyncIterator[None]:
        """Another client holds the pipelines' write lock (reads stay possible) until exit."""
        if self.database_url is None:
            async with aiosqlite.connect(self.sqlite_path, isolation_level=None) as db:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                finally:
                    await db.rollback()
            return
        connection = await asyncpg.connect(self.database_url, timeout=TIMEOUT)
        try:
            async with connection.transaction():
                # EXCLUSIVE blocks writers but not plain SELECTs.
                await connection.execute("LOCK TABLE pipelines IN EXCLUSIVE MODE", timeout=TIMEOUT)
                yield
        finally:
            await connection.close(timeout=TIMEOUT)
