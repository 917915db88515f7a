"""Store options reject impossible bounds; errors say whether a retry can help."""

import sqlite3

import asyncpg
import pytest

from events_api.store.errors import (
    InvalidCursor,
    PipelineNotFound,
    StoreError,
    StoreUnavailable,
    VersionConflict,
)
from events_api.store.options import StoreOptions
from events_api.store.postgres_connections import translate_postgres_error
from events_api.store.sqlite_connections import translate_sqlite_error
from pipeline_models import PipelineId, TenantId


@pytest.mark.parametrize(
    "changes",
    [
        {"operation_timeout_seconds": 0},
        {"connect_timeout_seconds": -1},
        {"migration_timeout_seconds": 0},
        {"postgres_min_connections": 0},
        {"postgres_min_connections": 5, "postgres_max_connections": 4},
        {"sqlite_connections": 0},
        {"sqlite_busy_timeout_seconds": 5, "operation_timeout_seconds": 5},
    ],
)
def test_impossible_options_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        StoreOptions(**changes)  # type: ignore[arg-type]


def test_only_unavailability_is_retryable() -> None:
    pid, tenant = PipelineId("pipeline-abcdefghijkl"), TenantId("t")

    assert StoreUnavailable("x").permanent is False
    for error in (
        StoreError("x"),
        PipelineNotFound(tenant, pid),
        VersionConflict(pid, expected=1, actual=2),
        InvalidCursor("x"),
    ):
        assert error.permanent is True


def _sqlite_error(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("x")
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (_sqlite_error(sqlite3.SQLITE_BUSY), True),
        (_sqlite_error(sqlite3.SQLITE_BUSY_SNAPSHOT), True),
        (_sqlite_error(sqlite3.SQLITE_IOERR_WRITE), True),
        (_sqlite_error(sqlite3.SQLITE_CANTOPEN), True),
        (_sqlite_error(sqlite3.SQLITE_CORRUPT), False),
        (sqlite3.ProgrammingError("bad"), False),
        (TimeoutError(), True),
    ],
)
def test_sqlite_errors_are_translated(error: sqlite3.Error | TimeoutError, retryable: bool) -> None:
    translated = translate_sqlite_error(error)

    assert isinstance(translated, StoreError)
    assert isinstance(translated, StoreUnavailable) is retryable


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (asyncpg.exceptions.ConnectionDoesNotExistError("gone"), True),
        (asyncpg.exceptions.CannotConnectNowError("starting"), True),
        (asyncpg.exceptions.TooManyConnectionsError("full"), True),
        (asyncpg.exceptions.QueryCanceledError("statement timeout"), True),
        (asyncpg.exceptions.DeadlockDetectedError("deadlock"), True),
        (asyncpg.exceptions.InterfaceError("connection is closed"), True),
        (asyncpg.exceptions.UndefinedTableError("no table"), False),
        (asyncpg.exceptions.DataError("bad argument"), False),
    ],
)
def test_postgres_errors_are_translated(error: BaseException, retryable: bool) -> None:
    translated = translate_postgres_error(error)

    assert isinstance(translated, StoreError)
    assert isinstance(translated, StoreUnavailable) is retryable
