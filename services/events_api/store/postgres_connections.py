"""PostgreSQL connections for the production store: an asyncpg pool, bounded calls, one translation.

Every replica of the API has its own pool on the shared database. Each store call takes one
connection for one transaction (or, for a one-statement read, one statement), bounded as a whole
by the operation timeout (waiting for a free connection included), and every statement also
carries asyncpg's ``command_timeout``. The server
ends sessions left idle inside a transaction, so a replica that dies mid-call cannot hold locks.

asyncpg and socket errors are translated once, here (:func:`translate_postgres_error`).
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Literal, TypeAlias

import asyncpg

from events_api.store.errors import StoreError, StoreUnavailable
from events_api.store.options import StoreOptions

APPLICATION_NAME = "pipeline-events"

# Errors worth retrying: the server is unreachable, starting, stopping, overloaded, or a
# statement was cancelled by a timeout; a transaction lost to a deadlock or serialization.
# asyncpg's classes are generic only in its stubs, hence the string aliases.
Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
Connection: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.IdleInTransactionSessionTimeoutError,
)
_TRANSLATED: tuple[type[BaseException], ...] = (
    *_UNAVAILABLE,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def translate_postgres_error(error: BaseException) -> StoreError:
    """The store error for an asyncpg, socket or timeout error (raise it ``from`` error)."""
    if isinstance(error, _UNAVAILABLE):
        return StoreUnavailable(f"PostgreSQL is unavailable: {_describe(error)}")
    if isinstance(error, asyncpg.InterfaceError) and not isinstance(
        error, asyncpg.exceptions.DataError | asyncpg.exceptions.ClientConfigurationError
    ):
        # A closed connection or a closing pool.
        return StoreUnavailable(f"PostgreSQL connection unusable: {_describe(error)}")
    return StoreError(f"PostgreSQL failed: {_describe(error)}")


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__


@contextmanager
def postgres_errors_translated() -> Iterator[None]:
    """Translate asyncpg, socket and timeout errors raised inside into store errors."""
    try:
        yield
    except _TRANSLATED as error:
        raise translate_postgres_error(error) from error


async def _keep_session(_: "asyncpg.Connection[asyncpg.Record]") -> None:
    """Release a connection to the pool as it is (asyncpg rolls back an open transaction first).

    The store never changes session state — no SET, LISTEN, cursors or session-level advisory
    locks (the migration lock is transaction-scoped) — so asyncpg's default reset query would only
    add a round trip to every store call.
    """


async def create_postgres_pool(dsn: str, *, options: StoreOptions) -> Pool:
    """Open the pool (its minimum connections included) within the connect timeout."""
    idle_ms = int(options.operation_timeout_seconds * 2 * 1000)
    with postgres_errors_translated():
        # Each connection attempt has the connect timeout; the pool's start (its minimum
        # connections, then a first query on one) gets twice that.
        async with asyncio.timeout(options.connect_timeout_seconds * 2):
            pool = await asyncpg.create_pool(
                dsn,
                min_size=options.postgres_min_connections,
                max_size=options.postgres_max_connections,
                timeout=options.connect_timeout_seconds,
                command_timeout=options.operation_timeout_seconds,
                reset=_keep_session,
                server_settings={
                    "application_name": APPLICATION_NAME,
                    "idle_in_transaction_session_timeout": str(idle_ms),
                    "timezone": "UTC",
                },
            )
    return pool


@asynccontextmanager
async def postgres_transaction(
    pool: Pool, *, timeout_seconds: float, readonly: bool = False
) -> AsyncIterator[Connection]:
    """A pooled connection inside a transaction, the whole call bounded by the timeout.

    Read-only transactions run at REPEATABLE READ: one snapshot for all their statements (so
    a concurrent delete cannot turn "pipeline not found" into "version not found").
    """
    isolation: Literal["repeatable_read", "read_committed"] = (
        "repeatable_read" if readonly else "read_committed"
    )
    # Inside the statement's scope: its timeout and error translation cover COMMIT too.
    async with (
        postgres_statement(pool, timeout_seconds=timeout_seconds) as connection,
        connection.transaction(isolation=isolation, readonly=readonly),
    ):
        yield connection


@asynccontextmanager
async def postgres_statement(pool: Pool, *, timeout_seconds: float) -> AsyncIterator[Connection]:
    """A pooled connection for ONE statement, outside a transaction, bounded by the timeout.

    A single statement sees one snapshot on its own; without BEGIN and COMMIT the read is one
    round trip instead of three (the status GET makes one on every request).
    """
    with postgres_errors_translated():
        async with (
            asyncio.timeout(timeout_seconds),
            pool.acquire(timeout=timeout_seconds) as connection,
        ):
            yield connection


async def close_postgres_pool(pool: Pool, *, timeout_seconds: float) -> None:
    """Close gracefully within the timeout, then terminate what is left."""
    try:
        async with asyncio.timeout(timeout_seconds):
            await pool.close()
    except TimeoutError:
        pool.terminate()
