//! SQL text for both backends, generated from one column list per table so the two dialects
//! cannot drift apart. Rows are bound as values, never spliced into the text:
//! - SQLite: single-row statements, prepared once and run in-process for each record (see
//!   `sqlite.rs`): a statement step costs about a microsecond there, so nothing is gained by
//!   batching rows into one statement.
//! - PostgreSQL: `SELECT … FROM UNNEST($1::text[], …)`, one bound array per column, so a chunk
//!   of any size is one statement and one round trip; text arrays are cast to the column types
//!   in SQL.
//!
//! A record's current version lives in its table (`projects`, `credit_records`), payload and
//! provenance included; `record_versions` holds only superseded versions. Writing a
//! PostgreSQL chunk:
//! 1. `classify`: which keys exist, at which version, with the same content or not;
//! 2. `supersede`: for the keys whose content differs, lock the current rows (PostgreSQL) and
//!    copy them to `record_versions`;
//! 3. `upsert`: insert the new records at version 1 and overwrite the superseded ones with
//!    the next version. The update only applies on top of the version step 2 copied, so a
//!    record another writer inserted in between is left alone and classified again. The new
//!    records go first through `insert`, a plain insert without the conflict handling (about
//!    a fifth cheaper); if another writer inserted one of them meanwhile it fails on the key,
//!    is undone to a savepoint, and `upsert` writes them instead.

/// How a column's values are bound: the Rust side writes `batch::Value::Text` or `Int` (or
/// `Null`) accordingly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int,
}

/// A column filled from the batch, with its PostgreSQL type.
struct Column {
    name: &'static str,
    pg_type: &'static str,
}

impl Column {
    fn kind(&self) -> Kind {
        match self.pg_type {
            "bigint" => Kind::Int,
            _ => Kind::Text,
        }
    }
}

const fn col(name: &'static str, pg_type: &'static str) -> Column {
    Column { name, pg_type }
}

/// Columns every current-record table ends with, after its own columns (see
/// `batch::Chunk::rows`).
const CURRENT: [Column; 8] = [
    col("payload", "json"),
    col("content_hash", "text"),
    col("source", "text"),
    col("raw_hash", "text"),
    col("fetched_at", "timestamptz"),
    col("run_id", "bigint"),
    col("version", "bigint"),
    col("updated_at", "timestamptz"),
];

/// The columns a current row and a `record_versions` row have in common.
const VERSIONED: [&str; 7] = [
    "version",
    "content_hash",
    "payload",
    "source",
    "raw_hash",
    "fetched_at",
    "run_id",
];

/// A current-record table.
struct Table {
    name: &'static str,
    /// `record_versions.kind` of its records.
    kind: &'static str,
    /// Its own columns, in `Versioned::write_columns` order.
    own: &'static [Column],
    /// The unique key upserts conflict on, in `Versioned::write_key` order.
    key: &'static [Column],
    /// The column that is `record_versions.record_key`.
    record_key: &'static str,
}

const PROJECTS: Table = Table {
    name: "projects",
    kind: "project",
    own: &[
        col("id", "text"),
        col("registry", "text"),
        col("registry_project_id", "text"),
        col("name", "text"),
        col("developer", "text"),
        col("country", "text"),
        col("country_raw", "text"),
        col("sector", "text"),
        col("category", "text"),
        col("project_type", "text"),
        col("methodology", "text"),
        col("status", "text"),
        col("status_raw", "text"),
    ],
    key: &[col("id", "text")],
    record_key: "registry_project_id",
};

const CREDITS: Table = Table {
    name: "credit_records",
    kind: "credit",
    own: &[
        col("registry", "text"),
        col("record_key", "text"),
        col("project_id", "text"),
        col("transaction_type", "text"),
        col("transaction_type_raw", "text"),
        col("quantity", "numeric"),
        col("serial", "text"),
        col("serial_namespace", "text"),
        col("serial_start", "bigint"),
        col("serial_end", "bigint"),
        col("vintage", "bigint"),
        col("event_date", "date"),
        col("status", "text"),
        col("status_raw", "text"),
    ],
    key: &[col("registry", "text"), col("record_key", "text")],
    record_key: "record_key",
};

/// One PostgreSQL array statement.
pub(crate) struct Statement {
    /// How each value of a row is bound; `batch` writes rows in this order.
    pub kinds: Vec<Kind>,
    /// The statement, whatever the row count.
    pub text: String,
}

/// The three PostgreSQL statements that write one kind of record (see the module
/// documentation).
pub(crate) struct Upsert {
    /// Binds `(ord, key…, content_hash)` rows; returns `(ord, same content)` for the
    /// keys that exist.
    pub classify: Statement,
    /// Binds `(ord, key…, content_hash)` rows; copies the current rows whose content differs
    /// to `record_versions` and returns their `(registry, record key, version)`.
    pub supersede: Statement,
    /// Binds full rows (`batch::Chunk::rows`); returns `(registry, record key)` of the rows
    /// written.
    pub upsert: Statement,
    /// Binds full rows, as `upsert`, of records classified as new: a plain insert, which
    /// fails on a key another writer inserted meanwhile (see `postgres::insert_new`).
    pub insert: Statement,
}

/// The PostgreSQL statements.
pub(crate) struct Statements {
    pub projects: Upsert,
    pub credits: Upsert,
}

impl Statements {
    pub(crate) fn new() -> Self {
        Self {
            projects: Upsert::new(&PROJECTS),
            credits: Upsert::new(&CREDITS),
        }
    }
}

impl Upsert {
    fn new(table: &Table) -> Self {
        let t = table.name;
        let keys = names(table.key.iter());
        let join = table
            .key
            .iter()
            .map(|k| format!("c.{0} = i.{0}", k.name))
            .collect::<Vec<_>>()
            .join(" AND ");
        let ord = col("ord", "bigint");
        let hash = col("content_hash", "text");
        let incoming: Vec<&Column> = std::iter::once(&ord)
            .chain(table.key)
            .chain(std::iter::once(&hash))
            .collect();

        let classify = statement(&incoming, |source| {
            format!(
                "WITH i ({}) AS ({source}) \
                 SELECT i.ord, c.content_hash = i.content_hash FROM i \
                 JOIN {t} c ON {join}",
                names(incoming.iter().copied())
            )
        });

        // Lock in key order, so concurrent writers cannot deadlock; a row another writer
        // changed meanwhile is read (and compared) as that writer committed it.
        let old = old_columns(table, "c.");
        let supersede = statement(&incoming, |source| {
            format!(
                "WITH i ({incoming}) AS ({source}), \
                 old AS (SELECT {old} FROM {t} c JOIN i ON {join} \
                 WHERE c.content_hash <> i.content_hash ORDER BY i.ord FOR UPDATE OF c) \
                 INSERT INTO record_versions ({versions}) \
                 SELECT '{kind}', {plain} FROM old \
                 RETURNING registry, record_key, version",
                incoming = names(incoming.iter().copied()),
                old = old.join(", "),
                versions = version_columns(),
                kind = table.kind,
                plain = old_columns(table, "").join(", "),
            )
        });

        let columns = current_columns(table);
        let upsert = statement(&columns, |source| {
            // Rows come in key order and are written in that order.
            format!(
                "INSERT INTO {t} ({columns}) {source} \
                 ON CONFLICT ({keys}) DO UPDATE SET {updates} \
                 WHERE {t}.version = excluded.version - 1 \
                 RETURNING registry, {record_key}",
                columns = names(columns.iter().copied()),
                updates = updates(table),
                record_key = table.record_key,
            )
        });
        let insert = statement(&columns, |source| {
            format!(
                "INSERT INTO {t} ({columns}) {source}",
                columns = names(columns.iter().copied()),
            )
        });
        Self {
            classify,
            supersede,
            upsert,
            insert,
        }
    }
}

/// The single-row SQLite statements that write one kind of record.
pub(crate) struct RowStatements {
    /// Binds the key; returns the current `(version, content_hash)`.
    pub lookup: String,
    /// Binds the key; copies the current row to `record_versions`.
    pub supersede: String,
    /// Binds a full row (`batch::RowRef::columns`, then version and update time).
    pub insert: String,
    /// Binds a full row, as `insert`; overwrites the current row of its key.
    pub update: String,
}

/// The SQLite statements.
pub(crate) struct SqliteStatements {
    pub projects: RowStatements,
    pub credits: RowStatements,
}

impl SqliteStatements {
    pub(crate) fn new() -> Self {
        Self {
            projects: RowStatements::new(&PROJECTS),
            credits: RowStatements::new(&CREDITS),
        }
    }
}

impl RowStatements {
    fn new(table: &Table) -> Self {
        let t = table.name;
        let key_match = table
            .key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ?{}", k.name, i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let columns = current_columns(table);
        // The key columns come first in a row, so `?1`, `?2` in `key_match` bind them.
        debug_assert!(
            table
                .key
                .iter()
                .enumerate()
                .all(|(i, k)| columns[i].name == k.name)
        );
        let assignments = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| !table.key.iter().any(|k| k.name == c.name))
            .map(|(i, c)| format!("{} = ?{}", c.name, i + 1))
            .collect::<Vec<_>>()
            .join(", ");
        let placeholders = (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            lookup: format!("SELECT version, content_hash FROM {t} WHERE {key_match}"),
            supersede: format!(
                "INSERT INTO record_versions ({versions}) SELECT '{kind}', {old} FROM {t} \
                 WHERE {key_match}",
                versions = version_columns(),
                kind = table.kind,
                old = old_columns(table, "").join(", "),
            ),
            insert: format!(
                "INSERT INTO {t} ({columns}) VALUES ({placeholders})",
                columns = names(columns.iter().copied()),
            ),
            update: format!("UPDATE {t} SET {assignments} WHERE {key_match}"),
        }
    }
}

/// Every column a current row is written with, in `batch` order.
fn current_columns(table: &Table) -> Vec<&Column> {
    table.own.iter().chain(CURRENT.iter()).collect()
}

/// `SET` assignments overwriting every non-key column with the incoming row's.
fn updates(table: &Table) -> String {
    current_columns(table)
        .iter()
        .filter(|c| !table.key.iter().any(|k| k.name == c.name))
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The columns of `record_versions` a superseded row fills.
fn version_columns() -> String {
    ["kind", "registry", "record_key"]
        .into_iter()
        .chain(VERSIONED)
        .chain(["recorded_at"])
        .collect::<Vec<_>>()
        .join(", ")
}

/// The current-row columns copied into `record_versions` (after `kind`), each prefixed.
fn old_columns(table: &Table, prefix: &str) -> Vec<String> {
    ["registry", table.record_key]
        .into_iter()
        .chain(VERSIONED)
        .chain(["updated_at"])
        .map(|c| format!("{prefix}{c}"))
        .collect()
}

/// A PostgreSQL statement binding rows of `columns`, one array per column: `text` receives
/// the row source, `SELECT … FROM UNNEST(…)` with the columns cast to their types.
fn statement(columns: &[&Column], text: impl Fn(&str) -> String) -> Statement {
    let kinds = columns.iter().map(|c| c.kind()).collect();
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match c.kind() {
            Kind::Int => format!("${}::bigint[]", i + 1),
            Kind::Text => format!("${}::text[]", i + 1),
        })
        .collect();
    let selects: Vec<String> = columns
        .iter()
        .map(|c| match c.pg_type {
            "text" | "bigint" => format!("r.{}", c.name),
            cast => format!("r.{}::{cast}", c.name),
        })
        .collect();
    // `WHERE true` keeps `ON CONFLICT` from parsing as part of the source.
    let source = format!(
        "SELECT {selects} FROM UNNEST({arrays}) AS r({names}) WHERE true",
        selects = selects.join(", "),
        arrays = arrays.join(", "),
        names = names(columns.iter().copied()),
    );
    Statement {
        kinds,
        text: text(&source),
    }
}

fn names<'a>(columns: impl Iterator<Item = &'a Column>) -> String {
    columns.map(|c| c.name).collect::<Vec<_>>().join(", ")
}
