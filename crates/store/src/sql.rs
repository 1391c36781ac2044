//! SQL text shared by both backends, generated from one column list per table so the two
//! dialects cannot drift apart. The dialects differ only in the JSON table function and in
//! PostgreSQL's casts from JSON text to native column types.

use crate::url::Backend;

/// A column filled from the batch JSON, with the PostgreSQL type to cast the JSON text to.
struct Column {
    name: &'static str,
    pg_cast: &'static str,
}

const fn col(name: &'static str, pg_cast: &'static str) -> Column {
    Column { name, pg_cast }
}

/// Columns every versioned table ends with, after its own columns (see `batch::build_chunk`).
const PROVENANCE: [Column; 5] = [
    col("content_hash", ""),
    col("source", ""),
    col("raw_hash", ""),
    col("fetched_at", "timestamptz"),
    col("run_id", "bigint"),
];

const PROJECT_COLUMNS: [Column; 13] = [
    col("id", ""),
    col("registry", ""),
    col("registry_project_id", ""),
    col("name", ""),
    col("developer", ""),
    col("country", ""),
    col("country_raw", ""),
    col("sector", ""),
    col("category", ""),
    col("project_type", ""),
    col("methodology", ""),
    col("status", ""),
    col("status_raw", ""),
];

const CREDIT_COLUMNS: [Column; 14] = [
    col("registry", ""),
    col("record_key", ""),
    col("project_id", ""),
    col("transaction_type", ""),
    col("transaction_type_raw", ""),
    col("quantity", "numeric"),
    col("serial", ""),
    col("serial_namespace", ""),
    col("serial_start", "bigint"),
    col("serial_end", "bigint"),
    col("vintage", "bigint"),
    col("event_date", "date"),
    col("status", ""),
    col("status_raw", ""),
];

const VERSION_COLUMNS: [Column; 11] = [
    col("kind", ""),
    col("registry", ""),
    col("record_key", ""),
    col("version", "bigint"),
    col("content_hash", ""),
    col("payload", "jsonb"),
    col("source", ""),
    col("raw_hash", ""),
    col("fetched_at", "timestamptz"),
    col("run_id", "bigint"),
    col("recorded_at", "timestamptz"),
];

/// The statements of one backend.
pub(crate) struct Statements {
    pub upsert_projects: String,
    pub upsert_credits: String,
    pub insert_versions: String,
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
            insert_versions: format!(
                "INSERT INTO record_versions ({}) SELECT {} FROM {}",
                names(VERSION_COLUMNS.iter()),
                extracts(backend, VERSION_COLUMNS.iter(), &["payload"]),
                json_rows(backend),
            ),
        }
    }
}

/// `INSERT … SELECT … FROM <json rows> ON CONFLICT DO UPDATE … WHERE the hash differs
/// RETURNING registry, key, version`: new rows come back with version 1, changed rows with
/// their new version, unchanged rows do not come back at all.
fn upsert(
    backend: Backend,
    table: &str,
    own: &[Column],
    conflict: &str,
    returning: &str,
) -> String {
    let columns = || own.iter().chain(PROVENANCE.iter());
    let updates: Vec<String> = columns()
        .filter(|c| !conflict.split(", ").any(|k| k == c.name))
        .map(|c| format!("{0} = excluded.{0}", c.name))
        .collect();
    let now = match backend {
        Backend::Sqlite => "$2",
        Backend::Postgres => "$2::timestamptz",
    };
    format!(
        "INSERT INTO {table} ({names}, version, updated_at) \
         SELECT {extracts}, 1, {now} FROM {rows} WHERE true ORDER BY {order} \
         ON CONFLICT ({conflict}) DO UPDATE SET {updates}, \
         version = {table}.version + 1, updated_at = excluded.updated_at \
         WHERE {table}.content_hash <> excluded.content_hash \
         RETURNING {returning}, version",
        names = names(columns()),
        extracts = extracts(backend, columns(), &[]),
        rows = json_rows(backend),
        order = match backend {
            Backend::Sqlite => "key",
            Backend::Postgres => "ord",
        },
        updates = updates.join(", "),
    )
}

fn names<'a>(columns: impl Iterator<Item = &'a Column>) -> String {
    columns.map(|c| c.name).collect::<Vec<_>>().join(", ")
}

/// `value->>i` per column (`value->i`, JSON text, for the columns named in `as_json`), cast to
/// the column type on PostgreSQL.
fn extracts<'a>(
    backend: Backend,
    columns: impl Iterator<Item = &'a Column>,
    as_json: &[&str],
) -> String {
    columns
        .enumerate()
        .map(|(i, c)| {
            let op = if as_json.contains(&c.name) {
                "->"
            } else {
                "->>"
            };
            match backend {
                Backend::Postgres if !c.pg_cast.is_empty() => {
                    format!("(value{op}{i})::{}", c.pg_cast)
                }
                _ => format!("value{op}{i}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of the JSON array bound as `$1`, one JSON array per row, with their position
/// (`key` in SQLite, `ord` in PostgreSQL): rows are written in array order, which is key order,
/// so concurrent writers lock rows in the same order. The document is converted to the binary
/// JSON form once, so reading a row's columns indexes into it instead of re-parsing text.
fn json_rows(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "json_each($1)",
        Backend::Postgres => "jsonb_array_elements($1::jsonb) WITH ORDINALITY AS rows(value, ord)",
    }
}
