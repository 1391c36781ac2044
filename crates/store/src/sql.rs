//! SQL text shared by both backends, generated from one column list per table so the two
//! dialects cannot drift apart. Rows are bound as values, never spliced into the text:
//! - SQLite: multi-row `VALUES (?, …), (?, …)` statements, one bound parameter per value. A
//!   parameter costs little, a statement costs a round trip to sqlx's SQLite worker thread, so
//!   statements are as large as SQLite's parameter limit allows.
//! - PostgreSQL: `SELECT … FROM UNNEST($1::text[], …)`, one bound array per column, so a chunk
//!   of any size is one statement; text arrays are cast to the column types in SQL.

use crate::url::Backend;

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

/// Columns every versioned table ends with, after its own columns (see `batch::Chunk::rows`).
const PROVENANCE: [Column; 5] = [
    col("content_hash", "text"),
    col("source", "text"),
    col("raw_hash", "text"),
    col("fetched_at", "timestamptz"),
    col("run_id", "bigint"),
];

const PROJECT_COLUMNS: [Column; 13] = [
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
];

const CREDIT_COLUMNS: [Column; 14] = [
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
];

/// `record_versions`, without `recorded_at`, which the statement fills (see
/// `batch::Chunk::version_rows`).
const VERSION_COLUMNS: [Column; 10] = [
    col("kind", "text"),
    col("registry", "text"),
    col("record_key", "text"),
    col("version", "bigint"),
    col("content_hash", "text"),
    col("payload", "json"),
    col("source", "text"),
    col("raw_hash", "text"),
    col("fetched_at", "timestamptz"),
    col("run_id", "bigint"),
];

/// SQLite's default limit on bound parameters per statement (`SQLITE_MAX_VARIABLE_NUMBER`).
const SQLITE_MAX_PARAMETERS: usize = 32_766;

/// One statement, in the forms a backend needs.
pub(crate) struct Statement {
    /// How each value of a row is bound; `batch` writes rows in this order.
    pub kinds: Vec<Kind>,
    /// SQLite: the statement for each row count it is prepared for, largest first. A chunk is
    /// written as full-size statements, then the remainder in power-of-two pieces, so only a
    /// dozen texts exist per table and sqlx prepares each once.
    /// PostgreSQL: the one array statement, whatever the row count.
    texts: Vec<(usize, String)>,
}

impl Statement {
    /// The statement for the next rows of a chunk with `rows` left, and how many rows it takes.
    pub(crate) fn next(&self, rows: usize) -> (usize, &str) {
        let (n, text) = self
            .texts
            .iter()
            .find(|(n, _)| *n <= rows)
            .or(self.texts.last())
            .map_or((rows, ""), |(n, text)| (*n, text.as_str()));
        (n.min(rows), text)
    }
}

/// The statements of one backend.
pub(crate) struct Statements {
    pub upsert_projects: Statement,
    pub upsert_credits: Statement,
    pub insert_versions: Statement,
}

impl Statements {
    pub(crate) fn new(backend: Backend) -> Self {
        Self {
            upsert_projects: upsert(
                backend,
                "projects",
                &PROJECT_COLUMNS,
                "id",
                "registry, registry_project_id",
            ),
            upsert_credits: upsert(
                backend,
                "credit_records",
                &CREDIT_COLUMNS,
                "registry, record_key",
                "registry, record_key",
            ),
            insert_versions: statement(
                backend,
                VERSION_COLUMNS.iter().collect(),
                &format!(
                    "INSERT INTO record_versions ({}, recorded_at)",
                    names(VERSION_COLUMNS.iter())
                ),
                "",
                "",
            ),
        }
    }
}

/// `INSERT … ON CONFLICT DO UPDATE … WHERE the hash differs RETURNING registry, key,
/// version`: new rows come back with version 1, changed rows with their new version, unchanged
/// rows do not come back at all.
fn upsert(
    backend: Backend,
    table: &str,
    own: &[Column],
    conflict: &str,
    returning: &str,
) -> Statement {
    let columns: Vec<&Column> = own.iter().chain(PROVENANCE.iter()).collect();
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !conflict.split(", ").any(|k| k == c.name))
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    let tail = format!(
        " ON CONFLICT ({conflict}) DO UPDATE SET {updates}, \
         version = {table}.version + 1, updated_at = excluded.updated_at \
         WHERE {table}.content_hash <> excluded.content_hash \
         RETURNING {returning}, version",
        updates = updates.join(", "),
    );
    let head = format!(
        "INSERT INTO {table} ({}, version, updated_at)",
        names(columns.iter().copied())
    );
    // New rows start at version 1.
    statement(backend, columns, &head, "1, ", &tail)
}

/// `<head> <rows> <tail>`, where each row is the bound `columns`, then the literal SQL
/// `constants`, then the statement time.
fn statement(
    backend: Backend,
    columns: Vec<&Column>,
    head: &str,
    constants: &str,
    tail: &str,
) -> Statement {
    let kinds = columns.iter().map(|c| c.kind()).collect();
    let texts = match backend {
        Backend::Sqlite => {
            // One extra parameter per row: the statement time.
            let per_row = columns.len() + 1;
            let row = format!("({}{constants}?)", "?, ".repeat(columns.len()));
            let full = SQLITE_MAX_PARAMETERS / per_row;
            let sizes = std::iter::once(full).chain(
                (0..usize::BITS)
                    .rev()
                    .map(|bit| 1usize << bit)
                    .filter(|&n| n < full),
            );
            sizes
                .map(|n| {
                    let rows = vec![row.as_str(); n].join(", ");
                    // Rows are listed in key order and SQLite writes them in that order.
                    (n, format!("{head} VALUES {rows}{tail}"))
                })
                .collect()
        }
        Backend::Postgres => {
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
            // ORDER BY the array position, which is key order, so concurrent writers lock
            // rows in the same order.
            let source = format!(
                "SELECT {selects}, {constants}${now}::timestamptz \
                 FROM UNNEST({arrays}) WITH ORDINALITY AS r({names}, ord) \
                 WHERE true ORDER BY r.ord",
                selects = selects.join(", "),
                now = columns.len() + 1,
                arrays = arrays.join(", "),
                names = names(columns.iter().copied()),
            );
            vec![(usize::MAX, format!("{head} {source}{tail}"))]
        }
    };
    Statement { kinds, texts }
}

fn names<'a>(columns: impl Iterator<Item = &'a Column>) -> String {
    columns.map(|c| c.name).collect::<Vec<_>>().join(", ")
}
