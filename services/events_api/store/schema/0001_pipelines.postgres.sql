-- Pipelines, their immutable versions, and each pipeline's trigger intent.

CREATE TABLE pipelines (
    id             text        PRIMARY KEY,
    tenant         text        NOT NULL,
    name           text        NOT NULL,
    latest_version integer     NOT NULL CHECK (latest_version >= 1),
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- Keyset pagination per tenant, optionally filtered by exact name.
CREATE INDEX pipelines_by_tenant ON pipelines (tenant, created_at, id);
CREATE INDEX pipelines_by_tenant_name ON pipelines (tenant, name, created_at, id);

-- The primary key decides racing updates: one insert of (pipeline_id, version) wins.
CREATE TABLE pipeline_versions (
    pipeline_id text        NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    version     integer     NOT NULL CHECK (version >= 1),
    spec        jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT pipeline_versions_pkey PRIMARY KEY (pipeline_id, version)
);

CREATE TABLE trigger_intents (
    pipeline_id text        PRIMARY KEY REFERENCES pipelines (id) ON DELETE CASCADE,
    state       text        NOT NULL CHECK (state IN ('started', 'stopped')),
    version     integer,
    recorded_at timestamptz NOT NULL,
    CHECK ((state = 'started') = (version IS NOT NULL)),
    FOREIGN KEY (pipeline_id, version)
        REFERENCES pipeline_versions (pipeline_id, version) ON DELETE CASCADE
);

-- Resumption after a restart reads only the started ones.
CREATE INDEX trigger_intents_started ON trigger_intents (pipeline_id) WHERE state = 'started';
