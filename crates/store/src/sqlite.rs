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
use sqlx::{Arguments, Connection, Sqlite, SqliteConnection, Transaction};
use tokio::sync::mpsc;

use crate::batch::Value;
use crate::sql::{Statement, Statements};
use crate::store_impl::impl_store;
use crate::{Backend, DatabaseUrl, StoreError, StoreResult};

const BACKEND: Backend = Backend::Sqlite;
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Rows sqlx's SQLite worker thread hands over at once.
const ROW_BUFFER_SIZE: usize = 16_384;

/// Database bytes mapped into memory for reading.
const MMAP_SIZE: &str = "1073741824";

/// The writer checkpoints in its own commits only when the WAL passes this many pages
/// (256 MiB of 4 KiB pages), which happens only if the checkpointer cannot keep up: the WAL
/// stays bounded either way.
const WRITER_AUTOCHECKPOINT_PAGES: &str = "65536";

/// How long the checkpointer waits for readers and writers before giving up.
const CHECKPOINT_BUSY_TIMEOUT: Duration = Duration::from_millis(100);

/// After this long without a write, the checkpointer truncates the WAL.
const IDLE: Duration = Duration::from_secs(2);

/// Checkpoints the WAL on its own connection, so the copy back into the database runs beside
/// the writer instead of inside its commits: a passive checkpoint after each write
/// transaction (it never blocks the writer or readers), and a truncating one once writes have
/// paused. Stops when the store is dropped.
fn checkpointer(mut conn: SqliteConnection) -> mpsc::Sender<()> {
    let (wake, mut woken) = mpsc::channel(1);
    tokio::spawn(async move {
        let mut dirty = false;
        loop {
            let mode = match tokio::time::timeout(IDLE, woken.recv()).await {
                Ok(Some(())) => "PASSIVE",
                Ok(None) => break,
                Err(_) if dirty => "TRUNCATE",
                Err(_) => continue,
            };
            dirty = mode == "PASSIVE";
            let sql = format!("PRAGMA wal_checkpoint({mode})");
            if let Err(error) = sqlx::query(&sql).execute(&mut conn).await {
                tracing::warn!(%error, "WAL checkpoint failed");
            }
        }
        let _ = conn.close().await;
    });
    wake
}

impl SqliteStore {
    /// Lets the checkpointer know a write transaction committed.
    fn written(&self) {
        // Full means a wake-up is already pending.
        let _ = self.checkpoints.try_send(());
    }
}

/// A SQLite database file.
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    sql: Statements,
    /// Wakes the WAL checkpointer after each write transaction.
    checkpoints: mpsc::Sender<()>,
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
            .pragma("temp_store", "memory")
            .pragma("mmap_size", MMAP_SIZE)
            // A WAL reset by a checkpoint is truncated back to this size.
            .pragma("journal_size_limit", "67108864")
            // Statements return whole chunks: hand rows over in large batches, not 50 at a time.
            .row_buffer_size(ROW_BUFFER_SIZE);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(
                options
                    .clone()
                    .pragma("wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES),
            )
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        // A truncating checkpoint holds new writers back while it waits for readers: give up
        // quickly instead, the next pause tries again.
        let checkpoints = checkpointer(
            SqliteConnection::connect_with(&options.busy_timeout(CHECKPOINT_BUSY_TIMEOUT)).await?,
        );
        Ok(Self {
            writer,
            reader,
            sql: Statements::new(BACKEND),
            checkpoints,
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

/// A chunk's rows (flat, `statement.kinds.len()` values each) as multi-row `VALUES`
/// statements of the prepared sizes, each with its arguments.
fn statements<'q>(
    statement: &'q Statement,
    rows: Vec<Value<'q>>,
) -> StoreResult<Vec<(&'q str, SqliteArguments<'q>)>> {
    let width = statement.kinds.len();
    let mut left = rows.len() / width;
    let mut values = rows.into_iter();
    let mut statements = Vec::new();
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
        statements.push((sql, args));
        left -= n;
    }
    Ok(statements)
}

/// Writes a chunk's rows and returns the rows the statements return.
async fn write_rows<R>(
    conn: &mut SqliteConnection,
    statement: &Statement,
    rows: Vec<Value<'_>>,
) -> StoreResult<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, SqliteRow> + Send + Unpin,
{
    let mut returned = Vec::new();
    for (sql, args) in statements(statement, rows)? {
        returned.extend(
            sqlx::query_as_with::<_, R, _>(sql, args)
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(returned)
}

/// Upserts a chunk's rows (`write`, positions in the chunk with their versions) and returns
/// the positions that were not written. Under `BEGIN IMMEDIATE` no other writer runs between
/// classifying and writing, so every row is written: the statement returns nothing, and the
/// row count confirms it.
async fn upsert_rows<T: crate::batch::Versioned>(
    conn: &mut SqliteConnection,
    statement: &Statement,
    chunk: &crate::batch::Chunk<'_, T>,
    write: &[(usize, i64)],
    now: &str,
) -> StoreResult<Vec<usize>> {
    let mut written = 0;
    for (sql, args) in statements(statement, chunk.rows(write, now))? {
        written += sqlx::query_with(sql, args)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    if written != write.len() as u64 {
        return Err(StoreError::Corrupt {
            column: "version",
            value: format!("{written} of {} rows written", write.len()),
        });
    }
    Ok(Vec::new())
}

impl_store!(SqliteStore, SqliteConnection);
