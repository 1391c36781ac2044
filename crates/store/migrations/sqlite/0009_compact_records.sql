-- The compact record layout (see docs/storage.md). The tables of the previous layout are
-- renamed to legacy_*; the store carries their rows over into the new tables right after this
-- migration, in one transaction, and drops them (Store::migrate).

ALTER TABLE projects RENAME TO legacy_projects;
ALTER TABLE credit_records RENAME TO legacy_credit_records;
ALTER TABLE record_versions RENAME TO legacy_record_versions;
DROP INDEX projects_registry;
DROP INDEX projects_country;
DROP INDEX projects_updated;
DROP INDEX credit_records_project;
DROP INDEX credit_records_serial_bucket;
DROP INDEX credit_records_event_date;
DROP INDEX credit_records_updated;
DROP INDEX record_versions_recorded;

-- Repeated strings, stored once: registries, project ids, serial namespaces, normalized and
-- raw enumeration values. A number is never reused or changed.
CREATE TABLE terms (
    id   INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);

-- Where records were read: a file, URL or webhook delivery, when, by which run (0: none).
-- A record names its origin and its line in it.
CREATE TABLE origins (
    id         INTEGER PRIMARY KEY,
    source     TEXT    NOT NULL,
    fetched_at INTEGER NOT NULL,                 -- microseconds since the epoch
    run        INTEGER NOT NULL,
    UNIQUE (source, fetched_at, run)
);

-- Projects: the current version of each. `id` is the term of the project id, the number
-- credit records use for their project.
CREATE TABLE projects (
    id                       INTEGER PRIMARY KEY,
    key                      TEXT    NOT NULL UNIQUE,  -- <registry>:<registry project id>
    registry                 INTEGER NOT NULL,         -- term
    registry_project_id      TEXT    NOT NULL,
    name                     TEXT    NOT NULL,
    developer                TEXT,
    country                  TEXT,
    country_raw              TEXT,
    sector                   TEXT,
    category                 TEXT,
    project_type             TEXT,
    methodology              TEXT,
    status                   INTEGER,                  -- term
    status_raw               INTEGER,                  -- term
    corresponding_adjustment TEXT,
    registry_url             TEXT,
    extra                    TEXT,                     -- JSON of the list fields, or NULL
    content_hash             BLOB    NOT NULL,
    raw_hash                 BLOB    NOT NULL,
    origin                   INTEGER NOT NULL,
    line                     INTEGER,
    version                  INTEGER NOT NULL,
    written_at               INTEGER NOT NULL          -- microseconds since the epoch
);
CREATE INDEX projects_country ON projects (country);
CREATE INDEX projects_written ON projects (written_at);

-- Superseded project versions, append-only.
CREATE TABLE project_versions (
    project                  INTEGER NOT NULL,
    version                  INTEGER NOT NULL,
    name                     TEXT    NOT NULL,
    developer                TEXT,
    country                  TEXT,
    country_raw              TEXT,
    sector                   TEXT,
    category                 TEXT,
    project_type             TEXT,
    methodology              TEXT,
    status                   INTEGER,
    status_raw               INTEGER,
    corresponding_adjustment TEXT,
    registry_url             TEXT,
    extra                    TEXT,
    content_hash             BLOB    NOT NULL,
    raw_hash                 BLOB    NOT NULL,
    origin                   INTEGER NOT NULL,
    line                     INTEGER,
    written_at               INTEGER NOT NULL,
    PRIMARY KEY (project, version)
) WITHOUT ROWID;
CREATE INDEX project_versions_written ON project_versions (written_at);

-- Credit records: the current version of each. `id` numbers records in the order they were
-- first stored and never changes. The natural key (registry, record key) is indexed by a
-- 64-bit hash of the key (records::key_hash), the key itself kept in the row.
CREATE TABLE credits (
    id            INTEGER PRIMARY KEY,
    registry      INTEGER NOT NULL,                  -- term
    key_hash      INTEGER NOT NULL,
    record_key    TEXT    NOT NULL,
    project       INTEGER NOT NULL,                  -- term of the project id
    kind          INTEGER NOT NULL,                  -- term: transaction type
    kind_raw      INTEGER NOT NULL,                  -- term
    quantity      INTEGER,                           -- kilograms (tonnes x 1000)
    quantity_text TEXT,                              -- exact decimal when kilograms cannot hold it
    serial        TEXT,                              -- NULL when none, or equal to the key (flags)
    namespace     INTEGER,                           -- term
    serial_start  INTEGER,
    serial_end    INTEGER,
    serial_bucket INTEGER,
    vintage       INTEGER,
    period_start  INTEGER,                           -- days since 1970-01-01
    period_end    INTEGER,
    event_day     INTEGER,
    status        INTEGER NOT NULL,                  -- term
    status_raw    INTEGER NOT NULL,                  -- term
    account       INTEGER,                           -- term
    beneficiary   INTEGER,                           -- term
    reason        INTEGER,                           -- term
    note          TEXT,
    flags         INTEGER NOT NULL,                  -- 1: serial is the key, 2: has a monitoring period
    content_hash  BLOB    NOT NULL,
    raw_hash      BLOB    NOT NULL,
    origin        INTEGER NOT NULL,
    line          INTEGER,
    version       INTEGER NOT NULL,
    written_at    INTEGER NOT NULL                   -- microseconds since the epoch
);
CREATE UNIQUE INDEX credits_key ON credits (registry, key_hash);
CREATE INDEX credits_project ON credits (project);
CREATE INDEX credits_serial ON credits (namespace, serial_bucket, serial_start)
    WHERE namespace IS NOT NULL;
CREATE INDEX credits_event ON credits (event_day DESC);
CREATE INDEX credits_written ON credits (written_at);

-- Superseded credit versions, append-only.
CREATE TABLE credit_versions (
    credit        INTEGER NOT NULL,                  -- credits.id
    version       INTEGER NOT NULL,
    project       INTEGER NOT NULL,
    kind          INTEGER NOT NULL,
    kind_raw      INTEGER NOT NULL,
    quantity      INTEGER,
    quantity_text TEXT,
    serial        TEXT,
    namespace     INTEGER,
    serial_start  INTEGER,
    serial_end    INTEGER,
    vintage       INTEGER,
    period_start  INTEGER,
    period_end    INTEGER,
    event_day     INTEGER,
    status        INTEGER NOT NULL,
    status_raw    INTEGER NOT NULL,
    account       INTEGER,                           -- term
    beneficiary   INTEGER,                           -- term
    reason        INTEGER,                           -- term
    note          TEXT,
    flags         INTEGER NOT NULL,
    content_hash  BLOB    NOT NULL,
    raw_hash      BLOB    NOT NULL,
    origin        INTEGER NOT NULL,
    line          INTEGER,
    written_at    INTEGER NOT NULL,
    PRIMARY KEY (credit, version)
) WITHOUT ROWID;
CREATE INDEX credit_versions_written ON credit_versions (written_at);

-- Totals of the current credit records by registry, project, vintage (0: none), transaction
-- type and status, kept with every write: statistics read these instead of the records.
CREATE TABLE credit_totals (
    registry      INTEGER NOT NULL,
    project       INTEGER NOT NULL,
    vintage       INTEGER NOT NULL,
    kind          INTEGER NOT NULL,
    status        INTEGER NOT NULL,
    records       INTEGER NOT NULL,
    quantity      INTEGER NOT NULL CHECK (typeof(quantity) = 'integer'),  -- kilograms
    quantity_text TEXT,                              -- exact sum of the text quantities
    PRIMARY KEY (registry, project, vintage, kind, status)
) WITHOUT ROWID;

-- When each registry's records were last written.
CREATE TABLE registry_writes (
    registry   INTEGER NOT NULL,
    kind       TEXT    NOT NULL,                     -- project | credit
    written_at INTEGER NOT NULL,
    PRIMARY KEY (registry, kind)
) WITHOUT ROWID;
