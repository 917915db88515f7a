-- Pipelines, their immutable versions, and each pipeline's trigger intent.
-- Times are integer microseconds since the Unix epoch (UTC); STRICT tables check types.

CREATE TABLE pipelines (
    id             TEXT    PRIMARY KEY NOT NULL,
    tenant         TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    latest_version INTEGER NOT NULL CHECK (latest_version >= 1),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

-- Keyset pagination per tenant, optionally filtered by exact name.
CREATE INDEX pipelines_by_tenant ON pipelines (tenant, created_at, id);
CREATE INDEX pipelines_by_tenant_name ON pipelines (tenant, name, created_at, id);

CREATE TABLE pipeline_versions (
    pipeline_id TEXT    NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version >= 1),
    spec        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (pipeline_id, version)
) STRICT;

CREATE TABLE trigger_intents (
    pipeline_id TEXT    PRIMARY KEY NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    state       TEXT    NOT NULL CHECK (state IN ('started', 'stopped')),
    version     INTEGER,
    recorded_at INTEGER NOT NULL,
    CHECK ((state = 'started') = (version IS NOT NULL)),
    FOREIGN KEY (pipeline_id, version)
        REFERENCES pipeline_versions (pipeline_id, version) ON DELETE CASCADE
) STRICT;

-- Resumption after a restart reads only the started ones.
CREATE INDEX trigger_intents_started ON trigger_intents (pipeline_id) WHERE state = 'started';
