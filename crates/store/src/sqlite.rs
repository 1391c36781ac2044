//! The SQLite database: the embedded default.
//!
//! WAL mode lets readers run beside the one writer. Every write transaction opens with
//! `BEGIN IMMEDIATE`, so writers queue on the busy timeout instead of failing with "database
//! is locked". Record writes run on their own connection through rusqlite (see
//! `records::sqlite`), and so do reads, on a small pool of read connections: sqlx's SQLite
//! driver copies every value and hands rows over between threads, which costs more than the
//! query itself on large reads. Other writes and the migrations go through sqlx.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::{Value as SqlValue, ValueRef as SqlValueRef};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments, Connection, Row as _, Sqlite, SqliteConnection, Transaction, ValueRef};
use tokio::sync::{Semaphore, mpsc};

use crate::db::{Arg, Db, Row, Tx, Val, epoch_days, epoch_micros, timestamp};
use crate::{Backend, DatabaseUrl, StoreError, StoreResult};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another process's write transaction before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Database page size, set when the file is created.
const PAGE_SIZE: u32 = 16_384;

/// A WAL reset by a checkpoint is truncated back to this size.
pub(crate) const JOURNAL_SIZE_LIMIT: &str = "67108864";

/// Rows sqlx's SQLite worker thread hands over at once.
const ROW_BUFFER_SIZE: usize = 16_384;

/// No memory-mapped reads: mapped pages of a large file count as the process's own memory,
/// while the page cache (`cache_size`) keeps reads bounded and nearly as fast.
pub(crate) const MMAP_SIZE: &str = "0";

/// The writers checkpoint in their own commits only when the WAL passes this many pages
/// (1 GiB of 16 KiB pages), which happens only if the checkpointer cannot keep up.
pub(crate) const WRITER_AUTOCHECKPOINT_PAGES: &str = "65536";

/// How long the checkpointer waits for readers and writers before giving up.
const CHECKPOINT_BUSY_TIMEOUT: Duration = Duration::from_millis(100);

/// After this long without a write, the checkpointer truncates the WAL.
const IDLE: Duration = Duration::from_secs(2);

/// Read connections open at once.
const READERS: usize = 4;

/// The longest one read statement may run before SQLite interrupts it: a runaway query must
/// not hold a reader for good. (Writes and migrations are not limited.)
pub(crate) const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Virtual machine steps between two looks at the clock while a statement runs.
const PROGRESS_STEPS: std::os::raw::c_int = 100_000;

/// Prepared statements each read connection keeps.
const READER_STATEMENTS: usize = 64;

/// The pools of a SQLite file.
pub(crate) struct SqliteDb {
    writer: SqlitePool,
    readers: Arc<Readers>,
    /// Wakes the WAL checkpointer after each write transaction.
    checkpoints: mpsc::Sender<()>,
}

impl SqliteDb {
    /// Opens (creating if missing) the database file.
    pub(crate) async fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::InvalidUrl(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            .pragma("mmap_size", MMAP_SIZE)
            .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT)
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
        // A truncating checkpoint holds new writers back while it waits for readers: give up
        // quickly instead, the next pause tries again.
        let checkpoints = checkpointer(
            SqliteConnection::connect_with(&options.busy_timeout(CHECKPOINT_BUSY_TIMEOUT)).await?,
        );
        Ok(Self {
            writer,
            readers: Arc::new(Readers::new(path)),
            checkpoints,
        })
    }

    /// Lets the checkpointer know a write transaction committed.
    pub(crate) fn written(&self) {
        // Full means a wake-up is already pending.
        let _ = self.checkpoints.try_send(());
    }

    /// The sqlx writer pool: its one connection is held while the record writer runs, so this
    /// process's other writes queue behind it instead of busy-waiting on SQLite's lock.
    pub(crate) fn writer_pool(&self) -> &SqlitePool {
        &self.writer
    }
}

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

/// Read connections (rusqlite), opened as needed up to [`READERS`] and kept.
struct Readers {
    path: PathBuf,
    permits: Semaphore,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl Readers {
    fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            permits: Semaphore::new(READERS),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The rows of one statement, on a read connection in a blocking thread.
    async fn fetch(self: &Arc<Self>, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        let idle = self
            .idle
            .lock()
            .map_err(|_| StoreError::WriterStopped)?
            .pop();
        let readers = Arc::clone(self);
        let sql = sql.to_owned();
        let (conn, rows) = tokio::task::spawn_blocking(move || {
            let conn = match idle {
                Some(conn) => conn,
                None => readers.open()?,
            };
            let deadline = std::time::Instant::now() + STATEMENT_TIMEOUT;
            conn.progress_handler(
                PROGRESS_STEPS,
                Some(move || std::time::Instant::now() > deadline),
            );
            let rows = query(&conn, &sql, &args);
            conn.progress_handler(PROGRESS_STEPS, None::<fn() -> bool>);
            Ok::<_, StoreError>((conn, rows))
        })
        .await
        .map_err(|_| StoreError::WriterStopped)??;
        // A connection whose statement failed is still sound: SQLite reports the error and
        // resets the statement.
        self.idle
            .lock()
            .map_err(|_| StoreError::WriterStopped)?
            .push(conn);
        rows
    }

    fn open(&self) -> StoreResult<rusqlite::Connection> {
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(READER_STATEMENTS);
        set_pragmas(
            &conn,
            &[
                ("cache_size", "-65536"),
                ("temp_store", "memory"),
                ("mmap_size", MMAP_SIZE),
            ],
        )?;
        Ok(conn)
    }
}

/// Sets `pragmas` on a rusqlite connection, in order.
pub(crate) fn set_pragmas(
    conn: &rusqlite::Connection,
    pragmas: &[(&str, &str)],
) -> rusqlite::Result<()> {
    for (pragma, value) in pragmas {
        // Some pragmas answer with their new value: read and drop it.
        conn.pragma_update_and_check(None, pragma, value, |_| Ok(()))
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(()),
                e => Err(e),
            })?;
    }
    Ok(())
}

/// Runs one read statement and returns its rows as the store's values.
fn query(conn: &rusqlite::Connection, sql: &str, args: &[Arg]) -> StoreResult<Vec<Row>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind_args(&mut stmt, args)?;
    let columns = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i)? {
                SqlValueRef::Null => Val::Null,
                SqlValueRef::Integer(v) => Val::Int(v),
                SqlValueRef::Real(v) => Val::Text(v.to_string()),
                SqlValueRef::Text(bytes) => {
                    Val::Text(String::from_utf8(bytes.to_vec()).map_err(|e| {
                        StoreError::Corrupt {
                            column: "sqlite text",
                            value: e.to_string(),
                        }
                    })?)
                }
                SqlValueRef::Blob(bytes) => Val::Bytes(bytes.to_vec()),
            });
        }
        out.push(Row(values));
    }
    Ok(out)
}

/// Binds `args` as SQLite stores them (see `db::Arg`): the first to `$1` (or `?1`), and so on.
/// SQLite numbers `$n` parameters in the order they appear, so they are looked up by name.
pub(crate) fn bind_args(stmt: &mut rusqlite::Statement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for (i, arg) in args.iter().enumerate() {
        let index = stmt
            .parameter_index(&format!("${}", i + 1))?
            .unwrap_or(i + 1);
        let value = match arg {
            Arg::Int(v) => v.map_or(SqlValue::Null, SqlValue::Integer),
            Arg::Text(v) => v.clone().map_or(SqlValue::Null, SqlValue::Text),
            Arg::Bytes(v) => v.clone().map_or(SqlValue::Null, SqlValue::Blob),
            Arg::Time(v) => v.map_or(SqlValue::Null, |t| SqlValue::Text(timestamp(t))),
            Arg::Instant(v) => v.map_or(SqlValue::Null, |t| SqlValue::Integer(epoch_micros(t))),
            Arg::Day(v) => v.map_or(SqlValue::Null, |d| SqlValue::Integer(epoch_days(d))),
        };
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

fn arguments(args: Vec<Arg>) -> StoreResult<SqliteArguments<'static>> {
    let mut out = SqliteArguments::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
            Arg::Time(v) => out.add(v.map(timestamp)),
            Arg::Instant(v) => out.add(v.map(epoch_micros)),
            Arg::Day(v) => out.add(v.map(epoch_days)),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

fn decode(row: &SqliteRow) -> StoreResult<Row> {
    let mut values = Vec::with_capacity(row.len());
    for i in 0..row.len() {
        let raw = row.try_get_raw(i)?;
        let value = if raw.is_null() {
            Val::Null
        } else {
            use sqlx::TypeInfo as _;
            match raw.type_info().name() {
                "INTEGER" => Val::Int(row.try_get(i)?),
                "TEXT" => Val::Text(row.try_get(i)?),
                "BLOB" => Val::Bytes(row.try_get(i)?),
                "REAL" => Val::Text(row.try_get::<f64, _>(i)?.to_string()),
                other => {
                    return Err(StoreError::Corrupt {
                        column: "sqlite value",
                        value: other.to_owned(),
                    });
                }
            }
        };
        values.push(value);
    }
    Ok(Row(values))
}

#[async_trait]
impl Db for SqliteDb {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn execute(&self, sql: &str, args: Vec<Arg>) -> StoreResult<u64> {
        let done = sqlx::query_with(sql, arguments(args)?)
            .execute(&self.writer)
            .await?;
        self.written();
        Ok(done.rows_affected())
    }

    async fn write_fetch(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        let rows = sqlx::query_with(sql, arguments(args)?)
            .fetch_all(&self.writer)
            .await?;
        self.written();
        rows.iter().map(decode).collect()
    }

    async fn fetch(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        self.readers.fetch(sql, args).await
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.writer).await?;
        Ok(())
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx {
            tx,
            checkpoints: self.checkpoints.clone(),
        }))
    }
}

struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    checkpoints: mpsc::Sender<()>,
}

#[async_trait]
impl Tx for SqliteTx {
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<u64> {
        let done = sqlx::query_with(sql, arguments(args)?)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }

    async fn fetch(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        let rows = sqlx::query_with(sql, arguments(args)?)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        let _ = self.checkpoints.try_send(());
        Ok(())
    }
}

/// The path of a SQLite URL.
pub(crate) fn path(url: &DatabaseUrl) -> StoreResult<&Path> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(path),
        DatabaseUrl::Postgres(_) => {
            Err(StoreError::InvalidUrl(format!("{url} is not a SQLite URL")))
        }
    }
}
