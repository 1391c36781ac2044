//! Projects and credit records: the compact layout, its write paths and reads.
//!
//! - `encode`: how values become columns (pure);
//! - `columns`, `read`: the column lists, and decoding rows into records;
//! - `prepare`: validation and hashing, done before a writer sees a record;
//! - `sqlite`, `postgres`: each backend's write path, incremental and bulk;
//! - `legacy`: carrying records of the previous layout over.

pub(crate) mod columns;
pub(crate) mod encode;
pub(crate) mod legacy;
mod matching;
mod postgres;
mod prepare;
pub(crate) mod read;
mod retract;
mod sqlite;

use async_trait::async_trait;
use carbonmesh_model::{
    CreditRecord, Project, RecordKind, RecordVersion, RegistryId, RejectedRecord, RunCounts,
};

pub use encode::key_hash;
pub(crate) use postgres::PgWriter;
pub(crate) use sqlite::SqliteWriter;

use crate::db::{Arg, Row};
use crate::store::SqlStore;
use crate::{CreditPosition, MatchKey, RecordCounts, RecordStore, Stamped, StoreResult};

/// Records written to a [`BulkLoad`] at once (one page of a file or a feed).
#[derive(Debug, Default)]
pub struct Batch {
    /// Projects.
    pub projects: Vec<Stamped<Project>>,
    /// Credit records.
    pub credits: Vec<Stamped<CreditRecord>>,
    /// Records that could not be read or normalized, kept with their reasons.
    pub rejected: Vec<RejectedRecord>,
}

/// A load of records in one transaction: nothing of it is visible, or kept after a crash,
/// until [`BulkLoad::finish`] commits; dropped unfinished, it rolls back.
///
/// A load of many records into a table small beside them takes the bulk path: it builds the
/// credit indexes once at the end instead of updating them record by record (SQLite), or
/// copies the records into a staging table with `COPY` and merges them in one statement per
/// step (PostgreSQL). Smaller loads write through the live indexes.
#[async_trait]
pub trait BulkLoad: Send {
    /// Validates, hashes and writes a batch (invalid records are kept as rejected records).
    /// Returns once the batch is handed to the writer, which works while the caller reads
    /// the next one.
    async fn write(&mut self, batch: Batch) -> StoreResult<()>;

    /// Writes what is left and commits. The counts cover every batch: `seen` the records
    /// written, `rejected` the records kept as rejected (invalid ones and those passed in).
    async fn finish(self: Box<Self>) -> StoreResult<RunCounts>;
}

/// How a load writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadMode {
    /// Through the live indexes.
    Incremental,
    /// Indexes built after the load.
    Bulk { expected: u64 },
}

/// A load takes the bulk path when it expects at least this many records and at least twice as
/// many as the table holds: below that, updating the indexes as it goes costs less than
/// rebuilding them (and a load that repeats records already stored rewrites nothing).
pub(crate) const BULK_MIN_RECORDS: u64 = 50_000;

/// What a writer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WriteCounts {
    pub new: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

impl WriteCounts {
    pub(crate) fn run_counts(self, seen: u64) -> RunCounts {
        RunCounts {
            seen,
            new: self.new,
            changed: self.changed,
            unchanged: self.unchanged,
            rejected: self.rejected,
        }
    }
}

/// The indexes of `credits`, as the 0009 migrations create them, the key index first. A bulk
/// load drops and rebuilds them.
pub(crate) const CREDIT_INDEXES: [(&str, &str); 5] = [
    (
        "credits_key",
        "CREATE UNIQUE INDEX credits_key ON credits (registry, key_hash)",
    ),
    (
        "credits_project",
        "CREATE INDEX credits_project ON credits (project, event_day)",
    ),
    (
        "credits_serial",
        "CREATE INDEX credits_serial ON credits (namespace, serial_bucket, serial_start) \
         WHERE namespace IS NOT NULL",
    ),
    (
        "credits_event",
        "CREATE INDEX credits_event ON credits (event_day DESC)",
    ),
    (
        "credits_written",
        "CREATE INDEX credits_written ON credits (written_at)",
    ),
];

/// The PostgreSQL forms of [`CREDIT_INDEXES`] where they differ (ties of the listings are
/// broken by id there; SQLite's rowid follows every index entry by itself).
pub(crate) const PG_CREDIT_INDEXES: [(&str, &str); 5] = [
    CREDIT_INDEXES[0],
    CREDIT_INDEXES[1],
    CREDIT_INDEXES[2],
    (
        "credits_event",
        "CREATE INDEX credits_event ON credits (event_day DESC NULLS LAST, id)",
    ),
    (
        "credits_written",
        "CREATE INDEX credits_written ON credits (written_at, id)",
    ),
];

/// Records when a registry's records (`kind`: project or credit) were last written.
pub(crate) const REGISTRY_WRITTEN: &str = "INSERT INTO registry_writes (registry, kind, \
     written_at) VALUES ($1, $2, $3) ON CONFLICT (registry, kind) DO UPDATE SET \
     written_at = excluded.written_at";

/// The backend's write path.
pub(crate) enum Writer {
    Sqlite(SqliteWriter),
    Postgres(PgWriter),
}

impl Writer {
    pub(crate) async fn load(&self, mode: LoadMode) -> StoreResult<Box<dyn BulkLoad>> {
        match self {
            Writer::Sqlite(w) => w.load(mode).await,
            Writer::Postgres(w) => w.load(mode).await,
        }
    }

    pub(crate) async fn writable(&self) -> StoreResult<bool> {
        match self {
            Writer::Sqlite(w) => w.writable().await,
            Writer::Postgres(w) => w.writable().await,
        }
    }
}

impl SqlStore {
    /// Credit rows of `sql` (selecting [`read::credit_select`]), decoded.
    pub(crate) async fn credit_rows(
        &self,
        sql: &str,
        args: Vec<Arg>,
    ) -> StoreResult<(Vec<Row>, Vec<CreditRecord>)> {
        let mut rows = self.db.fetch(sql, args).await?;
        let records = read::credits(self.db.as_ref(), &self.terms, &mut rows).await?;
        Ok((rows, records))
    }

    /// Project rows of `sql` (selecting [`read::project_select`]), decoded.
    pub(crate) async fn project_rows(
        &self,
        sql: &str,
        args: Vec<Arg>,
    ) -> StoreResult<(Vec<Row>, Vec<Project>)> {
        let mut rows = self.db.fetch(sql, args).await?;
        let records = read::projects(self.db.as_ref(), &self.terms, &mut rows).await?;
        Ok((rows, records))
    }

    /// The id of the credit record `registry`/`record_key`: the first probe of its key hash
    /// that holds it (see [`key_hash`]).
    pub(crate) async fn credit_id(
        &self,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Option<i64>> {
        let Some(reg) = self
            .terms
            .lookup_one(self.db.as_ref(), registry.as_str())
            .await?
        else {
            return Ok(None);
        };
        for probe in 0.. {
            let hash = key_hash(registry.as_str(), record_key, probe);
            let row = self
                .db
                .fetch_optional(
                    "SELECT id, record_key FROM credits WHERE registry = $1 AND key_hash = $2",
                    vec![reg.into(), hash.into()],
                )
                .await?;
            match row {
                None => return Ok(None),
                Some(row) if row.text(1)? == record_key => return Ok(Some(row.int(0)?)),
                Some(_) => continue,
            }
        }
        Ok(None)
    }

    async fn credit_versions(&self, id: i64) -> StoreResult<Vec<RecordVersion>> {
        let sql = format!(
            "SELECT {} FROM credit_versions v JOIN credits c ON c.id = v.credit \
             JOIN origins o ON o.id = v.origin WHERE v.credit = $1 \
             UNION ALL SELECT {} FROM credits c JOIN origins o ON o.id = c.origin \
             WHERE c.id = $1 ORDER BY {}",
            read::credit_select("v", true),
            read::credit_select("c", true),
            read::CREDIT_VERSION + 1
        );
        let (rows, records) = self.credit_rows(&sql, vec![id.into()]).await?;
        rows.iter()
            .zip(records)
            .map(|(row, record)| {
                version_of(
                    RecordKind::Credit,
                    row,
                    read::CREDIT_VERSION,
                    &record,
                    |r| (r.registry, r.record_key.clone()),
                )
            })
            .collect()
    }

    async fn project_versions(&self, id: i64) -> StoreResult<Vec<RecordVersion>> {
        let sql = format!(
            "SELECT {} FROM project_versions v JOIN projects p ON p.id = v.project \
             JOIN origins o ON o.id = v.origin WHERE v.project = $1 \
             UNION ALL SELECT {} FROM projects p JOIN origins o ON o.id = p.origin \
             WHERE p.id = $1 ORDER BY {}",
            read::project_select("v", true),
            read::project_select("p", true),
            read::PROJECT_VERSION + 1
        );
        let (rows, records) = self.project_rows(&sql, vec![id.into()]).await?;
        rows.iter()
            .zip(records)
            .map(|(row, record)| {
                version_of(
                    RecordKind::Project,
                    row,
                    read::PROJECT_VERSION,
                    &record,
                    |p| (p.registry, p.registry_project_id.clone()),
                )
            })
            .collect()
    }
}

/// A [`RecordVersion`] from a decoded row with provenance.
pub(crate) fn version_of<T: serde::Serialize>(
    kind: RecordKind,
    row: &Row,
    version_at: usize,
    record: &T,
    identity: impl Fn(&T) -> (RegistryId, String),
) -> StoreResult<RecordVersion> {
    let (content_hash, provenance, recorded_at) = read::provenance(row, version_at)?;
    let (registry, record_key) = identity(record);
    Ok(RecordVersion {
        kind,
        registry,
        record_key,
        version: row.int(version_at)?,
        content_hash,
        payload: serde_json::to_value(record)?,
        provenance,
        recorded_at,
    })
}

#[async_trait]
impl RecordStore for SqlStore {
    async fn upsert_projects(&self, batch: &[Stamped<Project>]) -> StoreResult<RunCounts> {
        let mut load = self.writer.load(LoadMode::Incremental).await?;
        load.write(Batch {
            projects: batch.to_vec(),
            ..Batch::default()
        })
        .await?;
        load.finish().await
    }

    async fn upsert_credits(&self, batch: &[Stamped<CreditRecord>]) -> StoreResult<RunCounts> {
        let mut load = self.writer.load(LoadMode::Incremental).await?;
        load.write(Batch {
            credits: batch.to_vec(),
            ..Batch::default()
        })
        .await?;
        load.finish().await
    }

    async fn bulk_load(&self, expected_records: u64) -> StoreResult<Box<dyn BulkLoad>> {
        let stored = self.credit_count().await?;
        let mode = if expected_records >= BULK_MIN_RECORDS && expected_records >= 2 * stored {
            LoadMode::Bulk {
                expected: expected_records,
            }
        } else {
            LoadMode::Incremental
        };
        self.writer.load(mode).await
    }

    async fn project(&self, id: &str) -> StoreResult<Option<Project>> {
        let sql = format!(
            "SELECT {} FROM projects p WHERE p.key = $1",
            read::project_select("p", false)
        );
        let (_, mut found) = self.project_rows(&sql, vec![id.into()]).await?;
        Ok(found.pop())
    }

    async fn credit(
        &self,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Option<CreditRecord>> {
        let Some(id) = self.credit_id(registry, record_key).await? else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {} FROM credits c WHERE c.id = $1",
            read::credit_select("c", false)
        );
        let (_, mut found) = self.credit_rows(&sql, vec![id.into()]).await?;
        Ok(found.pop())
    }

    async fn credit_version(
        &self,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Option<i64>> {
        let Some(id) = self.credit_id(registry, record_key).await? else {
            return Ok(None);
        };
        let row = self
            .db
            .fetch_optional("SELECT version FROM credits WHERE id = $1", vec![id.into()])
            .await?;
        row.map(|r| r.int(0)).transpose()
    }

    async fn versions(
        &self,
        kind: RecordKind,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Vec<RecordVersion>> {
        match kind {
            RecordKind::Credit => match self.credit_id(registry, record_key).await? {
                Some(id) => self.credit_versions(id).await,
                None => Ok(Vec::new()),
            },
            RecordKind::Project => {
                let key = carbonmesh_model::project_id(registry, record_key);
                match self.terms.lookup_one(self.db.as_ref(), &key).await? {
                    Some(id) => self.project_versions(id).await,
                    None => Ok(Vec::new()),
                }
            }
        }
    }

    async fn counts(&self) -> StoreResult<RecordCounts> {
        let row = self
            .db
            .fetch_one(
                "SELECT (SELECT COUNT(*) FROM projects), \
                 (SELECT COALESCE(SUM(records), 0) FROM credit_totals), \
                 (SELECT COUNT(*) FROM project_versions) + (SELECT COUNT(*) FROM credit_versions), \
                 (SELECT COUNT(*) FROM rejected_records)",
                Vec::new(),
            )
            .await?;
        let n = |i: usize| -> StoreResult<u64> { Ok(row.decimal(i)?.try_into().unwrap_or(0)) };
        let (projects, credits) = (n(0)?, n(1)?);
        Ok(RecordCounts {
            projects,
            credits,
            versions: n(2)? + projects + credits,
            rejected: n(3)?,
        })
    }

    async fn projects_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, Project)>> {
        let sql = format!(
            "SELECT {} FROM projects p WHERE p.key > $1 ORDER BY p.key LIMIT $2",
            read::project_select("p", false)
        );
        let (rows, found) = self
            .project_rows(
                &sql,
                vec![after.unwrap_or("").into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter()
            .zip(found)
            .map(|(row, p)| Ok((row.int(read::PROJECT_VERSION)?, p)))
            .collect()
    }

    async fn raw_hashes_of_this_version(&self, registry: RegistryId) -> StoreResult<Vec<[u8; 32]>> {
        self.raw_hashes_written_by(registry, crate::CARBONMESH_VERSION)
            .await
    }

    async fn retract_unseen(
        &self,
        registry: RegistryId,
        seen: &std::collections::HashSet<i64>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<crate::Retraction> {
        retract::retract_unseen(self, registry, seen, at).await
    }

    async fn match_keys(
        &self,
        after: Option<i64>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MatchKey>> {
        self.match_keys_between(after, before, limit).await
    }

    async fn credits_at(&self, positions: &[i64]) -> StoreResult<Vec<CreditPosition>> {
        self.credits_at_positions(positions).await
    }

    async fn projects_written_by(&self, run: i64) -> StoreResult<Vec<String>> {
        self.projects_of_run(run).await
    }

    async fn credits_page(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<CreditPosition>> {
        // Retracted rows are skipped here, not in SQL: a filter on `retracted_at` could turn
        // PostgreSQL, before it has statistics of the column, from walking the key in order
        // to sorting the table for every page. They are rare, so one statement mostly fills
        // the page; a page is short only at the end of the table.
        let sql = format!(
            "SELECT {}, c.retracted_at IS NULL FROM credits c WHERE c.id > $1 \
             ORDER BY c.id LIMIT $2",
            read::credit_select("c", false)
        );
        let current = read::CREDIT_VERSION + 1;
        // A caller may ask for everything (`u32::MAX`): grow as rows come.
        let mut out = Vec::with_capacity((limit as usize).min(10_000));
        let mut after = after.unwrap_or(0);
        loop {
            let want = limit as usize - out.len();
            let (rows, found) = self
                .credit_rows(&sql, vec![after.into(), (want as i64).into()])
                .await?;
            let read = rows.len();
            for (row, record) in rows.iter().zip(found) {
                after = row.int(0)?;
                if row.int(current)? != 0 {
                    out.push(CreditPosition {
                        position: after,
                        version: row.int(read::CREDIT_VERSION)?,
                        record,
                    });
                }
            }
            if read < want || out.len() == limit as usize {
                return Ok(out);
            }
        }
    }
}

impl SqlStore {
    pub(crate) async fn raw_hashes_written_by(
        &self,
        registry: RegistryId,
        version: &str,
    ) -> StoreResult<Vec<[u8; 32]>> {
        let Some(registry) = self
            .terms
            .lookup_one(self.db.as_ref(), registry.as_str())
            .await?
        else {
            return Ok(Vec::new());
        };
        // Few origins (one per file or page a run read): filtered here, not joined per record.
        let trusted: std::collections::HashSet<i64> = self
            .db
            .fetch(
                "SELECT o.id FROM origins o JOIN connector_runs r ON r.id = o.run \
                 WHERE r.carbonmesh_version = $1",
                vec![version.into()],
            )
            .await?
            .iter()
            .map(|row| row.int(0))
            .collect::<StoreResult<_>>()?;
        let mut hashes = Vec::new();
        if trusted.is_empty() {
            return Ok(hashes);
        }
        // A retracted row's origin has no run (see `retract`): it is never trusted, so a row
        // read again after a retraction is written again and comes back.
        self.each_row_of(registry, "origin, raw_hash", |row| {
            if trusted.contains(&row.int(2)?)
                && let Ok(hash) = <[u8; 32]>::try_from(row.bytes(3)?)
            {
                hashes.push(hash);
            }
            Ok(())
        })
        .await?;
        Ok(hashes)
    }

    /// Calls `f` with every credit row of `registry` (a term), in id order: `id, registry`,
    /// then `columns`. Reads all rows in chunks and compares the registry here: filtered in
    /// SQL, SQLite would walk the registry's index and sort every chunk instead of reading
    /// rows in id order.
    pub(crate) async fn each_row_of(
        &self,
        registry: i64,
        columns: &str,
        mut f: impl FnMut(&Row) -> StoreResult<()>,
    ) -> StoreResult<()> {
        /// Rows read at a time, to keep the rows of one statement small beside the answer.
        const CHUNK: i64 = 100_000;
        let sql = format!(
            "SELECT id, registry, {columns} FROM credits WHERE id > $1 ORDER BY id LIMIT $2"
        );
        let mut after = 0i64;
        loop {
            let rows = self
                .db
                .fetch(&sql, vec![after.into(), CHUNK.into()])
                .await?;
            for row in &rows {
                after = row.int(0)?;
                if row.int(1)? == registry {
                    f(row)?;
                }
            }
            if (rows.len() as i64) < CHUNK {
                return Ok(());
            }
        }
    }

    /// Current credit records, from the totals.
    pub(crate) async fn credit_count(&self) -> StoreResult<u64> {
        let row = self
            .db
            .fetch_one(
                "SELECT COALESCE(SUM(records), 0) FROM credit_totals",
                Vec::new(),
            )
            .await?;
        Ok(row.decimal(0)?.try_into().unwrap_or(0))
    }
}
