"""The production pipeline store: PostgreSQL, shared by every replica of the API.

Correctness under concurrency is decided by the database, not by the replicas:

* an update is one conditional ``UPDATE … WHERE latest_version = $expected RETURNING``: the row
  lock makes a racing update wait, then find the version moved on (a :class:`VersionConflict`);
  the primary key ``(pipeline_id, version)`` backs it up — a duplicate version insert is
  translated into a conflict as well;
* setting a trigger intent locks the pipeline row (``FOR SHARE``), so it cannot race a delete.

Connections, timeouts and error translation live in :mod:`events_api.store.postgres_connections`.
"""

import asyncio
from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from datetime import datetime

import asyncpg

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
from events_api.store.migrations import Backend, load_migrations, migrate_postgres
from events_api.store.options import StoreOptions
from events_api.store.postgres_connections import (
    Connection,
    Pool,
    close_postgres_pool,
    create_postgres_pool,
    postgres_errors_translated,
    postgres_statement,
    postgres_transaction,
)
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
from events_api.store.timestamps import Clock, utc_now
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
_SELECT_VERSION = "SELECT pipeline_id, version, spec, created_at FROM pipeline_versions "
_ID_ATTEMPTS = 3


class PostgresPipelineStore:
    """:class:`~events_api.store.protocol.PipelineStore` on PostgreSQL."""

    def __init__(self, pool: Pool, *, options: StoreOptions, clock: Clock = utc_now) -> None:
        self._pool = pool
        self._options = options
        self._clock = clock
        self._closed = False

    @classmethod
    async def open(
        cls, dsn: str, *, options: StoreOptions, clock: Clock = utc_now
    ) -> "PostgresPipelineStore":
        """Connect and migrate (one replica at a time, under an advisory lock)."""
        migrations = await asyncio.to_thread(load_migrations, Backend.POSTGRES)
        pool = await create_postgres_pool(dsn, options=options)
        try:
            with postgres_errors_translated():
                async with (
                    asyncio.timeout(options.migration_timeout_seconds),
                    pool.acquire() as connection,
                ):
                    await migrate_postgres(
                        connection,
                        migrations,
                        now=clock(),
                        statement_timeout_seconds=options.migration_timeout_seconds,
                    )
        except BaseException:
            await close_postgres_pool(pool, timeout_seconds=options.operation_timeout_seconds)
            raise
        return cls(pool, options=options, clock=clock)

    async def close(self) -> None:
        """Close the pool; safe to call twice."""
        if not self._closed:
            self._closed = True
            await close_postgres_pool(
                self._pool, timeout_seconds=self._options.operation_timeout_seconds
            )

    def _transaction(self, *, readonly: bool = False) -> AbstractAsyncContextManager[Connection]:
        return postgres_transaction(
            self._pool, timeout_seconds=self._options.operation_timeout_seconds, readonly=readonly
        )

    def _statement(self) -> AbstractAsyncContextManager[Connection]:
        """For reads that are one statement: no transaction needed (see postgres_statement)."""
        return postgres_statement(
            self._pool, timeout_seconds=self._options.operation_timeout_seconds
        )

    async def create_pipeline(self, tenant: TenantId, *, spec: PipelineSpec) -> PipelineRecord:
        """Store a new pipeline at version 1."""
        now = self._clock()
        # 62 random bits make an id collision practically impossible; retry one anyway.
        for _ in range(_ID_ATTEMPTS):
            pipeline_id = new_pipeline_id()
            async with self._transaction() as db:
                inserted = await db.fetchval(
                    "INSERT INTO pipelines "
                    "(id, tenant, name, latest_version, created_at, updated_at) "
                    "VALUES ($1, $2, $3, 1, $4, $4) ON CONFLICT (id) DO NOTHING RETURNING id",
                    pipeline_id,
                    tenant,
                    spec.name,
                    now,
                )
                if inserted is not None:
                    await _insert_version(db, pipeline_id, 1, spec, now)
            if inserted is not None:
                return written_record(
                    tenant, pipeline_id, spec, version=1, created_at=now, updated_at=now
                )
        raise StoreError(f"no unused pipeline id after {_ID_ATTEMPTS} attempts")

    async def get_pipeline(self, tenant: TenantId, *, pipeline_id: PipelineId) -> PipelineRecord:
        """The pipeline with its latest spec."""
        async with self._statement() as db:
            row = await db.fetchrow(
                _SELECT_PIPELINE + "WHERE p.id = $1 AND p.tenant = $2", pipeline_id, tenant
            )
        if row is None:
            raise PipelineNotFound(tenant, pipeline_id)
        return _record(row)

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
        sql = _SELECT_PIPELINE + "WHERE p.tenant = $1"
        params: list[object] = [tenant]
        if name is not None:
            params.append(name)
            sql += f" AND p.name = ${len(params)}"
        if cursor is not None:
            created_at, after_id = decode_pipelines_cursor(cursor)
            params += [created_at, after_id]
            sql += f" AND (p.created_at, p.id) > (${len(params) - 1}, ${len(params)})"
        params.append(limit + 1)
        sql += f" ORDER BY p.created_at, p.id LIMIT ${len(params)}"
        async with self._statement() as db:
            rows = await db.fetch(sql, *params)
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
        now = self._clock()
        async with self._transaction() as db:
            row = await db.fetchrow(
                "UPDATE pipelines SET latest_version = latest_version + 1, name = $3, "
                "updated_at = $4 WHERE id = $1 AND tenant = $2 "
                "AND ($5::integer IS NULL OR latest_version = $5) "
                "RETURNING latest_version, created_at",
                pipeline_id,
                tenant,
                spec.name,
                now,
                expected_version,
            )
            if row is None:
                latest = await _latest_version(db, tenant, pipeline_id, lock=False)
                raise VersionConflict(
                    pipeline_id, expected=_expected(expected_version, latest), actual=latest
                )
            version: int = row["latest_version"]
            try:
                await _insert_version(db, pipeline_id, version, spec, now)
            except asyncpg.UniqueViolationError as error:
                # The row lock above already serializes updates; the key is the last word.
                raise VersionConflict(
                    pipeline_id, expected=_expected(expected_version, version - 1), actual=None
                ) from error
        return written_record(
            tenant, pipeline_id, spec, version=version, created_at=row["created_at"], updated_at=now
        )

    async def delete_pipeline(self, tenant: TenantId, *, pipeline_id: PipelineId) -> None:
        """Delete the pipeline, its versions and its intent (by cascade)."""
        async with self._transaction() as db:
            deleted = await db.fetchval(
                "DELETE FROM pipelines WHERE id = $1 AND tenant = $2 RETURNING id",
                pipeline_id,
                tenant,
            )
        if deleted is None:
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
        async with self._transaction(readonly=True) as db:
            await _latest_version(db, tenant, pipeline_id, lock=False)
            rows = await db.fetch(
                _SELECT_VERSION + "WHERE pipeline_id = $1 AND version > $2 "
                "ORDER BY version LIMIT $3",
                pipeline_id,
                after,
                limit + 1,
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
        async with self._transaction(readonly=True) as db:
            latest = await _latest_version(db, tenant, pipeline_id, lock=False)
            row = await db.fetchrow(
                _SELECT_VERSION + "WHERE pipeline_id = $1 AND version = $2", pipeline_id, version
            )
        if row is None:
            raise VersionNotFound(pipeline_id, version, latest_version=latest)
        return _version(row)

    async def set_trigger_intent(
        self, tenant: TenantId, *, pipeline_id: PipelineId, intent: TriggerIntent
    ) -> None:
        """Record the last requested start or stop."""
        version = intent_version_to_store(intent)
        async with self._transaction() as db:
            latest = await _latest_version(db, tenant, pipeline_id, lock=True)
            if version is not None and not 1 <= version <= latest:
                raise VersionNotFound(pipeline_id, version, latest_version=latest)
            await db.execute(
                "INSERT INTO trigger_intents (pipeline_id, state, version, recorded_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (pipeline_id) DO UPDATE SET "
                "state = excluded.state, version = excluded.version, "
                "recorded_at = excluded.recorded_at",
                pipeline_id,
                str(intent.state),
                version,
                intent.at,
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
        async with self._statement() as db:
            rows = await db.fetch(
                "SELECT p.tenant, p.id, t.state, t.version, t.recorded_at FROM pipelines AS p "
                "LEFT JOIN trigger_intents AS t ON t.pipeline_id = p.id "
                "WHERE p.id = ANY($1::text[])",
                sorted({pipeline_id for _, pipeline_id in keys}),
            )
        wanted = set(keys)
        return {
            key: None
            if row["state"] is None
            else trigger_intent(
                state=row["state"], version=row["version"], recorded_at=row["recorded_at"]
            )
            for row in rows
            if (key := (TenantId(row["tenant"]), PipelineId(row["id"]))) in wanted
        }

    async def list_started_triggers(self) -> tuple[StartedTrigger, ...]:
        """Every started trigger, across tenants, oldest pipeline first."""
        async with self._statement() as db:
            rows = await db.fetch(
                "SELECT p.tenant, p.id, t.state, t.version, t.recorded_at "
                "FROM trigger_intents AS t JOIN pipelines AS p ON p.id = t.pipeline_id "
                "WHERE t.state = 'started' ORDER BY p.created_at, p.id"
            )
        return tuple(
            StartedTrigger(
                tenant=TenantId(row["tenant"]),
                pipeline_id=PipelineId(row["id"]),
                intent=trigger_intent(
                    state=row["state"], version=row["version"], recorded_at=row["recorded_at"]
                ),
            )
            for row in rows
        )


def _expected(expected_version: int | None, latest: int) -> int:
    """The version a failed update expected (an unconditional one expected the latest)."""
    return latest if expected_version is None else expected_version


async def _latest_version(
    db: Connection, tenant: TenantId, pipeline_id: PipelineId, *, lock: bool
) -> int:
    sql = "SELECT latest_version FROM pipelines WHERE id = $1 AND tenant = $2"
    latest = await db.fetchval(sql + (" FOR SHARE" if lock else ""), pipeline_id, tenant)
    if latest is None:
        raise PipelineNotFound(tenant, pipeline_id)
    return int(latest)


async def _insert_version(
    db: Connection, pipeline_id: PipelineId, version: int, spec: PipelineSpec, now: datetime
) -> None:
    await db.execute(
        "INSERT INTO pipeline_versions (pipeline_id, version, spec, created_at) "
        "VALUES ($1, $2, $3, $4)",
        pipeline_id,
        version,
        encode_spec(spec),
        now,
    )


def _record(row: asyncpg.Record) -> PipelineRecord:
    return pipeline_record(
        pipeline_id=row["id"],
        tenant=row["tenant"],
        name=row["name"],
        latest_version=row["latest_version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        spec=row["spec"],
    )


def _version(row: asyncpg.Record) -> PipelineVersion:
    return pipeline_version(
        pipeline_id=row["pipeline_id"],
        version=row["version"],
        spec=row["spec"],
        created_at=row["created_at"],
    )
