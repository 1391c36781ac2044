//! The PostgreSQL store: production, and several carbonmesh instances sharing one database.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Arguments, PgConnection, Postgres, Transaction};

use crate::batch::Value;
use crate::sql::{Kind, Statement, Statements};
use crate::store_impl::impl_store;
use crate::{Backend, DatabaseUrl, StoreError, StoreResult};

const BACKEND: Backend = Backend::Postgres;
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL database.
pub struct PostgresStore {
    /// PostgreSQL takes row locks, so writers share the one pool.
    writer: PgPool,
    reader: PgPool,
    sql: Statements,
}

impl PostgresStore {
    /// Connects to the database the URL names.
    pub async fn open(url: &DatabaseUrl) -> StoreResult<Self> {
        let DatabaseUrl::Postgres(text) = url else {
            return Err(StoreError::InvalidUrl(format!(
                "{url} is not a PostgreSQL URL"
            )));
        };
        let options = PgConnectOptions::from_str(text)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
            sql: Statements::new(BACKEND),
        })
    }
}

async fn begin_write(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    Ok(pool.begin().await?)
}

impl PostgresStore {
    /// Nothing to do after a write: PostgreSQL checkpoints by itself.
    fn written(&self) {}
}

fn db_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

/// One column of a chunk, bound as one array.
enum Array<'a> {
    Text(Vec<Option<Cow<'a, str>>>),
    Int(Vec<Option<i64>>),
}

/// Writes a chunk's rows (flat, `statement.kinds.len()` values each) as one statement, one
/// array per column, and returns the rows the statement returns.
async fn write_rows<R>(
    conn: &mut PgConnection,
    statement: &Statement,
    rows: Vec<Value<'_>>,
) -> StoreResult<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let width = statement.kinds.len();
    let n = rows.len() / width;
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut arrays: Vec<Array<'_>> = statement
        .kinds
        .iter()
        .map(|kind| match kind {
            Kind::Text => Array::Text(Vec::with_capacity(n)),
            Kind::Int => Array::Int(Vec::with_capacity(n)),
        })
        .collect();
    for (i, value) in rows.into_iter().enumerate() {
        match (&mut arrays[i % width], value) {
            (Array::Text(a), Value::Text(text)) => a.push(Some(text)),
            (Array::Text(a), Value::Null) => a.push(None),
            (Array::Int(a), Value::Int(int)) => a.push(Some(int)),
            (Array::Int(a), Value::Null) => a.push(None),
            (_, value) => {
                return Err(StoreError::Corrupt {
                    column: "batch",
                    value: format!("{value:?} in column {} of the wrong type", i % width),
                });
            }
        }
    }
    let mut args = PgArguments::default();
    for array in arrays {
        match array {
            Array::Text(a) => args.add(a),
            Array::Int(a) => args.add(a),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    let (_, sql) = statement.next(n);
    Ok(sqlx::query_as_with(sql, args).fetch_all(conn).await?)
}

/// Upserts a chunk's rows (`write`, positions in the chunk with their versions) and returns
/// the positions that were not written: records another writer inserted after they were
/// classified as new.
async fn upsert_rows<T: crate::batch::Versioned>(
    conn: &mut PgConnection,
    statement: &Statement,
    chunk: &crate::batch::Chunk<'_, T>,
    write: &[(usize, i64)],
    now: &str,
) -> StoreResult<Vec<usize>> {
    let written: Vec<(String, String)> =
        write_rows(conn, statement, chunk.rows(write, now)).await?;
    if written.len() == write.len() {
        return Ok(Vec::new());
    }
    let mut done = vec![false; chunk.len()];
    for (registry, key) in written {
        done[chunk.position(&registry, &key)?] = true;
    }
    Ok(write
        .iter()
        .map(|&(ord, _)| ord)
        .filter(|&ord| !done[ord])
        .collect())
}

impl_store!(PostgresStore, PgConnection);
