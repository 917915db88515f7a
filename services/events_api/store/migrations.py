"""Versioned schema migrations, applied when a store opens.

The numbered SQL files live in :mod:`events_api.store.schema`. A ``schema_migrations`` table
records each applied step with the checksum of its SQL; opening applies the missing steps in
order, each with its bookkeeping row, in one transaction, so a crash leaves the schema at a step
boundary. Two replicas starting together must not both migrate:

* PostgreSQL: the transaction first takes a transaction-scoped advisory lock; the second replica
  waits, then finds every step applied.
* SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock for the same effect.

A step recorded with another checksum means the code and the database disagree about history;
opening fails rather than guess. Steps the database has beyond the code's (a newer replica
migrated during a rolling update) are accepted: migrations are written to stay compatible with
the previous release.
"""

import hashlib
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from importlib import resources

import aiosqlite
import msgspec

from events_api.store.errors import StoreError
from events_api.store.postgres_connections import Connection
from events_api.store.timestamps import to_micros

_FILE_NAME = re.compile(r"(?P<number>\d{4})_(?P<name>[a-z0-9_]+)\.(?P<backend>[a-z]+)\.sql")

# An arbitrary, fixed 64-bit key: "pipeline-events migrations" for every replica.
ADVISORY_LOCK_KEY = 0x7069_7065_6576_6E74

_SQLITE_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY NOT NULL,
    name       TEXT    NOT NULL,
    checksum   TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT
"""

_POSTGRES_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL
)
"""


class Backend(StrEnum):
    """The database a migration file is written for."""

    SQLITE = "sqlite"
    POSTGRES = "postgres"


class Migration(msgspec.Struct, frozen=True, kw_only=True):
    """One numbered schema step."""

    number: int
    """1, 2, …: the order of application."""
    name: str
    """What the step does, from its file name."""
    sql: str
    """The statements."""

    @property
    def checksum(self) -> str:
        """SHA-256 of the SQL, recorded when applied."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations(backend: Backend) -> tuple[Migration, ...]:
    """Read the backend's migration files (blocking file I/O: call it in a thread).

    Raises:
        StoreError: the numbers are not 1, 2, … without gaps (a packaging mistake).
    """
    found: list[Migration] = []
    for entry in resources.files("events_api.store.schema").iterdir():
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None or match["backend"] != backend:
            continue
        found.append(
            Migration(
                number=int(match["number"]),
                name=match["name"],
                sql=entry.read_text(encoding="utf-8"),
            )
        )
    found.sort(key=lambda migration: migration.number)
    numbers = [migration.number for migration in found]
    if numbers != list(range(1, len(found) + 1)):
        raise StoreError(f"{backend} migrations must be numbered 1, 2, … without gaps: {numbers}")
    return tuple(found)


def pending_migrations(
    migrations: Sequence[Migration], applied: Mapping[int, str]
) -> list[Migration]:
    """The steps not applied yet, after checking the applied ones are the ones we know.

    Args:
        migrations: every step the code knows, in order.
        applied: checksum by step number, as recorded in ``schema_migrations``.

    Raises:
        StoreError: an applied step's SQL differs from the code's.
    """
    for migration in migrations:
        recorded = applied.get(migration.number)
        if recorded is not None and recorded != migration.checksum:
            raise StoreError(
                f"schema migration {migration.number} ({migration.name}) was applied with other "
                "SQL than this code has; restore the original file and add a new migration instead"
            )
    return [migration for migration in migrations if migration.number not in applied]


def split_statements(sql: str) -> list[str]:
    """Split an SQLite script into statements (sqlite3 runs one statement per ``execute``)."""
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if _has_code(statement):
                statements.append(statement)
            pending = ""
    if _has_code(pending):
        raise StoreError(f"unterminated SQL statement in a migration: {pending.strip()[:80]!r}")
    return statements


def _has_code(text: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


async def migrate_sqlite(
    connection: aiosqlite.Connection, migrations: Sequence[Migration], *, now: datetime
) -> list[int]:
    """Apply the missing steps on an autocommit-mode connection; return their numbers."""
    await connection.execute("BEGIN IMMEDIATE")
    try:
        await connection.execute(_SQLITE_BOOKKEEPING)
        rows = await connection.execute_fetchall("SELECT version, checksum FROM schema_migrations")
        todo = pending_migrations(migrations, {int(row[0]): str(row[1]) for row in rows})
        for migration in todo:
            for statement in split_statements(migration.sql):
                await connection.execute(statement)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                "VALUES (?, ?, ?, ?)",
                (migration.number, migration.name, migration.checksum, to_micros(now)),
            )
        await connection.commit()
    except BaseException:
        await connection.rollback()
        raise
    return [migration.number for migration in todo]


async def migrate_postgres(
    connection: Connection,
    migrations: Sequence[Migration],
    *,
    now: datetime,
    statement_timeout_seconds: float,
) -> list[int]:
    """Apply the missing steps under the migrations advisory lock; return their numbers.

    The lock is transaction-scoped, so it is released by the commit or rollback, also when the
    connection breaks. Statements get the migration's bound rather than the pool's per-call
    one: waiting for another replica's migration, or migrating a big table, takes longer.
    """
    limit = statement_timeout_seconds
    async with connection.transaction():
        await connection.execute(
            "SELECT pg_advisory_xact_lock($1)", ADVISORY_LOCK_KEY, timeout=limit
        )
        await connection.execute(_POSTGRES_BOOKKEEPING, timeout=limit)
        rows = await connection.fetch(
            "SELECT version, checksum FROM schema_migrations", timeout=limit
        )
        todo = pending_migrations(
            migrations, {int(row["version"]): str(row["checksum"]) for row in rows}
        )
        for migration in todo:
            # Without arguments asyncpg uses the simple protocol: several statements are fine.
            await connection.execute(migration.sql, timeout=limit)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                "VALUES ($1, $2, $3, $4)",
                migration.number,
                migration.name,
                migration.checksum,
                now,
                timeout=limit,
            )
    return [migration.number for migration in todo]
