//! The SQLite store: the embedded default.
//!
//! WAL mode lets readers run beside the one writer. All writes in this process go through a
//! single-connection pool and open with `BEGIN IMMEDIATE`, so they queue in order instead of
//! failing with "database is locked"; writers in other processes wait on the busy timeout.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Arguments, Sqlite, SqliteConnection, Transaction};

use crate::batch::Value;
use crate::sql::{Statement, Statements};
use crate::store_impl::impl_store;
use crate::{Backend, DatabaseUrl, StoreError, StoreResult};

const BACKEND: Backend = Backend::Sqlite;
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// A SQLite database file.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    sql: Statements,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file the URL names.
    pub async fn open(url: &DatabaseUrl) -> StoreResult<Self> {
        let DatabaseUrl::Sqlite(path) = url else {
            return Err(StoreError::InvalidUrl(format!("{url} is not a SQLite URL")));
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::InvalidUrl(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Self {
            writer,
            reader,
            sql: Statements::new(BACKEND),
        })
    }
}

/// `BEGIN IMMEDIATE` takes the write lock up front: a deferred transaction that reads before
/// writing fails with SQLITE_BUSY at once instead of waiting out the busy timeout.
async fn begin_write(pool: &SqlitePool) -> StoreResult<Transaction<'static, Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Timestamps are RFC 3339 text in one fixed format, so they sort as text.
fn db_time(at: DateTime<Utc>) -> String {
    crate::batch::timestamp(at)
}

/// Writes a chunk's rows (flat, `statement.kinds.len()` values each) as multi-row `VALUES`
/// statements of the prepared sizes, and returns the rows the statements return.
async fn write_rows<R>(
    conn: &mut SqliteConnection,
    statement: &Statement,
    rows: Vec<Value<'_>>,
) -> StoreResult<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin,
{
    let width = statement.kinds.len();
    let mut left = rows.len() / width;
    let mut values = rows.into_iter();
    let mut returned = Vec::new();
    while left > 0 {
        let (n, sql) = statement.next(left);
        let mut args = SqliteArguments::default();
        for value in values.by_ref().take(n * width) {
            match value {
                Value::Null => args.add(None::<i64>),
                // Owned text is moved to SQLite's worker thread as is.
                Value::Text(text) => args.add(text),
                Value::Int(int) => args.add(int),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        returned.extend(
            sqlx::query_as_with::<_, R, _>(sql, args)
                .fetch_all(&mut *conn)
                .await?,
        );
        left -= n;
    }
    Ok(returned)
}

impl_store!(SqliteStore, SqliteConnection);
