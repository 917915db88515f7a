"""The packaged migrations: numbered without gaps, same steps on both backends, never edited."""

import sqlite3

import pytest

from events_api.store.errors import StoreError
from events_api.store.migrations import (
    Backend,
    Migration,
    load_migrations,
    pending_migrations,
    split_statements,
)


def test_both_backends_have_the_same_numbered_steps() -> None:
    sqlite = load_migrations(Backend.SQLITE)
    postgres = load_migrations(Backend.POSTGRES)

    assert [(m.number, m.name) for m in sqlite] == [(m.number, m.name) for m in postgres]
    assert [m.number for m in sqlite] == list(range(1, len(sqlite) + 1))


def test_the_sqlite_steps_run_on_an_empty_database() -> None:
    db = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for migration in load_migrations(Backend.SQLITE):
            for statement in split_statements(migration.sql):
                db.execute(statement)
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_schema")}
    finally:
        db.close()

    assert {"pipelines", "pipeline_versions", "trigger_intents"} <= tables


def test_statements_split_at_their_ends_only() -> None:
    sql = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x TEXT DEFAULT ';');\n\nSELECT 1;\n-- end\n"
    )

    assert split_statements(sql) == [
        "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "SELECT 1;",
    ]


def test_an_unterminated_statement_is_refused() -> None:
    with pytest.raises(StoreError, match="unterminated"):
        split_statements("SELECT 1;\nSELECT 2")


_FIRST = Migration(number=1, name="first", sql="CREATE TABLE a (x INTEGER);")
_SECOND = Migration(number=2, name="second", sql="CREATE TABLE b (x INTEGER);")


def test_pending_steps_are_the_unapplied_ones_in_order() -> None:
    assert pending_migrations([_FIRST, _SECOND], {}) == [_FIRST, _SECOND]
    assert pending_migrations([_FIRST, _SECOND], {1: _FIRST.checksum}) == [_SECOND]
    # A newer release's step (3) is tolerated.
    assert pending_migrations([_FIRST, _SECOND], {1: _FIRST.checksum, 3: "x"}) == [_SECOND]


def test_an_applied_step_with_other_sql_is_refused() -> None:
    with pytest.raises(StoreError, match="migration 1"):
        pending_migrations([_FIRST, _SECOND], {1: _SECOND.checksum})
