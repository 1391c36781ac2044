//! Record writes on SQLite: one rusqlite connection (the library sqlx links) on a blocking
//! thread, fed prepared records through a channel while the caller prepares the next ones.
//! A prepared statement stepped in-process costs about a microsecond, where each statement
//! sent to sqlx's worker thread costs a round trip.
//!
//! Every load is one `BEGIN IMMEDIATE` transaction, rolled back if the load is dropped
//! before [`BulkLoad::finish`] or the process dies. A bulk load (many records into a table
//! small beside them) drops the credit indexes inside that transaction, finds keys through a
//! map in memory instead, and builds the indexes again before it commits: readers keep seeing
//! the indexed table as it was until then, and a crash leaves it as it was.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use carbonmesh_model::{RejectedRecord, RunCounts};
use chrono::Utc;
use rusqlite::{OptionalExtension, Transaction, params};
use sqlx::pool::PoolConnection;
use tokio::sync::mpsc;

use crate::db::{Arg, epoch_days, epoch_micros};
use crate::records::columns::{
    CREDIT_CONTENT, CreditIds, CreditValues, PROJECT_CONTENT, credit_terms, list, project_args,
    project_terms,
};
use crate::records::encode::key_hash;
use crate::records::prepare::{PreparedCredit, PreparedProject};
use crate::records::{Batch, CREDIT_INDEXES, LoadMode, WriteCounts};
use crate::sqlite::{
    BUSY_TIMEOUT, JOURNAL_SIZE_LIMIT, MMAP_SIZE, SqliteDb, WRITER_AUTOCHECKPOINT_PAGES, bind_args,
    set_pragmas,
};
use crate::terms::Terms;
use crate::totals::{Counted, Step, TotalKey, Totals};
use crate::{BulkLoad, StoreError, StoreResult};

/// Keys a bulk load keeps in memory (about 30 bytes each) before it builds the key index and
/// looks keys up there instead: memory stays bounded whatever the size of the load.
const KEY_MAP_LIMIT: usize = 4_000_000;

/// Page cache of the writer connection, in KiB.
const WRITER_CACHE_KIB: i64 = 65_536;

/// Page cache of the writer connection during a bulk load, in KiB. Its rows are appended and
/// its keys looked up in memory, so the cache holds little worth keeping; the sorts of the
/// `CREATE INDEX` after it size their memory by it, and build as fast with a smaller one
/// (3.21 s against 3.25 s for the four secondary indexes of 1M rows, 68 MB against 117 MB).
/// The incremental path keeps [`WRITER_CACHE_KIB`]: its updates reach index pages all over.
const BULK_CACHE_KIB: i64 = 16_384;

/// The record writer of a SQLite file.
pub(crate) struct SqliteWriter {
    conn: Arc<Mutex<WriterConn>>,
    db: Arc<SqliteDb>,
    terms: Arc<Terms>,
}

/// The writer's connection and what it remembers between loads (committed state only).
struct WriterConn {
    conn: rusqlite::Connection,
    terms: HashMap<String, i64>,
    origins: HashMap<(String, i64, i64), i64>,
}

impl SqliteWriter {
    pub(crate) async fn open(
        path: &std::path::Path,
        db: Arc<SqliteDb>,
        terms: Arc<Terms>,
    ) -> StoreResult<Self> {
        let path = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || open_connection(&path))
            .await
            .map_err(|_| StoreError::WriterStopped)??;
        Ok(Self {
            conn: Arc::new(Mutex::new(WriterConn {
                conn,
                terms: HashMap::new(),
                origins: HashMap::new(),
            })),
            db,
            terms,
        })
    }

    /// Whether the file takes writes: the write lock taken and let go at once. A load under
    /// way, here or in another process, shows that it does.
    pub(crate) async fn writable(&self) -> StoreResult<bool> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let Ok(conn) = conn.try_lock() else {
                return Ok(true);
            };
            // Another process holding the write lock shows the file takes writes: ask once,
            // without waiting out the busy timeout behind it.
            conn.conn.busy_timeout(std::time::Duration::ZERO)?;
            let probed = conn.conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK");
            conn.conn.busy_timeout(BUSY_TIMEOUT)?;
            match probed {
                Ok(()) => Ok(true),
                Err(rusqlite::Error::SqliteFailure(e, _)) => match e.code {
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                        Ok(true)
                    }
                    rusqlite::ErrorCode::ReadOnly
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure => Ok(false),
                    _ => Err(rusqlite::Error::SqliteFailure(e, None).into()),
                },
                Err(other) => Err(other.into()),
            }
        })
        .await
        .map_err(|_| StoreError::WriterStopped)?
    }

    /// Starts a load on the writer thread.
    pub(crate) async fn load(&self, mode: LoadMode) -> StoreResult<Box<dyn BulkLoad>> {
        // Hold the sqlx writer's one connection for the load: this process's other writes
        // then queue behind it instead of busy-waiting on SQLite's write lock.
        let hold = self.db.writer_pool().acquire().await?;
        let (sender, receiver) = mpsc::channel(2);
        let conn = Arc::clone(&self.conn);
        let terms = Arc::clone(&self.terms);
        let done = tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| StoreError::WriterStopped)?;
            let loaded = run_load(&mut conn, &terms, mode, receiver);
            if let LoadMode::Bulk { .. } = mode {
                // A bulk load writes with a smaller cache (`BULK_CACHE_KIB`), committed or not.
                conn.conn
                    .pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
            }
            loaded
        });
        Ok(Box::new(SqliteLoad {
            sender: Some(sender),
            done: Some(done),
            _hold: hold,
            db: Arc::clone(&self.db),
            seen: 0,
        }))
    }
}

fn open_connection(path: &std::path::Path) -> StoreResult<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let cache = format!("-{WRITER_CACHE_KIB}");
    set_pragmas(
        &conn,
        &[
            ("journal_mode", "wal"),
            ("synchronous", "normal"),
            ("foreign_keys", "on"),
            ("cache_size", cache.as_str()),
            ("temp_store", "memory"),
            // Helper threads for the sorts of CREATE INDEX (a bulk load builds its indexes
            // after the rows).
            ("threads", "2"),
            ("mmap_size", MMAP_SIZE),
            ("journal_size_limit", JOURNAL_SIZE_LIMIT),
            ("wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES),
        ],
    )?;
    Ok(conn)
}

/// What the load's caller sends its writer thread.
enum Msg {
    Batch(
        Vec<PreparedProject>,
        Vec<PreparedCredit>,
        Vec<RejectedRecord>,
    ),
    Finish,
}

struct SqliteLoad {
    sender: Option<mpsc::Sender<Msg>>,
    done: Option<tokio::task::JoinHandle<StoreResult<WriteCounts>>>,
    _hold: PoolConnection<sqlx::Sqlite>,
    db: Arc<SqliteDb>,
    seen: u64,
}

impl SqliteLoad {
    /// The writer's own error when it stopped, else `WriterStopped`.
    async fn stopped(&mut self) -> StoreError {
        self.sender = None;
        match self.done.take() {
            Some(done) => match done.await {
                Ok(Err(e)) => e,
                _ => StoreError::WriterStopped,
            },
            None => StoreError::WriterStopped,
        }
    }
}

#[async_trait]
impl BulkLoad for SqliteLoad {
    async fn write(&mut self, batch: Batch) -> StoreResult<()> {
        self.seen += (batch.projects.len() + batch.credits.len()) as u64;
        let mut rejected = batch.rejected;
        let projects = crate::records::prepare::projects(batch.projects, &mut rejected)?;
        let credits = crate::records::prepare::credits(batch.credits, &mut rejected)?;
        let Some(sender) = &self.sender else {
            return Err(StoreError::WriterStopped);
        };
        if sender
            .send(Msg::Batch(projects, credits, rejected))
            .await
            .is_err()
        {
            return Err(self.stopped().await);
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> StoreResult<RunCounts> {
        let Some(sender) = self.sender.take() else {
            return Err(StoreError::WriterStopped);
        };
        // A writer that already stopped has its error to report instead.
        let _ = sender.send(Msg::Finish).await;
        drop(sender);
        let done = self.done.take().ok_or(StoreError::WriterStopped)?;
        let counts = done.await.map_err(|_| StoreError::WriterStopped)??;
        self.db.written();
        Ok(counts.run_counts(self.seen))
    }
}

/// Runs one load: a transaction, the batches as they arrive, then the totals, the indexes (of
/// a bulk load) and the commit.
fn run_load(
    wc: &mut WriterConn,
    shared_terms: &Terms,
    mode: LoadMode,
    mut receiver: mpsc::Receiver<Msg>,
) -> StoreResult<WriteCounts> {
    let WriterConn {
        conn,
        terms,
        origins,
    } = wc;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut load = Load {
        tx: &tx,
        statements: CreditStatements::new(&tx)?,
        slots: Default::default(),
        known_terms: terms,
        new_terms: HashMap::new(),
        known_origins: origins,
        new_origins: HashMap::new(),
        last_origin: None,
        totals: Totals::default(),
        keys: None,
        now: Utc::now(),
        counts: WriteCounts::default(),
        registries: HashSet::new(),
    };
    if let LoadMode::Bulk { expected } = mode {
        load.start_bulk(expected)?;
    }
    // Where the load's time goes, for `RUST_LOG=carbonmesh_store=debug`.
    let started = std::time::Instant::now();
    let mut waited = std::time::Duration::ZERO;
    loop {
        let wait = std::time::Instant::now();
        let msg = receiver.blocking_recv();
        waited += wait.elapsed();
        match msg {
            Some(Msg::Batch(projects, credits, rejected)) => {
                for p in &projects {
                    load.project(p)?;
                }
                for c in &credits {
                    load.credit(c)?;
                }
                for r in &rejected {
                    load.rejected(r)?;
                }
            }
            Some(Msg::Finish) => break,
            None => return Err(StoreError::WriterStopped),
        }
    }
    let written = started.elapsed();
    load.finish()?;
    let new_terms = std::mem::take(&mut load.new_terms);
    let new_origins = std::mem::take(&mut load.new_origins);
    let counts = load.counts;
    // The load's statements end before the transaction does.
    drop(load);
    let finished = started.elapsed();
    tx.commit()?;
    let committed = started.elapsed();
    if let LoadMode::Bulk { .. } = mode {
        // A bulk load wrote the whole table into the WAL: fold it back into the file now
        // rather than leave a WAL as large as the database behind.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    tracing::debug!(
        bulk = matches!(mode, LoadMode::Bulk { .. }),
        waiting_s = waited.as_secs_f64(),
        writing_s = (written - waited).as_secs_f64(),
        finishing_s = (finished - written).as_secs_f64(),
        commit_s = (committed - finished).as_secs_f64(),
        checkpoint_s = (started.elapsed() - committed).as_secs_f64(),
        "sqlite load"
    );
    // Committed: remember the numbers given out.
    shared_terms.learn(
        new_terms
            .iter()
            .map(|(text, id)| (*id, Arc::<str>::from(text.as_str()))),
    );
    terms.extend(new_terms);
    origins.extend(new_origins);
    Ok(counts)
}

/// An existing credit row, as a write needs it.
struct Existing {
    id: i64,
    record_key: String,
    version: i64,
    content_hash: Vec<u8>,
    counted: Counted,
    /// Retracted (no longer published): the totals do not count it, and reading it again
    /// brings it back as a new version.
    retracted: bool,
}

const EXISTING_COLUMNS: &str = "id, record_key, version, content_hash, registry, project, \
     vintage, kind, status, quantity, quantity_text, retracted_at IS NOT NULL, event_day";

fn existing(row: &rusqlite::Row<'_>) -> rusqlite::Result<Existing> {
    let text: Option<String> = row.get(10)?;
    Ok(Existing {
        id: row.get(0)?,
        record_key: row.get(1)?,
        version: row.get(2)?,
        content_hash: row.get(3)?,
        counted: Counted {
            key: TotalKey {
                registry: row.get(4)?,
                project: row.get(5)?,
                vintage: row.get::<_, Option<i64>>(6)?.unwrap_or(0),
                kind: row.get(7)?,
                status: row.get(8)?,
            },
            quantity: row.get(9)?,
            quantity_text: text.and_then(|t| t.parse().ok()),
            event_day: row
                .get::<_, Option<i64>>(12)?
                .and_then(crate::db::from_epoch_days),
        },
        retracted: row.get(11)?,
    })
}

/// The credit statements a load runs for every record, prepared once.
struct CreditStatements<'t> {
    find_key: rusqlite::Statement<'t>,
    find_id: rusqlite::Statement<'t>,
    insert: rusqlite::Statement<'t>,
    update: rusqlite::Statement<'t>,
    supersede: rusqlite::Statement<'t>,
}

impl<'t> CreditStatements<'t> {
    fn new(tx: &'t Transaction<'t>) -> rusqlite::Result<Self> {
        Ok(Self {
            find_key: tx.prepare(&FIND_BY_KEY_SQL)?,
            find_id: tx.prepare(&FIND_BY_ID_SQL)?,
            insert: tx.prepare(&INSERT_CREDIT_SQL)?,
            update: tx.prepare(&UPDATE_CREDIT_SQL)?,
            supersede: tx.prepare(&SUPERSEDE_CREDIT_SQL)?,
        })
    }
}

/// The term columns of a credit row, each remembering the last string it was given: most
/// records of a batch repeat the previous record's registry, kinds and statuses.
const TERM_SLOTS: usize = 10;

struct Load<'t> {
    tx: &'t Transaction<'t>,
    statements: CreditStatements<'t>,
    /// The last string and number of each term column.
    slots: [Option<(String, i64)>; TERM_SLOTS],
    known_terms: &'t HashMap<String, i64>,
    new_terms: HashMap<String, i64>,
    known_origins: &'t HashMap<(String, i64, i64), i64>,
    new_origins: HashMap<(String, i64, i64), i64>,
    /// The origin of the previous record (most records of a load share one).
    last_origin: Option<((String, i64, i64), i64)>,
    totals: Totals,
    /// A bulk load's keys, `(registry, key hash)` to id, while the key index is dropped.
    keys: Option<HashMap<(i64, i64), i64>>,
    now: chrono::DateTime<Utc>,
    counts: WriteCounts,
    registries: HashSet<(i64, &'static str)>,
}

impl Load<'_> {
    /// The term of `text` in column `slot`, from the column's memory when it repeats.
    fn slot_term(&mut self, slot: usize, text: &str) -> StoreResult<i64> {
        if let Some((last, id)) = &self.slots[slot]
            && last == text
        {
            return Ok(*id);
        }
        let id = self.term(text)?;
        self.slots[slot] = Some((text.to_owned(), id));
        Ok(id)
    }

    fn term(&mut self, text: &str) -> StoreResult<i64> {
        if let Some(&id) = self.known_terms.get(text) {
            return Ok(id);
        }
        if let Some(&id) = self.new_terms.get(text) {
            return Ok(id);
        }
        let inserted: Option<i64> = self
            .tx
            .prepare_cached(
                "INSERT INTO terms (text) VALUES (?1) ON CONFLICT (text) DO NOTHING RETURNING id",
            )?
            .query_row([text], |r| r.get(0))
            .optional()?;
        let id = match inserted {
            Some(id) => id,
            None => self
                .tx
                .prepare_cached("SELECT id FROM terms WHERE text = ?1")?
                .query_row([text], |r| r.get(0))?,
        };
        self.new_terms.insert(text.to_owned(), id);
        Ok(id)
    }

    fn opt_term(&mut self, text: Option<&str>) -> StoreResult<Option<i64>> {
        text.map(|t| self.term(t)).transpose()
    }

    fn origin(
        &mut self,
        source: &str,
        provenance: &carbonmesh_model::Provenance,
    ) -> StoreResult<i64> {
        let fetched = epoch_micros(provenance.fetched_at);
        let run = provenance.run_id.unwrap_or(0);
        if let Some(((s, f, r), id)) = &self.last_origin
            && s == source
            && *f == fetched
            && *r == run
        {
            return Ok(*id);
        }
        let key = (source.to_owned(), fetched, run);
        let id = match self
            .known_origins
            .get(&key)
            .or_else(|| self.new_origins.get(&key))
        {
            Some(&id) => id,
            None => {
                let found: Option<i64> = self
                    .tx
                    .prepare_cached(
                        "SELECT id FROM origins WHERE source = ?1 AND fetched_at = ?2 AND run = ?3",
                    )?
                    .query_row(params![source, fetched, run], |r| r.get(0))
                    .optional()?;
                let id = match found {
                    Some(id) => id,
                    None => self
                        .tx
                        .prepare_cached(
                            "INSERT INTO origins (source, fetched_at, run) VALUES (?1, ?2, ?3) \
                             RETURNING id",
                        )?
                        .query_row(params![source, fetched, run], |r| r.get(0))?,
                };
                self.new_origins.insert(key.clone(), id);
                id
            }
        };
        self.last_origin = Some((key, id));
        Ok(id)
    }

    /// Drops the credit indexes and remembers the keys already stored.
    fn start_bulk(&mut self, _expected: u64) -> StoreResult<()> {
        self.tx.pragma_update(None, "cache_size", -BULK_CACHE_KIB)?;
        for (name, _) in CREDIT_INDEXES {
            self.tx
                .execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
        }
        let mut keys = HashMap::new();
        let mut stmt = self
            .tx
            .prepare("SELECT registry, key_hash, id FROM credits")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            keys.insert((row.get(0)?, row.get(1)?), row.get(2)?);
        }
        self.keys = Some(keys);
        Ok(())
    }

    /// Builds a bulk load's key index and looks keys up there from now on.
    fn index_keys(&mut self) -> StoreResult<()> {
        if self.keys.take().is_some() {
            self.tx.execute_batch(CREDIT_INDEXES[0].1)?;
        }
        Ok(())
    }

    /// The credit row at `(registry, key_hash)`, if any.
    fn find(&mut self, registry: i64, hash: i64) -> StoreResult<Option<Existing>> {
        let found = match &self.keys {
            Some(keys) => match keys.get(&(registry, hash)) {
                None => return Ok(None),
                Some(&id) => self
                    .statements
                    .find_id
                    .query_row([id], existing)
                    .optional()?,
            },
            None => self
                .statements
                .find_key
                .query_row([registry, hash], existing)
                .optional()?,
        };
        Ok(found)
    }

    fn credit(&mut self, p: &PreparedCredit) -> StoreResult<()> {
        let r = &p.record;
        let t = credit_terms(r, &p.project);
        let ids = CreditIds {
            registry: self.slot_term(0, t.registry)?,
            project: self.slot_term(1, t.project)?,
            kind: self.slot_term(2, t.kind)?,
            kind_raw: self.slot_term(3, t.kind_raw)?,
            namespace: match t.namespace {
                Some(ns) => Some(self.slot_term(4, ns)?),
                None => None,
            },
            status: self.slot_term(5, t.status)?,
            status_raw: self.slot_term(6, t.status_raw)?,
            account: match t.account {
                Some(a) => Some(self.slot_term(7, a)?),
                None => None,
            },
            beneficiary: match t.beneficiary {
                Some(b) => Some(self.slot_term(8, b)?),
                None => None,
            },
            reason: match t.reason {
                Some(r) => Some(self.slot_term(9, r)?),
                None => None,
            },
        };
        let origin = self.origin(p.source_head(), &p.provenance)?;
        let values = CreditValues::of(r);
        let counted = Counted {
            key: TotalKey {
                registry: ids.registry,
                project: ids.project,
                vintage: values.vintage.unwrap_or(0),
                kind: ids.kind,
                status: ids.status,
            },
            quantity: values.quantity,
            quantity_text: values.quantity_text.as_deref().and_then(|t| t.parse().ok()),
            event_day: values.event_day,
        };
        // Find the key's slot: probe past slots held by other keys (see `key_hash`).
        let mut probe = 0;
        let mut hash = p.key_hash;
        let existing = loop {
            match self.find(ids.registry, hash)? {
                Some(e) if e.record_key != r.record_key => {
                    probe += 1;
                    hash = key_hash(t.registry, &r.record_key, probe);
                }
                found => break found,
            }
        };
        self.registries.insert((ids.registry, "credit"));
        match existing {
            None => {
                let insert = &mut self.statements.insert;
                bind_credit(insert, p, &ids, &values, hash, origin, 1, self.now)?;
                insert.raw_execute()?;
                let id = self.tx.last_insert_rowid();
                if let Some(keys) = &mut self.keys {
                    keys.insert((ids.registry, hash), id);
                    if keys.len() > KEY_MAP_LIMIT {
                        self.index_keys()?;
                    }
                }
                self.totals.count(&counted, 1);
                self.counts.new += 1;
            }
            Some(e) if e.content_hash == p.content_hash && !e.retracted => {
                self.counts.unchanged += 1
            }
            Some(e) => {
                self.statements.supersede.execute([e.id])?;
                let update = &mut self.statements.update;
                bind_credit(
                    update,
                    p,
                    &ids,
                    &values,
                    hash,
                    origin,
                    e.version + 1,
                    self.now,
                )?;
                update.raw_bind_parameter(31, e.id)?;
                update.raw_execute()?;
                if !e.retracted {
                    self.totals.count(&e.counted, -1);
                }
                self.totals.count(&counted, 1);
                self.counts.changed += 1;
            }
        }
        Ok(())
    }

    fn project(&mut self, p: &PreparedProject) -> StoreResult<()> {
        let t = project_terms(&p.record, &p.key);
        let id = self.term(t.key)?;
        let registry = self.term(t.registry)?;
        let status = self.opt_term(t.status)?;
        let status_raw = self.opt_term(t.status_raw)?;
        let origin = self.origin(p.source_head(), &p.provenance)?;
        let current: Option<(i64, Vec<u8>)> = self
            .tx
            .prepare_cached("SELECT version, content_hash FROM projects WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        self.registries.insert((registry, "project"));
        let version = match current {
            Some((_, hash)) if hash == p.content_hash => {
                self.counts.unchanged += 1;
                return Ok(());
            }
            Some((version, _)) => {
                self.tx
                    .prepare_cached(SUPERSEDE_PROJECT_SQL.as_str())?
                    .execute([id])?;
                self.counts.changed += 1;
                version + 1
            }
            None => {
                self.counts.new += 1;
                1
            }
        };
        let mut args: Vec<Arg> = vec![
            id.into(),
            p.key.as_str().into(),
            registry.into(),
            p.record.registry_project_id.as_str().into(),
        ];
        args.extend(project_args(&p.record, status, status_raw, p.extra.clone()));
        args.extend([
            Arg::Bytes(Some(p.content_hash.to_vec())),
            Arg::Bytes(Some(p.raw_hash.clone())),
            origin.into(),
            p.line.into(),
            version.into(),
            Arg::Instant(Some(self.now)),
        ]);
        let sql = if version == 1 {
            INSERT_PROJECT_SQL.as_str()
        } else {
            UPDATE_PROJECT_SQL.as_str()
        };
        let mut stmt = self.tx.prepare_cached(sql)?;
        bind_args(&mut stmt, &args)?;
        stmt.raw_execute()?;
        Ok(())
    }

    fn rejected(&mut self, r: &RejectedRecord) -> StoreResult<()> {
        let mut stmt = self.tx.prepare_cached(crate::runs::INSERT_REJECTED)?;
        bind_args(&mut stmt, &crate::runs::rejected_args(r))?;
        stmt.raw_execute()?;
        self.counts.rejected += 1;
        Ok(())
    }

    /// The totals, the registries' last writes and (in a bulk load) the indexes.
    fn finish(&mut self) -> StoreResult<()> {
        for step in crate::totals::steps(&self.totals)? {
            match step {
                Step::Add(args) => {
                    let mut stmt = self.tx.prepare_cached(crate::totals::ADD)?;
                    bind_args(&mut stmt, &args)?;
                    stmt.raw_execute()?;
                }
                Step::AddText { key, delta } => {
                    let mut stmt = self.tx.prepare_cached(crate::totals::TEXT_OF)?;
                    bind_args(&mut stmt, &key)?;
                    let old: Option<String> = stmt
                        .raw_query()
                        .next()?
                        .map(|r| r.get(0))
                        .transpose()?
                        .flatten();
                    let mut args = vec![crate::totals::text_sum(old, delta)?];
                    args.extend(key);
                    let mut stmt = self.tx.prepare_cached(crate::totals::SET_TEXT)?;
                    bind_args(&mut stmt, &args)?;
                    stmt.raw_execute()?;
                }
                Step::Respan(key) => {
                    let mut stmt = self.tx.prepare_cached(&crate::totals::RESPAN)?;
                    bind_args(&mut stmt, &key)?;
                    stmt.raw_execute()?;
                }
                Step::DropEmpty => {
                    self.tx.execute(crate::totals::DROP_EMPTY, [])?;
                }
            }
        }
        let now = epoch_micros(self.now);
        for (registry, kind) in &self.registries {
            self.tx
                .prepare_cached(crate::records::REGISTRY_WRITTEN)?
                .execute(params![registry, kind, now])?;
        }
        if self.keys.is_some() || self.index_missing()? {
            self.index_keys()?;
            for (_, create) in &CREDIT_INDEXES[1..] {
                self.tx.execute_batch(create)?;
            }
        }
        Ok(())
    }

    /// Whether a bulk load dropped the indexes (its key map may be gone already).
    fn index_missing(&self) -> StoreResult<bool> {
        let n: i64 = self.tx.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
            [CREDIT_INDEXES[1].0],
            |r| r.get(0),
        )?;
        Ok(n == 0)
    }
}

/// The statements of the write path, built once.
static INSERT_CREDIT_SQL: LazyLock<String> = LazyLock::new(insert_credit_sql_text);
static UPDATE_CREDIT_SQL: LazyLock<String> = LazyLock::new(update_credit_sql_text);
static SUPERSEDE_CREDIT_SQL: LazyLock<String> = LazyLock::new(supersede_credit_sql_text);
static INSERT_PROJECT_SQL: LazyLock<String> = LazyLock::new(insert_project_sql_text);
static UPDATE_PROJECT_SQL: LazyLock<String> = LazyLock::new(update_project_sql_text);
static SUPERSEDE_PROJECT_SQL: LazyLock<String> = LazyLock::new(supersede_project_sql_text);
static FIND_BY_KEY_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {EXISTING_COLUMNS} FROM credits WHERE registry = ?1 AND key_hash = ?2")
});
static FIND_BY_ID_SQL: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {EXISTING_COLUMNS} FROM credits WHERE id = ?1"));

/// `INSERT INTO credits …` binding ?1 to ?30 (see [`bind_credit`]).
fn insert_credit_sql_text() -> String {
    format!(
        "INSERT INTO credits (registry, key_hash, record_key, serial_bucket, {}, content_hash, \
         raw_hash, origin, line, version, written_at) VALUES ({})",
        list("", &CREDIT_CONTENT),
        (1..=30)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// `UPDATE credits …` binding ?4 to ?30 as [`bind_credit`], and the id as ?31.
fn update_credit_sql_text() -> String {
    let content: Vec<String> = CREDIT_CONTENT
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 5))
        .collect();
    format!(
        "UPDATE credits SET serial_bucket = ?4, {}, content_hash = ?25, raw_hash = ?26, \
         origin = ?27, line = ?28, version = ?29, written_at = ?30, retracted_at = NULL \
         WHERE id = ?31",
        content.join(", ")
    )
}

fn supersede_credit_sql_text() -> String {
    let content = list("", &CREDIT_CONTENT);
    format!(
        "INSERT INTO credit_versions (credit, version, {content}, content_hash, raw_hash, \
         origin, line, written_at, retracted_at) SELECT id, version, {content}, content_hash, \
         raw_hash, origin, line, written_at, retracted_at FROM credits WHERE id = ?1"
    )
}

fn insert_project_sql_text() -> String {
    format!(
        "INSERT INTO projects (id, key, registry, registry_project_id, {}, content_hash, \
         raw_hash, origin, line, version, written_at) VALUES ({})",
        list("", &PROJECT_CONTENT),
        (1..=23)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn update_project_sql_text() -> String {
    let content: Vec<String> = PROJECT_CONTENT
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 5))
        .collect();
    format!(
        "UPDATE projects SET registry_project_id = ?4, {}, content_hash = ?18, raw_hash = ?19, \
         origin = ?20, line = ?21, version = ?22, written_at = ?23 WHERE id = ?1 AND key = ?2 \
         AND registry = ?3",
        content.join(", ")
    )
}

fn supersede_project_sql_text() -> String {
    let content = list("", &PROJECT_CONTENT);
    format!(
        "INSERT INTO project_versions (project, version, {content}, content_hash, raw_hash, \
         origin, line, written_at) SELECT id, version, {content}, content_hash, raw_hash, \
         origin, line, written_at FROM projects WHERE id = ?1"
    )
}

/// Binds ?1 to ?30 of [`insert_credit_sql`] (the update uses ?4 to ?30).
#[allow(clippy::too_many_arguments)]
fn bind_credit(
    stmt: &mut rusqlite::Statement<'_>,
    p: &PreparedCredit,
    ids: &CreditIds,
    v: &CreditValues<'_>,
    hash: i64,
    origin: i64,
    version: i64,
    now: chrono::DateTime<Utc>,
) -> rusqlite::Result<()> {
    let r = &p.record;
    stmt.raw_bind_parameter(1, ids.registry)?;
    stmt.raw_bind_parameter(2, hash)?;
    stmt.raw_bind_parameter(3, r.record_key.as_str())?;
    stmt.raw_bind_parameter(4, v.serial_bucket)?;
    stmt.raw_bind_parameter(5, ids.project)?;
    stmt.raw_bind_parameter(6, ids.kind)?;
    stmt.raw_bind_parameter(7, ids.kind_raw)?;
    stmt.raw_bind_parameter(8, v.quantity)?;
    stmt.raw_bind_parameter(9, v.quantity_text.as_deref())?;
    stmt.raw_bind_parameter(10, v.serial)?;
    stmt.raw_bind_parameter(11, ids.namespace)?;
    stmt.raw_bind_parameter(12, v.serial_start)?;
    stmt.raw_bind_parameter(13, v.serial_end)?;
    stmt.raw_bind_parameter(14, v.vintage)?;
    stmt.raw_bind_parameter(15, v.period_start.map(epoch_days))?;
    stmt.raw_bind_parameter(16, v.period_end.map(epoch_days))?;
    stmt.raw_bind_parameter(17, v.event_day.map(epoch_days))?;
    stmt.raw_bind_parameter(18, ids.status)?;
    stmt.raw_bind_parameter(19, ids.status_raw)?;
    stmt.raw_bind_parameter(20, ids.account)?;
    stmt.raw_bind_parameter(21, ids.beneficiary)?;
    stmt.raw_bind_parameter(22, ids.reason)?;
    stmt.raw_bind_parameter(23, v.note)?;
    stmt.raw_bind_parameter(24, v.flags)?;
    stmt.raw_bind_parameter(25, &p.content_hash[..])?;
    stmt.raw_bind_parameter(26, p.raw_hash.as_slice())?;
    stmt.raw_bind_parameter(27, origin)?;
    stmt.raw_bind_parameter(28, p.line)?;
    stmt.raw_bind_parameter(29, version)?;
    stmt.raw_bind_parameter(30, epoch_micros(now))?;
    Ok(())
}
