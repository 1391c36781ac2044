-- Projects and credit records: the current version of each, payload and provenance included,
-- plus every superseded version.
-- Portable by design: the PostgreSQL migration mirrors this one table for table.

CREATE TABLE projects (
    id                  TEXT    NOT NULL PRIMARY KEY,  -- <registry>:<registry project id>
    registry            TEXT    NOT NULL,
    registry_project_id TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    developer           TEXT,
    country             TEXT,                          -- ISO 3166-1 alpha-2
    country_raw         TEXT,
    sector              TEXT,
    category            TEXT,
    project_type        TEXT,
    methodology         TEXT,
    status              TEXT,
    status_raw          TEXT,
    payload             TEXT    NOT NULL,              -- the normalized record as JSON
    content_hash        TEXT    NOT NULL,              -- sha256 of the normalized record
    version             INTEGER NOT NULL,
    source              TEXT    NOT NULL,              -- file:line or URL#page
    raw_hash            TEXT    NOT NULL,              -- sha256 of the raw record as fetched
    fetched_at          TEXT    NOT NULL,
    run_id              INTEGER,
    updated_at          TEXT    NOT NULL
);

CREATE INDEX projects_registry ON projects (registry);
CREATE INDEX projects_country ON projects (country);

CREATE TABLE credit_records (
    registry             TEXT    NOT NULL,
    record_key           TEXT    NOT NULL,             -- registry-native key
    project_id           TEXT    NOT NULL,             -- <registry>:<registry project id>
    transaction_type     TEXT    NOT NULL,
    transaction_type_raw TEXT    NOT NULL,
    quantity             TEXT    NOT NULL,             -- exact decimal, as text
    serial               TEXT,
    serial_namespace     TEXT,
    serial_start         INTEGER,
    serial_end           INTEGER,
    vintage              INTEGER,
    event_date           TEXT,
    status               TEXT    NOT NULL,
    status_raw           TEXT    NOT NULL,
    payload              TEXT    NOT NULL,             -- the normalized record as JSON
    content_hash         TEXT    NOT NULL,
    version              INTEGER NOT NULL,
    source               TEXT    NOT NULL,
    raw_hash             TEXT    NOT NULL,
    fetched_at           TEXT    NOT NULL,
    run_id               INTEGER,
    updated_at           TEXT    NOT NULL,
    PRIMARY KEY (registry, record_key)
);

CREATE INDEX credit_records_project ON credit_records (project_id);
CREATE INDEX credit_records_serial ON credit_records (serial_namespace, serial_start);

-- Append-only: one row per superseded version of a project or credit record, moved here
-- from the current-record table when a write changes the record; recorded_at is when that
-- version was written.
CREATE TABLE record_versions (
    kind         TEXT    NOT NULL,                     -- project | credit
    registry     TEXT    NOT NULL,
    record_key   TEXT    NOT NULL,                     -- registry project id for projects
    version      INTEGER NOT NULL,
    content_hash TEXT    NOT NULL,
    payload      TEXT    NOT NULL,                     -- the normalized record as JSON
    source       TEXT    NOT NULL,
    raw_hash     TEXT    NOT NULL,
    fetched_at   TEXT    NOT NULL,
    run_id       INTEGER,
    recorded_at  TEXT    NOT NULL,
    PRIMARY KEY (kind, registry, record_key, version)
);

CREATE INDEX record_versions_recorded ON record_versions (recorded_at);

CREATE TABLE connector_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connector   TEXT    NOT NULL,
    trigger     TEXT    NOT NULL,                      -- poll | import | webhook
    status      TEXT    NOT NULL,                      -- running | complete | incomplete | failed
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    seen        INTEGER NOT NULL DEFAULT 0,
    new         INTEGER NOT NULL DEFAULT 0,
    changed     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    errors      TEXT    NOT NULL DEFAULT '[]'          -- JSON array of one-line messages
);

CREATE INDEX connector_runs_connector ON connector_runs (connector, started_at);

-- Records that failed to parse or validate: kept with the reason, so nothing is lost.
CREATE TABLE rejected_records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    connector   TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    line        INTEGER,
    field       TEXT,
    reason      TEXT    NOT NULL,
    raw         TEXT    NOT NULL,
    run_id      INTEGER,
    rejected_at TEXT    NOT NULL
);

CREATE INDEX rejected_records_connector ON rejected_records (connector, rejected_at);
