"""SQLite connections for the development store: a small pool, one writer at a time.

Each aiosqlite connection runs sqlite3 in its own thread, so no query blocks the event loop.
Connections are in autocommit mode and every store call is an explicit transaction:

* :meth:`SqliteConnections.reading` — ``BEGIN`` (deferred): a consistent snapshot; in WAL mode
  readers never wait for the writer;
* :meth:`SqliteConnections.writing` — an in-process lock, then ``BEGIN IMMEDIATE``: the file's
  write lock is taken up front, so the read-check-write of an optimistic update cannot
  interleave with another writer, in this process or another one sharing the file (that one
  waits up to ``busy_timeout``).

Every call is bounded by the operation timeout. A connection whose rollback fails is closed and
replaced on its next use. sqlite3 errors are translated here, once (:func:`translate_sqlite_error`).
"""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import aiosqlite

from events_api.store.errors import StoreError, StoreUnavailable
from events_api.store.options import StoreOptions

MIN_SQLITE_VERSION = (3, 37, 0)
"""STRICT tables (3.37) and RETURNING (3.35)."""

# Primary result codes worth retrying: another writer, I/O trouble, a full disk, no file (yet).
_RETRYABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)
_CLOSE_TIMEOUT_SECONDS = 5.0
_WAL_RETRY_SECONDS = 0.02


def translate_sqlite_error(error: sqlite3.Error | TimeoutError) -> StoreError:
    """The store error for a sqlite3 error or a timeout (the caller raises it ``from`` error)."""
    if isinstance(error, TimeoutError):
        return StoreUnavailable("the SQLite database did not answer in time")
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _RETRYABLE_CODES:
        return StoreUnavailable(f"the SQLite database is unavailable: {error}")
    return StoreError(f"SQLite failed: {error}")


@contextmanager
def sqlite_errors_translated() -> Iterator[None]:
    """Translate sqlite3 errors and timeouts raised inside into store errors."""
    try:
        yield
    except (sqlite3.Error, TimeoutError) as error:
        raise translate_sqlite_error(error) from error


async def connect_sqlite(path: Path, *, options: StoreOptions) -> aiosqlite.Connection:
    """Open one connection: autocommit mode, WAL, busy timeout, foreign keys on."""
    if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
        raise StoreError(
            f"SQLite {sqlite3.sqlite_version} is too old; the store needs 3.37 or newer"
        )
    busy_ms = int(options.sqlite_busy_timeout_seconds * 1000)
    async with asyncio.timeout(options.connect_timeout_seconds):
        connection = await aiosqlite.connect(
            path, isolation_level=None, timeout=options.sqlite_busy_timeout_seconds
        )
        try:
            await _configure(connection, path=path, busy_ms=busy_ms)
        except BaseException:
            await _close_quietly(connection)
            raise
    return connection


async def _configure(connection: aiosqlite.Connection, *, path: Path, busy_ms: int) -> None:
    await connection.execute(f"PRAGMA busy_timeout = {busy_ms}")
    await _use_wal(connection, path=path)
    await connection.execute("PRAGMA foreign_keys = ON")
    # NORMAL is durable in WAL mode except for the last commits on power loss.
    await connection.execute("PRAGMA synchronous = NORMAL")


async def _use_wal(connection: aiosqlite.Connection, *, path: Path) -> None:
    """Switch the file to WAL (a property of the file, kept once set).

    Switching needs the file to itself and SQLite answers "busy" at once, without its busy
    handler, when another connection opens it at the same moment: so retry briefly; the
    caller's connect timeout bounds the loop.
    """
    while True:
        mode = await _journal_mode(connection, "PRAGMA journal_mode")
        if mode == "wal":
            return
        try:
            mode = await _journal_mode(connection, "PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}:
                raise
            await asyncio.sleep(_WAL_RETRY_SECONDS)
            continue
        if mode != "wal":
            raise StoreError(f"SQLite refused WAL mode for {path} (journal mode {mode!r})")
        return


async def _journal_mode(connection: aiosqlite.Connection, pragma: str) -> str:
    rows = list(await connection.execute_fetchall(pragma))
    return str(rows[0][0]).lower()


class SqliteConnections:
    """A fixed number of connections to one SQLite file, handed out one call at a time."""

    def __init__(self, path: Path, *, options: StoreOptions) -> None:
        self._path = path
        self._options = options
        # None marks a slot whose connection was dropped; it is reopened on next use.
        self._slots: asyncio.Queue[aiosqlite.Connection | None] = asyncio.Queue()
        for _ in range(options.sqlite_connections):
            self._slots.put_nowait(None)
        self._write_lock = asyncio.Lock()
        self._closed = False

    async def open(self) -> None:
        """Open every connection now, so a file that cannot be used fails the start-up."""
        with sqlite_errors_translated():
            for _ in range(self._slots.qsize()):
                slot = self._slots.get_nowait()
                try:
                    slot = await connect_sqlite(self._path, options=self._options)
                finally:
                    # Every slot goes back, opened or not, so close() finds them all.
                    self._slots.put_nowait(slot)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        """A connection inside a read transaction (a snapshot), bounded by the call timeout."""
        with sqlite_errors_translated():
            async with (
                asyncio.timeout(self._options.operation_timeout_seconds),
                self._transaction("BEGIN") as connection,
            ):
                yield connection

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[aiosqlite.Connection]:
        """A connection for ONE statement, outside a transaction, bounded by the call timeout.

        SQLite runs a lone statement atomically (autocommit), so a one-statement read needs no
        BEGIN and COMMIT: one hop to the connection's thread instead of three.
        """
        with sqlite_errors_translated():
            async with (
                asyncio.timeout(self._options.operation_timeout_seconds),
                self._connection() as connection,
            ):
                yield connection

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """A connection inside ``BEGIN IMMEDIATE``, one writer at a time, bounded likewise."""
        with sqlite_errors_translated():
            async with (
                asyncio.timeout(self._options.operation_timeout_seconds),
                self._write_lock,
                self._transaction("BEGIN IMMEDIATE") as connection,
            ):
                yield connection

    @asynccontextmanager
    async def migrating(self) -> AsyncIterator[aiosqlite.Connection]:
        """A connection outside any transaction (the migration runs its own), one writer."""
        async with self._write_lock, self._connection() as connection:
            yield connection

    @asynccontextmanager
    async def _transaction(self, begin: str) -> AsyncIterator[aiosqlite.Connection]:
        async with self._connection() as connection:
            await connection.execute(begin)
            try:
                yield connection
            except BaseException:
                await self._roll_back(connection)
                raise
            await connection.commit()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._closed:
            raise StoreUnavailable("the pipeline store is closed")
        connection = await self._slots.get()
        try:
            if connection is None:
                connection = await connect_sqlite(self._path, options=self._options)
            yield connection
        except BaseException:
            # A connection that failed mid-call may be mid-transaction: start afresh next time.
            if connection is not None and connection.in_transaction:
                await _close_quietly(connection)
                connection = None
            raise
        finally:
            self._slots.put_nowait(connection)

    async def _roll_back(self, connection: aiosqlite.Connection) -> None:
        # Queued behind any statement still running in the connection's thread; bounded, since
        # a timeout may be why we are here.
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_SECONDS):
                await connection.rollback()
        except (sqlite3.Error, TimeoutError):
            pass  # the caller's error matters more; _connection() replaces this connection

    async def close(self) -> None:
        """Close every connection, waiting for calls in flight; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        for _ in range(self._options.sqlite_connections):
            try:
                async with asyncio.timeout(self._options.operation_timeout_seconds):
                    connection = await self._slots.get()
            except TimeoutError:
                break  # a call is stuck in its thread; its connection is left to the GC
            if connection is not None:
                await _close_quietly(connection)


async def _close_quietly(connection: aiosqlite.Connection) -> None:
    try:
        async with asyncio.timeout(_CLOSE_TIMEOUT_SECONDS):
            await connection.close()
    except (sqlite3.Error, TimeoutError, ValueError):
        # ValueError: aiosqlite's "no active connection"; the thread is stopped either way.
        pass
