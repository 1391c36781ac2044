//! The SQLite store: the embedded default.
//!
//! WAL mode lets readers run beside the one writer. Every write transaction opens with
//! `BEGIN IMMEDIATE`, so writers queue on the busy timeout instead of failing with "database
//! is locked".
//!
//! Batch upserts, the bulk of all writes, run on their own connection through rusqlite (the
//! same SQLite library sqlx links): prepared single-row statements stepped in-process on a
//! blocking thread cost about a microsecond each, where every statement sent to sqlx's
//! worker thread costs a round trip. Everything else goes through sqlx.

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use carbonmesh_model::{RejectedRecord, RunCounts};
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};
use tokio::sync::mpsc;

use crate::Stamped;
use crate::batch::{OwnedRows, RowRef, Value, Versioned};
use crate::sql::{RowStatements, SqliteStatements};
use crate::store_impl::impl_store;
use crate::{Backend, DatabaseUrl, StoreError, StoreResult};

static STATEMENTS: LazyLock<SqliteStatements> = LazyLock::new(SqliteStatements::new);

const BACKEND: Backend = Backend::Sqlite;
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another process's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Pages per database page: 16 KiB pages hold several records each (a record is about 1 KiB
/// with its JSON payload), so inserts touch fewer pages. Set when the file is created.
const PAGE_SIZE: u32 = 16_384;

/// A WAL reset by a checkpoint is truncated back to this size.
const JOURNAL_SIZE_LIMIT: &str = "67108864";

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
    /// Writes other than batch upserts.
    writer: SqlitePool,
    /// Batch upserts (see the module documentation).
    batch_writer: Arc<Mutex<rusqlite::Connection>>,
    reader: SqlitePool,
    sql: &'static SqliteStatements,
    /// Wakes the WAL checkpointer after each write transaction.
    checkpoints: mpsc::Sender<()>,
    /// Distinguishes this opened store from every other in the process.
    instance: u64,
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
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        // A truncating checkpoint holds new writers back while it waits for readers: give up
        // quickly instead, the next pause tries again.
        let checkpoints = checkpointer(
            SqliteConnection::connect_with(&options.busy_timeout(CHECKPOINT_BUSY_TIMEOUT)).await?,
        );
        let path = path.clone();
        let batch_writer = tokio::task::spawn_blocking(move || open_batch_writer(&path))
            .await
            .map_err(|_| StoreError::WriterStopped)??;
        Ok(Self {
            writer,
            batch_writer: Arc::new(Mutex::new(batch_writer)),
            reader,
            sql: &STATEMENTS,
            checkpoints,
            instance: crate::next_instance(),
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

/// Dates are ISO 8601 text (`YYYY-MM-DD`), as the batch writer stores them.
fn db_date(date: chrono::NaiveDate) -> String {
    date.to_string()
}

/// Exact sums of the quantities of [`crate::select::statistics_source`] rows, by group and
/// transaction type. Quantities are decimal text, which SQLite would sum as floating point.
/// Instead, rows are also grouped by their number of fraction digits, and within such a group
/// the digits without the point are summed as 64-bit integers: exact, and a few string
/// functions per row. Quantities too long for that (more than 17 digits), or sums that
/// overflow, are summed in Rust instead.
async fn quantity_sums(
    pool: &SqlitePool,
    source: &crate::select::Select,
) -> StoreResult<Vec<crate::stats::QuantitySum>> {
    let text = format!(
        "SELECT k, t, COUNT(*), SUM(CAST(replace(q, '.', '') AS INTEGER)), s, MAX(length(q)) \
         FROM (SELECT src.k, src.t, src.q, CASE WHEN instr(src.q, '.') = 0 THEN 0 \
         ELSE length(src.q) - instr(src.q, '.') END AS s FROM ({}) src) \
         GROUP BY k, t, s",
        source.text
    );
    type Sums = (Option<String>, String, i64, i64, i64, i64);
    let sums: Result<Vec<Sums>, sqlx::Error> = sqlx::query_as_with(&text, arguments(&source.args)?)
        .fetch_all(pool)
        .await;
    let sums = match sums {
        Ok(rows) if rows.iter().all(|row| row.5 <= 18) => Some(rows),
        Ok(_) => None,
        Err(sqlx::Error::Database(e)) if e.message().contains("integer overflow") => None,
        Err(e) => return Err(e.into()),
    };
    let mut totals: std::collections::HashMap<
        (Option<String>, String),
        (u64, rust_decimal::Decimal),
    > = std::collections::HashMap::new();
    match sums {
        Some(rows) => {
            for (key, transaction_type, n, digits, scale, _) in rows {
                let total = totals.entry((key, transaction_type)).or_default();
                total.0 += n as u64;
                total.1 +=
                    rust_decimal::Decimal::from_i128_with_scale(i128::from(digits), scale as u32);
            }
        }
        None => {
            let rows: Vec<(Option<String>, String, String)> =
                sqlx::query_as_with(&source.text, arguments(&source.args)?)
                    .fetch_all(pool)
                    .await?;
            for (key, transaction_type, quantity) in rows {
                let quantity: rust_decimal::Decimal =
                    quantity.parse().map_err(|_| StoreError::Corrupt {
                        column: "credit_records.quantity",
                        value: quantity.clone(),
                    })?;
                let total = totals.entry((key, transaction_type)).or_default();
                total.0 += 1;
                total.1 += quantity;
            }
        }
    }
    Ok(totals
        .into_iter()
        .map(
            |((key, transaction_type), (records, quantity))| crate::stats::QuantitySum {
                key,
                transaction_type,
                records,
                quantity,
            },
        )
        .collect())
}

/// Records prepared at a time: the writer thread writes one piece while the next is
/// validated, serialized and hashed.
const PIECE_RECORDS: usize = 1_000;

/// What the preparing task hands the writer thread.
enum Piece {
    /// Records to write in order, and records rejected by validation.
    Records(OwnedRows, Vec<RejectedRecord>),
    /// Every piece was sent: commit.
    Done,
}

impl SqliteStore {
    /// Writes a batch in one transaction on the batch writer connection. Records are
    /// validated, serialized and hashed here, piece by piece, while a blocking thread writes
    /// the previous piece record by record: a lookup, and at most one copy to
    /// `record_versions` and one insert or update. Under `BEGIN IMMEDIATE` no other writer
    /// runs in between, so every record is classified once.
    async fn upsert<T: Versioned>(
        &self,
        sql: &'static RowStatements,
        batch: &[Stamped<T>],
    ) -> StoreResult<RunCounts> {
        // Hold the sqlx writer's one connection for the batch: this process's other writes
        // then queue behind the batch instead of busy-waiting on SQLite's write lock.
        let _writes_wait = self.writer.acquire().await?;
        let (pieces, mut received) = tokio::sync::mpsc::channel(2);
        let writer = Arc::clone(&self.batch_writer);
        let written = tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().map_err(|_| StoreError::WriterStopped)?;
            write_batch(&mut conn, sql, || received.blocking_recv())
        });
        for piece in batch.chunks(PIECE_RECORDS) {
            let prepared = crate::batch::prepare(piece)?;
            // Chunks split where a key repeats, so in chunk order every record comes after
            // the records it replaces.
            let mut rows = OwnedRows::default();
            for chunk in &prepared.chunks {
                chunk.copy_into(&mut rows);
            }
            if pieces
                .send(Piece::Records(rows, prepared.rejected))
                .await
                .is_err()
            {
                // The writer stopped: its result says why.
                break;
            }
        }
        // A writer that already stopped has its error to report instead.
        let _ = pieces.send(Piece::Done).await;
        drop(pieces);
        let counts = written.await.map_err(|_| StoreError::WriterStopped)??;
        self.written();
        Ok(RunCounts {
            seen: batch.len() as u64,
            ..counts
        })
    }
}

/// Opens the batch writer's connection on the database file.
fn open_batch_writer(path: &Path) -> StoreResult<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    for (pragma, value) in [
        ("journal_mode", "wal"),
        ("synchronous", "normal"),
        ("foreign_keys", "on"),
        ("cache_size", "-65536"),
        ("temp_store", "memory"),
        ("mmap_size", MMAP_SIZE),
        ("journal_size_limit", JOURNAL_SIZE_LIMIT),
        ("wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES),
    ] {
        // Some pragmas answer with their new value: read and drop it.
        conn.pragma_update_and_check(None, pragma, value, |_| Ok(()))
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(()),
                e => Err(e),
            })?;
    }
    Ok(conn)
}

/// Writes the pieces `next` returns in one `BEGIN IMMEDIATE` transaction, committed when
/// [`Piece::Done`] arrives; rolled back if the pieces stop before it.
fn write_batch(
    conn: &mut rusqlite::Connection,
    sql: &RowStatements,
    mut next: impl FnMut() -> Option<Piece>,
) -> StoreResult<RunCounts> {
    let now = crate::batch::timestamp(Utc::now());
    let mut counts = RunCounts::default();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut lookup = tx.prepare_cached(&sql.lookup)?;
        let mut supersede = tx.prepare_cached(&sql.supersede)?;
        let mut insert = tx.prepare_cached(&sql.insert)?;
        let mut update = tx.prepare_cached(&sql.update)?;
        let mut insert_rejected = tx.prepare_cached(crate::rows::INSERT_REJECTED)?;
        loop {
            let (rows, rejected) = match next() {
                Some(Piece::Records(rows, rejected)) => (rows, rejected),
                Some(Piece::Done) => break,
                None => return Err(StoreError::WriterStopped),
            };
            for row in rows.iter() {
                bind(&mut lookup, 1, row.key())?;
                let current = {
                    let mut found = lookup.raw_query();
                    match found.next()? {
                        None => None,
                        Some(current) => {
                            let same = matches!(current.get_ref(1)?,
                                rusqlite::types::ValueRef::Text(hash)
                                    if hash == row.content_hash().as_bytes());
                            Some((current.get::<_, i64>(0)?, same))
                        }
                    }
                };
                match current {
                    None => {
                        write_row(&mut insert, &row, 1, &now)?;
                        counts.new += 1;
                    }
                    Some((_, true)) => counts.unchanged += 1,
                    Some((version, false)) => {
                        bind(&mut supersede, 1, row.key())?;
                        supersede.raw_execute()?;
                        write_row(&mut update, &row, version + 1, &now)?;
                        counts.changed += 1;
                    }
                }
            }
            counts.rejected += rejected.len() as u64;
            for r in &rejected {
                insert_rejected.execute(rusqlite::params![
                    r.connector,
                    r.source,
                    r.line.map(|l| l as i64),
                    r.field,
                    r.reason,
                    r.raw,
                    r.run_id,
                    db_time(r.rejected_at),
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(counts)
}

/// Runs `statement` with a full row at `version`, stamped `now`; returns the rows changed.
fn write_row(
    statement: &mut rusqlite::CachedStatement<'_>,
    row: &RowRef<'_>,
    version: i64,
    now: &str,
) -> rusqlite::Result<usize> {
    let next = bind(statement, 1, row.columns())?;
    statement.raw_bind_parameter(next, version)?;
    statement.raw_bind_parameter(next + 1, now)?;
    statement.raw_execute()
}

/// Binds `values` to the parameters of `statement` from `first` on; returns the index of the
/// next parameter.
fn bind<'v>(
    statement: &mut rusqlite::CachedStatement<'_>,
    first: usize,
    values: impl Iterator<Item = Value<'v>>,
) -> rusqlite::Result<usize> {
    let mut index = first;
    for value in values {
        match value {
            Value::Null => statement.raw_bind_parameter(index, rusqlite::types::Null),
            Value::Text(text) => statement.raw_bind_parameter(index, text.as_ref()),
            Value::Int(int) => statement.raw_bind_parameter(index, int),
        }?;
        index += 1;
    }
    Ok(index)
}

impl_store!(SqliteStore, SqliteConnection);

#[cfg(test)]
mod plans {
    //! The read queries use the indexes of the 0005 migration (SQLite's plans are stable
    //! enough to check; PostgreSQL's depend on statistics).

    use super::*;
    use crate::Store as _;
    use crate::query::{AlertFilter, CreditFilter, CreditOrder};
    use crate::select::{self, Select};

    async fn plan(store: &SqliteStore, select: &Select) -> String {
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as_with(
            &format!("EXPLAIN QUERY PLAN {}", select.text),
            arguments(&select.args).expect("arguments"),
        )
        .fetch_all(&store.reader)
        .await
        .expect("plan");
        rows.into_iter()
            .map(|(_, _, _, detail)| detail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[tokio::test]
    async fn read_queries_use_their_indexes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&DatabaseUrl::Sqlite(dir.path().join("plans.db")))
            .await
            .expect("open");
        store.migrate().await.expect("migrate");

        let overlap =
            select::credits_overlapping(Backend::Sqlite, "verra", 10, 20, 10).expect("statement");
        let overlap = plan(&store, &overlap).await;
        assert_eq!(
            overlap
                .matches("USING INDEX credit_records_serial_bucket (serial_namespace=? AND serial_bucket=? AND serial_start>? AND serial_start<?)")
                .count(),
            33,
            "{overlap}"
        );

        let newest = select::query_credits(
            Backend::Sqlite,
            &CreditFilter::default(),
            CreditOrder::EventDateDesc,
            None,
            100,
        )
        .expect("statement");
        assert_eq!(newest.len(), 1);
        let newest = plan(&store, &newest[0]).await;
        assert!(newest.contains("credit_records_event_date"), "{newest}");
        assert!(!newest.contains("TEMP B-TREE"), "{newest}");
        // After a dated record: a range from its date down, then the undated records.
        let cursor = select::cursor(&["2024-05-01".into(), 17.into()]);
        let next = select::query_credits(
            Backend::Sqlite,
            &CreditFilter::default(),
            CreditOrder::EventDateDesc,
            Some(&cursor),
            100,
        )
        .expect("statement");
        let same_date = plan(&store, &next[0]).await;
        assert!(
            same_date.contains("USING INDEX credit_records_event_date (event_date=? AND rowid>?)"),
            "{same_date}"
        );
        let earlier = plan(&store, &next[1]).await;
        assert!(
            earlier.contains("USING INDEX credit_records_event_date (event_date<?)"),
            "{earlier}"
        );
        let undated = plan(&store, &next[2]).await;
        assert!(
            undated.contains("USING INDEX credit_records_event_date (event_date=?)"),
            "{undated}"
        );
        assert!(!format!("{same_date}{earlier}{undated}").contains("TEMP B-TREE"));

        let cursor = select::cursor(&["verra".into(), "k".into()]);
        let by_key = select::query_credits(
            Backend::Sqlite,
            &CreditFilter::default(),
            CreditOrder::Key,
            Some(&cursor),
            100,
        )
        .expect("statement");
        let by_key = plan(&store, &by_key[0]).await;
        assert!(
            by_key.contains("sqlite_autoindex_credit_records_1 ((registry,record_key)>(?,?))"),
            "{by_key}"
        );

        let changes = select::changes(chrono::Utc::now(), None, None, 100).expect("statement");
        let changes = plan(&store, &changes).await;
        for index in [
            "credit_records_updated (updated_at>?)",
            "projects_updated (updated_at>?)",
            "record_versions_recorded (recorded_at>?)",
        ] {
            assert!(changes.contains(index), "{changes}");
        }

        let alerts = select::query_alerts(Backend::Sqlite, &AlertFilter::default(), None, 50)
            .expect("statement");
        let alerts = plan(&store, &alerts).await;
        assert!(alerts.contains("alerts_order"), "{alerts}");
        assert!(!alerts.contains("TEMP B-TREE"), "{alerts}");
    }
}
