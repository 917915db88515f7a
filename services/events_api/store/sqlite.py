"""The development pipeline store: one SQLite file, safe for one or a few local processes.

Queries run through :class:`SqliteConnections` (aiosqlite threads, WAL, ``BEGIN IMMEDIATE`` for
writes, a snapshot for multi-statement reads, none for one-statement reads). Times are stored as
integer microseconds (UTC) and page cursors compare them exactly.
"""

import asyncio
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from events_api.store.cursors import (
    decode_pipelines_cursor,
    decode_versions_cursor,
    encode_pipelines_cursor,
    encode_versions_cursor,
)
from events_api.store.errors import (
    PipelineNotFound,
    StoreError,
    VersionConflict,
    VersionNotFound,
)
from events_api.store.migrations import Backend, load_migrations, migrate_sqlite
from events_api.store.options import StoreOptions
from events_api.store.records import (
    DEFAULT_PAGE_SIZE,
    IntentKey,
    Page,
    PipelineRecord,
    StartedTrigger,
    check_page_limit,
)
from events_api.store.rows import (
    intent_version_to_store,
    only_intent,
    page_of,
    pipeline_record,
    pipeline_version,
    trigger_intent,
    written_record,
)
from events_api.store.specs import encode_spec
from events_api.store.sqlite_connections import SqliteConnections, sqlite_errors_translated
from events_api.store.timestamps import Clock, from_micros, to_micros, utc_now
from pipeline_models import (
    PipelineId,
    PipelineSpec,
    PipelineVersion,
    TenantId,
    TriggerIntent,
    new_pipeline_id,
)

_SELECT_PIPELINE = """
SELECT p.id, p.tenant, p.name, p.latest_version, p.created_at, p.updated_at, v.spec
FROM pipelines AS p
JOIN pipeline_versions AS v ON v.pipeline_id = p.id AND v.version = p.latest_version
"""
_ID_ATTEMPTS = 3


class SqlitePipelineStore:
    """:class:`~events_api.store.protocol.PipelineStore` on a SQLite file."""

    def __init__(self, connections: SqliteConnections, *, clock: Clock = utc_now) -> None:
        self._db = connections
        self._clock = clock

    @classmethod
    async def open(
        cls, path: Path, *, options: StoreOptions, clock: Clock = utc_now
    ) -> "SqlitePipelineStore":
        """Open (creating it and its folder if needed) and migrate the database at ``path``."""
        try:
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"cannot create the folder of the SQLite file {path}: {error}"
            ) from error
        migrations = await asyncio.to_thread(load_migrations, Backend.SQLITE)
        connections = SqliteConnections(path, options=options)
        try:
            await connections.open()
            with sqlite_errors_translated():
                async with (
                    asyncio.timeout(options.migration_timeout_seconds),
                    connections.migrating() as connection,
                ):
                    await migrate_sqlite(connection, migrations, now=clock())
        except BaseException:
            await connections.close()
            raise
        return cls(connections, clock=clock)

    async def close(self) -> None:
        """Close the connections; safe to call twice."""
        await self._db.close()

    async def create_pipeline(self, tenant: TenantId, *, spec: PipelineSpec) -> PipelineRecord:
        """Store a new pipeline at version 1."""
        now = to_micros(self._clock())
        # 62 random bits make an id collision practically impossible; retry one anyway.
        for _ in range(_ID_ATTEMPTS):
            pipeline_id = new_pipeline_id()
            async with self._db.writing() as db:
                inserted = await _fetch(
                    db,
                    "INSERT INTO pipelines "
                    "(id, tenant, name, latest_version, created_at, updated_at) "
                    "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
                    (pipeline_id, tenant, spec.name, now, now),
                )
                if inserted:
                    await _insert_version(db, pipeline_id, 1, spec, now)
            if inserted:
                stored_at = from_micros(now)
                return written_record(
                    tenant, pipeline_id, spec, version=1, created_at=stored_at, updated_at=stored_at
                )
        raise StoreError(f"no unused pipeline id after {_ID_ATTEMPTS} attempts")

    async def get_pipeline(self, tenant: TenantId, *, pipeline_id: PipelineId) -> PipelineRecord:
        """The pipeline with its latest spec."""
        async with self._db.statement() as db:
            rows = await _fetch(
                db, _SELECT_PIPELINE + "WHERE p.id = ? AND p.tenant = ?", (pipeline_id, tenant)
            )
        if not rows:
            raise PipelineNotFound(tenant, pipeline_id)
        return _record(rows[0])

    async def list_pipelines(
        self,
        tenant: TenantId,
        *,
        name: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[PipelineRecord]:
        """The tenant's pipelines, oldest first, optionally filtered by exact name."""
        check_page_limit(limit)
        sql = _SELECT_PIPELINE + "WHERE p.tenant = ?"
        params: list[object] = [tenant]
        if name is not None:
            sql += " AND p.name = ?"
            params.append(name)
        if cursor is not None:
            created_at, after_id = decode_pipelines_cursor(cursor)
            sql += " AND (p.created_at, p.id) > (?, ?)"
            params += [to_micros(created_at), after_id]
        sql += " ORDER BY p.created_at, p.id LIMIT ?"
        params.append(limit + 1)
        async with self._db.statement() as db:
            rows = await _fetch(db, sql, params)
        return page_of(
            [_record(row) for row in rows],
            limit=limit,
            cursor_of=lambda record: encode_pipelines_cursor(record.created_at, record.id),
        )

    async def update_pipeline(
        self,
        tenant: TenantId,
        *,
        pipeline_id: PipelineId,
        spec: PipelineSpec,
        expected_version: int | None,
    ) -> PipelineRecord:
        """Store ``spec`` as the next version, if the latest is ``expected_version``."""
        now = to_micros(self._clock())
        async with self._db.writing() as db:
            rows = await _fetch(
                db,
                "SELECT latest_version, created_at FROM pipelines WHERE id = ? AND tenant = ?",
                (pipeline_id, tenant),
            )
            if not rows:
                raise PipelineNotFound(tenant, pipeline_id)
            latest, created_at = int(rows[0][0]), int(rows[0][1])
            if expected_version is not None and latest != expected_version:
                raise VersionConflict(pipeline_id, expected=expected_version, actual=latest)
            version = latest + 1
            await db.execute(
                "UPDATE pipelines SET latest_version = ?, name = ?, updated_at = ? WHERE id = ?",
                (version, spec.name, now, pipeline_id),
            )
            await _insert_version(db, pipeline_id, version, spec, now)
        return written_record(
            tenant,
            pipeline_id,
            spec,
            version=version,
            created_at=from_micros(created_at),
            updated_at=from_micros(now),
        )

    async def delete_pipeline(self, tenant: TenantId, *, pipeline_id: PipelineId) -> None:
        """Delete the pipeline, its versions and its intent (by cascade)."""
        async with self._db.writing() as db:
            rows = await _fetch(
                db,
                "DELETE FROM pipelines WHERE id = ? AND tenant = ? RETURNING id",
                (pipeline_id, tenant),
            )
        if not rows:
            raise PipelineNotFound(tenant, pipeline_id)

    async def list_versions(
        self,
        tenant: TenantId,
        *,
        pipeline_id: PipelineId,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[PipelineVersion]:
        """The pipeline's versions, oldest first."""
        check_page_limit(limit)
        after = 0 if cursor is None else decode_versions_cursor(cursor)
        async with self._db.reading() as db:
            await self._latest_version(db, tenant, pipeline_id)
            rows = await _fetch(
                db,
                "SELECT pipeline_id, version, spec, created_at FROM pipeline_versions "
                "WHERE pipeline_id = ? AND version > ? ORDER BY version LIMIT ?",
                (pipeline_id, after, limit + 1),
            )
        return page_of(
            [_version(row) for row in rows],
            limit=limit,
            cursor_of=lambda item: encode_versions_cursor(item.version),
        )

    async def get_version(
        self, tenant: TenantId, *, pipeline_id: PipelineId, version: int
    ) -> PipelineVersion:
        """One version of the pipeline."""
        async with self._db.reading() as db:
            latest = await self._latest_version(db, tenant, pipeline_id)
            rows = await _fetch(
                db,
                "SELECT pipeline_id, version, spec, created_at FROM pipeline_versions "
                "WHERE pipeline_id = ? AND version = ?",
                (pipeline_id, version),
            )
        if not rows:
            raise VersionNotFound(pipeline_id, version, latest_version=latest)
        return _version(rows[0])

    async def set_trigger_intent(
        self, tenant: TenantId, *, pipeline_id: PipelineId, intent: TriggerIntent
    ) -> None:
        """Record the last requested start or stop."""
        version = intent_version_to_store(intent)
        async with self._db.writing() as db:
            latest = await self._latest_version(db, tenant, pipeline_id)
            if version is not None and not 1 <= version <= latest:
                raise VersionNotFound(pipeline_id, version, latest_version=latest)
            await db.execute(
                "INSERT INTO trigger_intents (pipeline_id, state, version, recorded_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (pipeline_id) DO UPDATE SET "
                "state = excluded.state, version = excluded.version, "
                "recorded_at = excluded.recorded_at",
                (pipeline_id, str(intent.state), version, to_micros(intent.at)),
            )

    async def get_trigger_intent(
        self, tenant: TenantId, *, pipeline_id: PipelineId
    ) -> TriggerIntent | None:
        """The last recorded intent, or None."""
        key = (tenant, pipeline_id)
        return only_intent(await self.get_trigger_intents((key,)), key)

    async def get_trigger_intents(
        self, keys: Collection[IntentKey]
    ) -> dict[IntentKey, TriggerIntent | None]:
        """Many pipelines' intents in one statement; unknown (tenant, pipeline) keys are absent."""
        if not keys:
            return {}
        ids = sorted({pipeline_id for _, pipeline_id in keys})
        async with self._db.statement() as db:
            rows = await _fetch(
                db,
                "SELECT p.tenant, p.id, t.state, t.version, t.recorded_at FROM pipelines AS p "
                "LEFT JOIN trigger_intents AS t ON t.pipeline_id = p.id "
                "WHERE p.id IN (SELECT value FROM json_each(?))",
                (msgspec.json.encode(ids).decode(),),
            )
        wanted = set(keys)
        return {
            key: None
            if state is None
            else trigger_intent(state=state, version=version, recorded_at=from_micros(recorded_at))
            for tenant, pipeline_id, state, version, recorded_at in rows
            if (key := (TenantId(tenant), PipelineId(pipeline_id))) in wanted
        }

    async def list_started_triggers(self) -> tuple[StartedTrigger, ...]:
        """Every started trigger, across tenants, oldest pipeline first."""
        async with self._db.statement() as db:
            rows = await _fetch(
                db,
                "SELECT p.tenant, p.id, t.state, t.version, t.recorded_at "
                "FROM trigger_intents AS t JOIN pipelines AS p ON p.id = t.pipeline_id "
                "WHERE t.state = 'started' ORDER BY p.created_at, p.id",
                (),
            )
        return tuple(
            StartedTrigger(
                tenant=TenantId(tenant),
                pipeline_id=PipelineId(pipeline_id),
                intent=trigger_intent(
                    state=state, version=version, recorded_at=from_micros(recorded_at)
                ),
            )
            for tenant, pipeline_id, state, version, recorded_at in rows
        )

    async def _latest_version(
        self, db: aiosqlite.Connection, tenant: TenantId, pipeline_id: PipelineId
    ) -> int:
        rows = await _fetch(
            db,
            "SELECT latest_version FROM pipelines WHERE id = ? AND tenant = ?",
            (pipeline_id, tenant),
        )
        if not rows:
            raise PipelineNotFound(tenant, pipeline_id)
        return int(rows[0][0])


async def _fetch(db: aiosqlite.Connection, sql: str, params: Iterable[Any]) -> list[Any]:
    return list(await db.execute_fetchall(sql, params))


async def _insert_version(
    db: aiosqlite.Connection, pipeline_id: PipelineId, version: int, spec: PipelineSpec, now: int
) -> None:
    await db.execute(
        "INSERT INTO pipeline_versions (pipeline_id, version, spec, created_at) "
        "VALUES (?, ?, ?, ?)",
        (pipeline_id, version, encode_spec(spec), now),
    )


def _record(row: Any) -> PipelineRecord:
    pipeline_id, tenant, name, latest_version, created_at, updated_at, spec = row
    return pipeline_record(
        pipeline_id=pipeline_id,
        tenant=tenant,
        name=name,
        latest_version=latest_version,
        created_at=from_micros(created_at),
        updated_at=from_micros(updated_at),
        spec=spec,
    )


def _version(row: Any) -> PipelineVersion:
    pipeline_id, version, spec, created_at = row
    return pipeline_version(
        pipeline_id=pipeline_id, version=version, spec=spec, created_at=from_micros(created_at)
    )
