//! SQL text shared by both backends, generated from one column list per table so the two
//! dialects cannot drift apart. Rows are bound as values, never spliced into the text:
//! - SQLite: multi-row `VALUES (?, …), (?, …)` statements, one bound parameter per value. A
//!   parameter costs little, a statement costs a round trip to sqlx's SQLite worker thread, so
//!   statements are as large as SQLite's parameter limit allows.
//! - PostgreSQL: `SELECT … FROM UNNEST($1::text[], …)`, one bound array per column, so a chunk
//!   of any size is one statement; text arrays are cast to the column types in SQL.
//!
//! A record's current version lives in its table (`projects`, `credit_records`), payload and
//! provenance included; `record_versions` holds only superseded versions. Writing a chunk:
//! 1. `classify`: which keys exist, at which version, with the same content or not;
//! 2. `supersede`: for the keys whose content differs, lock the current rows (PostgreSQL) and
//!    copy them to `record_versions`;
//! 3. `upsert`: insert the new records at version 1 and overwrite the superseded ones with
//!    the next version. The update only applies on top of the version step 2 copied, so a
//!    record another writer inserted in between is left alone and classified again.

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

/// SQLite's default limit on bound parameters per statement (`SQLITE_MAX_VARIABLE_NUMBER`).
const SQLITE_MAX_PARAMETERS: usize = 32_766;

/// One statement, in the forms a backend needs.
pub(crate) struct Statement {
    /// How each value of a row is bound; `batch` writes rows in this order.
    pub kinds: Vec<Kind>,
    /// SQLite: the statement for each row count it is prepared for, largest first. A chunk is
    /// written as full-size statements, then the remainder in power-of-two pieces, so only a
    /// dozen texts exist per statement and sqlx prepares each once.
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

/// The three statements that write one kind of record (see the module documentation).
pub(crate) struct Upsert {
    /// Binds `(ord, key…, content_hash)` rows; returns `(ord, same content)` for the
    /// keys that exist.
    pub classify: Statement,
    /// Binds `(ord, key…, content_hash)` rows; copies the current rows whose content differs
    /// to `record_versions` and returns their `(registry, record key, version)`.
    pub supersede: Statement,
    /// Binds full rows (`batch::Chunk::rows`); on PostgreSQL returns `(registry, record key)`
    /// of the rows written.
    pub upsert: Statement,
}

/// The statements of one backend.
pub(crate) struct Statements {
    pub projects: Upsert,
    pub credits: Upsert,
}

impl Statements {
    pub(crate) fn new(backend: Backend) -> Self {
        Self {
            projects: Upsert::new(backend, &PROJECTS),
            credits: Upsert::new(backend, &CREDITS),
        }
    }
}

impl Upsert {
    fn new(backend: Backend, table: &Table) -> Self {
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

        let classify = statement(backend, &incoming, |source| {
            format!(
                "WITH i ({}) AS ({source}) \
                 SELECT i.ord, c.content_hash = i.content_hash FROM i \
                 JOIN {t} c ON {join}",
                names(incoming.iter().copied())
            )
        });

        // PostgreSQL: lock in key order, so concurrent writers cannot deadlock; a row another
        // writer changed meanwhile is read (and compared) as that writer committed it.
        let lock = match backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE OF c",
        };
        let old: Vec<String> = ["registry", table.record_key]
            .into_iter()
            .chain(VERSIONED)
            .chain(["updated_at"])
            .map(|c| format!("c.{c}"))
            .collect();
        let supersede = statement(backend, &incoming, |source| {
            format!(
                "WITH i ({incoming}) AS ({source}), \
                 old AS (SELECT {old} FROM {t} c JOIN i ON {join} \
                 WHERE c.content_hash <> i.content_hash ORDER BY i.ord{lock}) \
                 INSERT INTO record_versions (kind, registry, record_key, {versioned}, recorded_at) \
                 SELECT '{kind}', {plain} FROM old \
                 RETURNING registry, record_key, version",
                incoming = names(incoming.iter().copied()),
                old = old.join(", "),
                versioned = VERSIONED.join(", "),
                kind = table.kind,
                plain = old
                    .iter()
                    .map(|c| c.trim_start_matches("c."))
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        });

        let columns: Vec<&Column> = table.own.iter().chain(CURRENT.iter()).collect();
        let updates: Vec<String> = columns
            .iter()
            .filter(|c| !table.key.iter().any(|k| k.name == c.name))
            .map(|c| format!("{0} = excluded.{0}", c.name))
            .collect();
        // Only PostgreSQL needs to know which rows were written: a SQLite write transaction
        // excludes other writers, so there every row is.
        let returning = match backend {
            Backend::Sqlite => String::new(),
            Backend::Postgres => format!(" RETURNING registry, {}", table.record_key),
        };
        let upsert = statement(backend, &columns, |source| {
            // Rows come in key order and both backends write them in that order.
            format!(
                "INSERT INTO {t} ({columns}) {source} \
                 ON CONFLICT ({keys}) DO UPDATE SET {updates} \
                 WHERE {t}.version = excluded.version - 1{returning}",
                columns = names(columns.iter().copied()),
                updates = updates.join(", "),
            )
        });
        Self {
            classify,
            supersede,
            upsert,
        }
    }
}

/// A statement binding rows of `columns`: `text` receives the row source, `VALUES (?, …), …`
/// on SQLite, `SELECT … FROM UNNEST(…)` with the columns cast to their types on PostgreSQL.
fn statement(backend: Backend, columns: &[&Column], text: impl Fn(&str) -> String) -> Statement {
    let kinds = columns.iter().map(|c| c.kind()).collect();
    let texts = match backend {
        Backend::Sqlite => {
            let row = format!("({}?)", "?, ".repeat(columns.len() - 1));
            let full = SQLITE_MAX_PARAMETERS / columns.len();
            let sizes = std::iter::once(full).chain(
                (0..usize::BITS)
                    .rev()
                    .map(|bit| 1usize << bit)
                    .filter(|&n| n < full),
            );
            sizes
                .map(|n| {
                    let rows = vec![row.as_str(); n].join(", ");
                    (n, text(&format!("VALUES {rows}")))
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
            // `WHERE true` keeps `ON CONFLICT` from parsing as part of the source.
            let source = format!(
                "SELECT {selects} FROM UNNEST({arrays}) AS r({names}) WHERE true",
                selects = selects.join(", "),
                arrays = arrays.join(", "),
                names = names(columns.iter().copied()),
            );
            vec![(usize::MAX, text(&source))]
        }
    };
    Statement { kinds, texts }
}

fn names<'a>(columns: impl Iterator<Item = &'a Column>) -> String {
    columns.map(|c| c.name).collect::<Vec<_>>().join(", ")
}
