//! Record writes on PostgreSQL: each batch is copied (`COPY … FROM STDIN`, CSV) into a
//! staging table and merged into `credits` with a handful of set-based statements: classify
//! the keys (locking the rows that exist), copy the changed rows to `credit_versions`, update
//! them, insert the new ones. A task owns the load's transaction and merges one batch while
//! the caller prepares the next.
//!
//! Terms and origins are added on their own connection, each in its own short transaction, so
//! no load holds locks on them (an unused term left by a rolled-back load is harmless). A bulk
//! load drops the secondary credit indexes inside its transaction and builds them again
//! before it commits (PostgreSQL builds them with parallel workers); readers of `credits`
//! wait for it meanwhile.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use carbonmesh_model::{RejectedRecord, RunCounts};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};
use tokio::sync::mpsc;

use crate::db::Arg;
use crate::records::columns::{
    CREDIT_CONTENT, CreditIds, CreditValues, PROJECT_CONTENT, credit_terms, list, project_args,
    project_terms,
};
use crate::records::encode::key_hash;
use crate::records::prepare::{PreparedCredit, PreparedProject};
use crate::records::{Batch, LoadMode, PG_CREDIT_INDEXES, REGISTRY_WRITTEN, WriteCounts};
use crate::terms::Terms;
use crate::totals::{Counted, TotalKey, Totals};
use crate::{BulkLoad, StoreError, StoreResult};

/// Origins already stored: (source, fetched at, run) to id.
type Origins = HashMap<(String, DateTime<Utc>, i64), i64>;

/// An existing credit row met by a load: its registry and key hash, id, key, version,
/// content hash, the project, vintage, kind, status and quantities it is counted by, whether
/// it is retracted, and its event day.
type Found = (
    i32,
    i64,
    i64,
    String,
    i32,
    Vec<u8>,
    i32,
    Option<i32>,
    i32,
    i32,
    Option<i64>,
    Option<String>,
    bool,
    Option<chrono::NaiveDate>,
);

/// The record writer of a PostgreSQL database.
pub(crate) struct PgWriter {
    pool: PgPool,
    terms: Arc<Terms>,
    origins: Arc<std::sync::Mutex<Origins>>,
}

impl PgWriter {
    /// Whether the server takes writes: not a standby, and transactions not read-only.
    pub(crate) async fn writable(&self) -> StoreResult<bool> {
        let read_only: bool = sqlx::query_scalar(
            "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(!read_only)
    }

    pub(crate) fn new(pool: PgPool, terms: Arc<Terms>) -> Self {
        Self {
            pool,
            terms,
            origins: Arc::default(),
        }
    }

    pub(crate) async fn load(&self, mode: LoadMode) -> StoreResult<Box<dyn BulkLoad>> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(STAGING).execute(&mut *tx).await?;
        // The staging table has no statistics, and a bulk load outgrows those of `credits`
        // within its transaction: the keys of a batch are looked up by index, never by
        // hashing the whole table.
        for setting in ["enable_hashjoin", "enable_mergejoin"] {
            sqlx::query(&format!("SET LOCAL {setting} = off"))
                .execute(&mut *tx)
                .await?;
        }
        if let LoadMode::Bulk { .. } = mode {
            for (name, _) in &PG_CREDIT_INDEXES[1..] {
                sqlx::query(&format!("DROP INDEX IF EXISTS {name}"))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let (sender, receiver) = mpsc::channel(2);
        let ids = Interner {
            pool: self.pool.clone(),
            terms: Arc::clone(&self.terms),
            origins: Arc::clone(&self.origins),
        };
        let done = tokio::spawn(run_load(tx, ids, mode, receiver));
        Ok(Box::new(PgLoad {
            sender: Some(sender),
            done: Some(done),
            seen: 0,
        }))
    }
}

/// Staging table of a load's credit records, one batch at a time.
const STAGING: &str = "CREATE TEMP TABLE load_credits (
    ord BIGINT PRIMARY KEY, registry INTEGER NOT NULL,
    key_hash BIGINT NOT NULL, record_key TEXT NOT NULL, serial_bucket SMALLINT,
    project INTEGER NOT NULL, kind INTEGER NOT NULL, kind_raw INTEGER NOT NULL,
    quantity BIGINT, quantity_text TEXT, serial TEXT, namespace INTEGER,
    serial_start BIGINT, serial_end BIGINT, vintage INTEGER, period_start DATE,
    period_end DATE, event_day DATE, status INTEGER NOT NULL, status_raw INTEGER NOT NULL,
    account INTEGER, beneficiary INTEGER, reason INTEGER, note TEXT, flags SMALLINT NOT NULL,
    content_hash BYTEA NOT NULL, raw_hash BYTEA NOT NULL, origin BIGINT NOT NULL, line BIGINT,
    target BIGINT NOT NULL
) ON COMMIT DROP";

/// The columns [`binary_row`] writes, shared by both copies.
fn copied_columns() -> String {
    format!(
        "registry, key_hash, record_key, serial_bucket, {}, content_hash, raw_hash, origin, line",
        list("", &CREDIT_CONTENT)
    )
}

/// Copies changed records into the staging table.
fn staging_copy_sql() -> String {
    format!(
        "COPY load_credits ({}, ord, target) FROM STDIN WITH (FORMAT binary)",
        copied_columns()
    )
}

/// Copies new records into `credits`.
fn credits_copy_sql() -> String {
    format!(
        "COPY credits ({}, version, written_at) FROM STDIN WITH (FORMAT binary)",
        copied_columns()
    )
}

/// Sends rows in `COPY`'s binary format through `COPY`, a megabyte at a time.
async fn copy(conn: &mut sqlx::PgConnection, sql: &str, rows: CopyRows) -> StoreResult<()> {
    let rows = rows.finish()?;
    let mut copy = conn.copy_in_raw(sql).await?;
    for chunk in rows.chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// Keys a bulk load remembers (about 20 bytes each) to know new records without asking;
/// past this, it looks every key up, as an incremental load does.
const KEY_SET_LIMIT: usize = 4_000_000;

/// Adds terms and origins, each committed on its own, and remembers their numbers.
struct Interner {
    pool: PgPool,
    terms: Arc<Terms>,
    origins: Arc<std::sync::Mutex<Origins>>,
}

impl Interner {
    /// Makes sure every string is a term (sorted, so concurrent writers lock alike).
    async fn terms(&self, texts: BTreeSet<&str>) -> StoreResult<()> {
        let missing: Vec<String> = texts
            .into_iter()
            .filter(|t| self.terms.id(t).is_none())
            .map(str::to_owned)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO terms (text) SELECT unnest($1::text[]) ON CONFLICT (text) DO NOTHING",
        )
        .bind(&missing)
        .execute(&self.pool)
        .await?;
        let rows: Vec<(i32, String)> =
            sqlx::query_as("SELECT id, text FROM terms WHERE text = ANY($1)")
                .bind(&missing)
                .fetch_all(&self.pool)
                .await?;
        self.terms
            .learn(rows.into_iter().map(|(id, t)| (i64::from(id), t.into())));
        Ok(())
    }

    fn term(&self, text: &str) -> StoreResult<i64> {
        self.terms.id(text).ok_or_else(|| StoreError::Corrupt {
            column: "terms",
            value: format!("`{text}` was not added"),
        })
    }

    async fn origin(
        &self,
        source: &str,
        provenance: &carbonmesh_model::Provenance,
    ) -> StoreResult<i64> {
        let key = (
            source.to_owned(),
            provenance.fetched_at,
            provenance.run_id.unwrap_or(0),
        );
        if let Some(&id) = self.origins.lock().ok().as_ref().and_then(|o| o.get(&key)) {
            return Ok(id);
        }
        sqlx::query(
            "INSERT INTO origins (source, fetched_at, run) VALUES ($1, $2, $3) \
             ON CONFLICT (source, fetched_at, run) DO NOTHING",
        )
        .bind(&key.0)
        .bind(key.1)
        .bind(key.2)
        .execute(&self.pool)
        .await?;
        let (id,): (i64,) = sqlx::query_as(
            "SELECT id FROM origins WHERE source = $1 AND fetched_at = $2 AND run = $3",
        )
        .bind(&key.0)
        .bind(key.1)
        .bind(key.2)
        .fetch_one(&self.pool)
        .await?;
        if let Ok(mut origins) = self.origins.lock() {
            origins.insert(key, id);
        }
        Ok(id)
    }
}

enum Msg {
    Batch(
        Vec<PreparedProject>,
        Vec<PreparedCredit>,
        Vec<RejectedRecord>,
    ),
    Finish,
}

struct PgLoad {
    sender: Option<mpsc::Sender<Msg>>,
    done: Option<tokio::task::JoinHandle<StoreResult<WriteCounts>>>,
    seen: u64,
}

impl PgLoad {
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
impl BulkLoad for PgLoad {
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
        let _ = sender.send(Msg::Finish).await;
        drop(sender);
        let done = self.done.take().ok_or(StoreError::WriterStopped)?;
        let counts = done.await.map_err(|_| StoreError::WriterStopped)??;
        Ok(counts.run_counts(self.seen))
    }
}

struct Load {
    tx: Transaction<'static, Postgres>,
    ids: Interner,
    /// A bulk load's keys, `(registry, key hash)`: a record whose key is not among them is new.
    keys: Option<std::collections::HashSet<(i64, i64)>>,
    totals: Totals,
    counts: WriteCounts,
    now: DateTime<Utc>,
    registries: BTreeSet<(i64, &'static str)>,
}

async fn run_load(
    tx: Transaction<'static, Postgres>,
    ids: Interner,
    mode: LoadMode,
    mut receiver: mpsc::Receiver<Msg>,
) -> StoreResult<WriteCounts> {
    let started = std::time::Instant::now();
    let mut waited = std::time::Duration::ZERO;
    let mut tx = tx;
    let keys = match mode {
        LoadMode::Bulk { .. } => {
            let stored: Vec<(i32, i64)> = sqlx::query_as("SELECT registry, key_hash FROM credits")
                .fetch_all(&mut *tx)
                .await?;
            Some(stored.into_iter().map(|(r, h)| (i64::from(r), h)).collect())
        }
        LoadMode::Incremental => None,
    };
    let mut load = Load {
        tx,
        ids,
        keys,
        totals: Totals::default(),
        counts: WriteCounts::default(),
        now: Utc::now(),
        registries: BTreeSet::new(),
    };
    loop {
        let waiting = std::time::Instant::now();
        let message = receiver.recv().await;
        waited += waiting.elapsed();
        match message {
            Some(Msg::Batch(projects, credits, rejected)) => {
                load.projects(&projects).await?;
                load.credits(&credits).await?;
                load.rejected(&rejected).await?;
            }
            Some(Msg::Finish) => break,
            None => return Err(StoreError::WriterStopped),
        }
    }
    let Load {
        tx,
        totals,
        counts,
        now,
        registries,
        ..
    } = load;
    let written = started.elapsed();
    let mut tx = tx;
    apply_totals(&mut tx, &totals).await?;
    let mut tx = crate::postgres::PgTx::from(tx);
    for (registry, kind) in registries {
        crate::db::Tx::execute(
            &mut tx,
            REGISTRY_WRITTEN,
            vec![registry.into(), kind.into(), Arg::Instant(Some(now))],
        )
        .await?;
    }
    let totalled = started.elapsed();
    if let LoadMode::Bulk { .. } = mode {
        for (_, create) in &PG_CREDIT_INDEXES[1..] {
            crate::db::Tx::execute(&mut tx, create, Vec::new()).await?;
        }
        // The planner's statistics of a table that grew this much are stale or missing:
        // without them it takes rare conditions (`retracted_at IS NULL`) for selective ones
        // and plans ordered pages as sorts. ANALYZE samples the table (a fraction of a second).
        crate::db::Tx::execute(&mut tx, "ANALYZE credits", Vec::new()).await?;
    }
    let indexed = started.elapsed();
    crate::db::Tx::commit(Box::new(tx)).await?;
    // Where the load's time goes, for `RUST_LOG=carbonmesh_store=debug`.
    tracing::debug!(
        bulk = matches!(mode, LoadMode::Bulk { .. }),
        waiting_s = waited.as_secs_f64(),
        writing_s = (written - waited).as_secs_f64(),
        totals_s = (totalled - written).as_secs_f64(),
        indexes_s = (indexed - totalled).as_secs_f64(),
        commit_s = (started.elapsed() - indexed).as_secs_f64(),
        "postgres load"
    );
    Ok(counts)
}

/// Reads the spans of `respans` again (see [`crate::totals::RESPAN`]) in one statement: a
/// batch of changed records can touch thousands of totals.
async fn respan(
    tx: &mut Transaction<'static, Postgres>,
    respans: &[(
        crate::totals::TotalKey,
        (chrono::NaiveDate, chrono::NaiveDate),
    )],
) -> StoreResult<()> {
    if respans.is_empty() {
        return Ok(());
    }
    let mut columns: [Vec<i64>; 5] = Default::default();
    let (mut firsts, mut lasts) = (Vec::new(), Vec::new());
    for (key, (first, last)) in respans {
        for (column, value) in columns.iter_mut().zip(key.columns()) {
            column.push(value);
        }
        firsts.push(*first);
        lasts.push(*last);
    }
    let [registry, project, vintage, kind, status] = columns;
    sqlx::query(&crate::totals::RESPAN_MANY)
        .bind(&registry)
        .bind(&project)
        .bind(&vintage)
        .bind(&kind)
        .bind(&status)
        .bind(&firsts)
        .bind(&lasts)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Applies the totals' changes in one statement (and the rare text sums one by one).
async fn apply_totals(tx: &mut Transaction<'static, Postgres>, totals: &Totals) -> StoreResult<()> {
    let mut columns: [Vec<i64>; 7] = Default::default();
    let (mut first_days, mut last_days) = (Vec::new(), Vec::new());
    let mut texts = Vec::new();
    let mut respans = Vec::new();
    let mut emptied = false;
    let mut keys: Vec<_> = totals.deltas.iter().collect();
    keys.sort_unstable_by_key(|(k, _)| **k);
    for (key, d) in keys {
        if *d == crate::totals::Delta::default() {
            continue;
        }
        let quantity = i64::try_from(d.quantity).map_err(|_| StoreError::Corrupt {
            column: "credit_totals.quantity",
            value: "a sum beyond 64 bits of kilograms".into(),
        })?;
        let [registry, project, vintage, kind, status] = key.columns();
        for (column, value) in columns.iter_mut().zip([
            registry, project, vintage, kind, status, d.records, quantity,
        ]) {
            column.push(value);
        }
        first_days.push(d.first_day);
        last_days.push(d.last_day);
        if !d.quantity_text.is_zero() {
            texts.push((*key, d.quantity_text));
        }
        if let Some(days) = d.removed_days {
            respans.push((*key, days));
        }
        emptied |= d.records < 0;
    }
    let [registry, project, vintage, kind, status, records, quantity] = columns;
    sqlx::query(
        "INSERT INTO credit_totals (registry, project, vintage, kind, status, records, quantity, \
         first_day, last_day) \
         SELECT * FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::int[], \
         $6::bigint[], $7::bigint[], $8::date[], $9::date[]) \
         ON CONFLICT (registry, project, vintage, kind, status) DO UPDATE SET \
         records = credit_totals.records + excluded.records, \
         quantity = credit_totals.quantity + excluded.quantity, \
         first_day = LEAST(credit_totals.first_day, excluded.first_day), \
         last_day = GREATEST(credit_totals.last_day, excluded.last_day)",
    )
    .bind(&registry)
    .bind(&project)
    .bind(&vintage)
    .bind(&kind)
    .bind(&status)
    .bind(&records)
    .bind(&quantity)
    .bind(&first_days)
    .bind(&last_days)
    .execute(&mut **tx)
    .await?;
    let key_args = crate::totals::key_args;
    for (key, delta) in texts {
        let old: Option<Option<String>> = sqlx::query_scalar_with(
            crate::totals::TEXT_OF,
            crate::postgres::arguments(key_args(&key))?,
        )
        .fetch_optional(&mut **tx)
        .await?;
        let mut set = vec![crate::totals::text_sum(old.flatten(), delta)?];
        set.extend(key_args(&key));
        sqlx::query_with(crate::totals::SET_TEXT, crate::postgres::arguments(set)?)
            .execute(&mut **tx)
            .await?;
    }
    respan(tx, &respans).await?;
    if emptied {
        sqlx::query(crate::totals::DROP_EMPTY)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A credit record with its numbers, ready to copy.
struct Staged<'a> {
    p: &'a PreparedCredit,
    ids: CreditIds,
    values: CreditValues<'a>,
    origin: i64,
    hash: i64,
    probe: u32,
}

impl Staged<'_> {
    fn counted(&self) -> Counted {
        Counted {
            key: TotalKey {
                registry: self.ids.registry,
                project: self.ids.project,
                vintage: self.values.vintage.unwrap_or(0),
                kind: self.ids.kind,
                status: self.ids.status,
            },
            quantity: self.values.quantity,
            quantity_text: self
                .values
                .quantity_text
                .as_deref()
                .and_then(|t| t.parse().ok()),
            event_day: self.values.event_day,
        }
    }
}

impl Load {
    async fn credits(&mut self, credits: &[PreparedCredit]) -> StoreResult<()> {
        if credits.is_empty() {
            return Ok(());
        }
        let mut texts = BTreeSet::new();
        for c in credits {
            let t = credit_terms(&c.record, &c.project);
            texts.extend([
                t.registry,
                t.project,
                t.kind,
                t.kind_raw,
                t.status,
                t.status_raw,
            ]);
            texts.extend(t.namespace);
            texts.extend(t.account);
            texts.extend(t.beneficiary);
            texts.extend(t.reason);
        }
        self.ids.terms(texts).await?;
        let mut staged = Vec::with_capacity(credits.len());
        for p in credits {
            let t = credit_terms(&p.record, &p.project);
            let ids = CreditIds {
                registry: self.ids.term(t.registry)?,
                project: self.ids.term(t.project)?,
                kind: self.ids.term(t.kind)?,
                kind_raw: self.ids.term(t.kind_raw)?,
                namespace: t.namespace.map(|n| self.ids.term(n)).transpose()?,
                status: self.ids.term(t.status)?,
                status_raw: self.ids.term(t.status_raw)?,
                account: t.account.map(|a| self.ids.term(a)).transpose()?,
                beneficiary: t.beneficiary.map(|b| self.ids.term(b)).transpose()?,
                reason: t.reason.map(|r| self.ids.term(r)).transpose()?,
            };
            staged.push(Staged {
                p,
                ids,
                values: CreditValues::of(&p.record),
                origin: self.ids.origin(p.source_head(), &p.provenance).await?,
                hash: p.key_hash,
                probe: 0,
            });
            self.registries.insert((ids.registry, "credit"));
        }
        // A key repeated in the batch goes to a later round: rounds apply in order.
        let mut rounds: Vec<Vec<usize>> = Vec::new();
        let mut last_round: HashMap<(i64, &str), usize> = HashMap::new();
        for (i, s) in staged.iter().enumerate() {
            let key = (s.ids.registry, s.p.record.record_key.as_str());
            let r = last_round.get(&key).map_or(0, |r| r + 1);
            last_round.insert(key, r);
            if rounds.len() <= r {
                rounds.push(Vec::new());
            }
            rounds[r].push(i);
        }
        for round in rounds {
            self.merge(&mut staged, round).await?;
        }
        Ok(())
    }

    /// Writes records whose keys are distinct: new ones copied straight into `credits`,
    /// changed ones superseded and overwritten, unchanged ones left alone.
    async fn merge(&mut self, staged: &mut [Staged<'_>], mut todo: Vec<usize>) -> StoreResult<()> {
        // Records that must be looked up in the table (a bulk load knows the others are new).
        let mut ask_all = false;
        let mut attempts = 0;
        while !todo.is_empty() {
            attempts += 1;
            if attempts > 8 {
                return Err(StoreError::Corrupt {
                    column: "credits",
                    value: format!("{} records kept changing while written", todo.len()),
                });
            }
            let (mut fresh, ask): (Vec<usize>, Vec<usize>) = todo.iter().partition(|&&i| {
                !ask_all
                    && self
                        .keys
                        .as_ref()
                        .is_some_and(|k| !k.contains(&(staged[i].ids.registry, staged[i].hash)))
            });
            let mut changed: Vec<(usize, i64)> = Vec::new();
            let mut reprobe = Vec::new();
            if !ask.is_empty() {
                // Which keys exist, locking their rows (in id order, as every writer does).
                let registries: Vec<i32> =
                    ask.iter().map(|&i| staged[i].ids.registry as i32).collect();
                let hashes: Vec<i64> = ask.iter().map(|&i| staged[i].hash).collect();
                let found: Vec<Found> = sqlx::query_as(
                    "SELECT c.registry, c.key_hash, c.id, c.record_key, c.version, \
                     c.content_hash, c.project, c.vintage, c.kind, c.status, c.quantity, \
                     c.quantity_text, c.retracted_at IS NOT NULL, c.event_day \
                     FROM unnest($1::int[], $2::bigint[]) AS k (registry, key_hash) \
                     JOIN credits c ON c.registry = k.registry AND c.key_hash = k.key_hash \
                     ORDER BY c.id FOR UPDATE OF c",
                )
                .bind(&registries)
                .bind(&hashes)
                .fetch_all(&mut *self.tx)
                .await?;
                let mut by_key: HashMap<(i64, i64), Found> = found
                    .into_iter()
                    .map(|f| ((i64::from(f.0), f.1), f))
                    .collect();
                for &i in &ask {
                    let s = &staged[i];
                    match by_key.remove(&(s.ids.registry, s.hash)) {
                        None => fresh.push(i),
                        Some(f) if f.3 != s.p.record.record_key => reprobe.push(i),
                        Some(f) if f.5 == s.p.content_hash && !f.12 => self.counts.unchanged += 1,
                        // A retracted record is no longer counted: nothing to take off.
                        Some(f) if f.12 => changed.push((i, f.2)),
                        Some(f) => {
                            let (
                                _,
                                _,
                                id,
                                _,
                                _,
                                _,
                                project,
                                vintage,
                                kind,
                                status,
                                kg,
                                text,
                                _,
                                event_day,
                            ) = f;
                            self.totals.count(
                                &Counted {
                                    key: TotalKey {
                                        registry: s.ids.registry,
                                        project: project.into(),
                                        vintage: vintage.map_or(0, i64::from),
                                        kind: kind.into(),
                                        status: status.into(),
                                    },
                                    quantity: kg,
                                    quantity_text: text.and_then(|t| t.parse().ok()),
                                    event_day,
                                },
                                -1,
                            );
                            changed.push((i, id));
                        }
                    }
                }
            }
            // Another key holds the slot: the next probe (see `key_hash`).
            for &i in &reprobe {
                let s = &mut staged[i];
                s.probe += 1;
                s.hash = key_hash(
                    s.p.record.registry.as_str(),
                    &s.p.record.record_key,
                    s.probe,
                );
            }
            self.write_changed(&changed, staged).await?;
            fresh.sort_unstable();
            let inserted = self.insert_new(&fresh, staged).await?;
            todo = reprobe;
            if !inserted {
                // Another writer stored one of these keys meanwhile: look them all up.
                ask_all = true;
                todo.extend(fresh);
                todo.sort_unstable();
            }
        }
        Ok(())
    }

    /// Copies the changed records into the staging table, moves their current rows to
    /// `credit_versions` and overwrites them.
    async fn write_changed(
        &mut self,
        changed: &[(usize, i64)],
        staged: &[Staged<'_>],
    ) -> StoreResult<()> {
        if changed.is_empty() {
            return Ok(());
        }
        let mut rows = CopyRows::with_capacity(changed.len());
        for &(i, id) in changed {
            binary_row(&mut rows, &staged[i], Target::Staging(i as i64, id));
        }
        copy(&mut self.tx, &staging_copy_sql(), rows).await?;
        let content = list("", &CREDIT_CONTENT);
        let c_content = list("c", &CREDIT_CONTENT);
        sqlx::query(&format!(
            "INSERT INTO credit_versions (credit, version, {content}, content_hash, raw_hash, \
             origin, line, written_at, retracted_at) SELECT c.id, c.version, {c_content}, \
             c.content_hash, c.raw_hash, c.origin, c.line, c.written_at, c.retracted_at \
             FROM credits c JOIN load_credits s ON s.target = c.id"
        ))
        .execute(&mut *self.tx)
        .await?;
        let sets: Vec<String> = CREDIT_CONTENT
            .iter()
            .map(|col| format!("{col} = s.{col}"))
            .collect();
        sqlx::query(&format!(
            "UPDATE credits c SET serial_bucket = s.serial_bucket, {}, \
             content_hash = s.content_hash, raw_hash = s.raw_hash, origin = s.origin, \
             line = s.line, version = c.version + 1, written_at = $1, retracted_at = NULL \
             FROM load_credits s WHERE s.target = c.id",
            sets.join(", ")
        ))
        .bind(self.now)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("TRUNCATE load_credits")
            .execute(&mut *self.tx)
            .await?;
        for &(i, _) in changed {
            self.totals.count(&staged[i].counted(), 1);
        }
        self.counts.changed += changed.len() as u64;
        Ok(())
    }

    /// Copies new records straight into `credits`, inside a savepoint: false (nothing
    /// written) when another writer stored one of their keys meanwhile.
    async fn insert_new(&mut self, new: &[usize], staged: &[Staged<'_>]) -> StoreResult<bool> {
        if new.is_empty() {
            return Ok(true);
        }
        let mut rows = CopyRows::with_capacity(new.len());
        for &i in new {
            binary_row(&mut rows, &staged[i], Target::Credits(self.now));
        }
        let mut savepoint = sqlx::Connection::begin(&mut *self.tx).await?;
        match copy(&mut savepoint, &credits_copy_sql(), rows).await {
            Ok(()) => savepoint.commit().await?,
            Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                savepoint.rollback().await?;
                return Ok(false);
            }
            Err(e) => return Err(e),
        }
        for &i in new {
            let s = &staged[i];
            self.totals.count(&s.counted(), 1);
            if let Some(keys) = &mut self.keys {
                keys.insert((s.ids.registry, s.hash));
            }
        }
        self.counts.new += new.len() as u64;
        if self.keys.as_ref().is_some_and(|k| k.len() > KEY_SET_LIMIT) {
            // Past this, keys are looked up in the table, as an incremental load does.
            self.keys = None;
        }
        Ok(true)
    }

    async fn projects(&mut self, projects: &[PreparedProject]) -> StoreResult<()> {
        if projects.is_empty() {
            return Ok(());
        }
        let mut texts = BTreeSet::new();
        for p in projects {
            let t = project_terms(&p.record, &p.key);
            texts.extend([t.key, t.registry]);
            texts.extend(t.status);
            texts.extend(t.status_raw);
        }
        self.ids.terms(texts).await?;
        for p in projects {
            let t = project_terms(&p.record, &p.key);
            let id = self.ids.term(t.key)?;
            let registry = self.ids.term(t.registry)?;
            let status = t.status.map(|s| self.ids.term(s)).transpose()?;
            let status_raw = t.status_raw.map(|s| self.ids.term(s)).transpose()?;
            let origin = self.ids.origin(p.source_head(), &p.provenance).await?;
            self.registries.insert((registry, "project"));
            let current: Option<(i32, Vec<u8>)> = sqlx::query_as(
                "SELECT version, content_hash FROM projects WHERE id = $1 FOR UPDATE",
            )
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
            let version = match current {
                Some((_, hash)) if hash == p.content_hash => {
                    self.counts.unchanged += 1;
                    continue;
                }
                Some((version, _)) => {
                    let content = list("", &PROJECT_CONTENT);
                    sqlx::query(&format!(
                        "INSERT INTO project_versions (project, version, {content}, \
                         content_hash, raw_hash, origin, line, written_at) SELECT id, version, \
                         {content}, content_hash, raw_hash, origin, line, written_at \
                         FROM projects WHERE id = $1"
                    ))
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                    self.counts.changed += 1;
                    i64::from(version) + 1
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
            let columns = format!(
                "id, key, registry, registry_project_id, {}, content_hash, raw_hash, origin, \
                 line, version, written_at",
                list("", &PROJECT_CONTENT)
            );
            let updates: Vec<String> = columns
                .split(", ")
                .skip(1)
                .map(|c| format!("{c} = excluded.{c}"))
                .collect();
            let sql = format!(
                "INSERT INTO projects ({columns}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
                crate::db::placeholders(0, args.len()),
                updates.join(", ")
            );
            sqlx::query_with(&sql, crate::postgres::arguments(args)?)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn rejected(&mut self, rejected: &[RejectedRecord]) -> StoreResult<()> {
        for r in rejected {
            sqlx::query_with(
                crate::runs::INSERT_REJECTED,
                crate::postgres::arguments(crate::runs::rejected_args(r))?,
            )
            .execute(&mut *self.tx)
            .await?;
        }
        self.counts.rejected += rejected.len() as u64;
        Ok(())
    }
}

/// Where a copied row goes: the staging table (with its position and the id of the row it
/// overwrites), or `credits` (version 1, written at the given time).
enum Target {
    Staging(i64, i64),
    Credits(DateTime<Utc>),
}

/// Rows in `COPY`'s binary format: the backend takes the values as they are stored, where the
/// text formats make it parse every integer, date and hex-encoded hash (about 40 % of the
/// backend's `COPY` time for a million credit rows, measured with `psql`).
struct CopyRows {
    buf: Vec<u8>,
    /// The first value that did not fit its column: (column type, value).
    overflow: Option<(&'static str, i64)>,
}

/// Days from the Unix epoch to PostgreSQL's, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

impl CopyRows {
    fn with_capacity(rows: usize) -> Self {
        let mut buf = Vec::with_capacity(19 + rows * 320 + 2);
        // Signature, flags, header extension length.
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes());
        buf.extend_from_slice(&0i32.to_be_bytes());
        Self {
            buf,
            overflow: None,
        }
    }

    fn row(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8]) {
        // A field is far below 2 GiB: its length fits.
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    /// A value that does not fit its column fails the copy, as the text format's parse would.
    fn overflowed(&mut self, column: &'static str, v: i64) {
        self.overflow.get_or_insert((column, v));
        self.null();
    }

    /// An `INTEGER` column (term numbers, years).
    fn int4(&mut self, v: Option<i64>) {
        match v.map(|v| (v, i32::try_from(v))) {
            Some((_, Ok(n))) => self.field(&n.to_be_bytes()),
            Some((v, Err(_))) => self.overflowed("INTEGER", v),
            None => self.null(),
        }
    }

    /// A `SMALLINT` column (a serial bucket, the flags).
    fn int2(&mut self, v: Option<i64>) {
        match v.map(|v| (v, i16::try_from(v))) {
            Some((_, Ok(n))) => self.field(&n.to_be_bytes()),
            Some((v, Err(_))) => self.overflowed("SMALLINT", v),
            None => self.null(),
        }
    }

    fn int8(&mut self, v: Option<i64>) {
        match v {
            Some(v) => self.field(&v.to_be_bytes()),
            None => self.null(),
        }
    }

    fn text(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.field(v.as_bytes()),
            None => self.null(),
        }
    }

    fn bytes(&mut self, v: &[u8]) {
        self.field(v);
    }

    fn date(&mut self, v: Option<chrono::NaiveDate>) {
        let days =
            v.map(|d| i64::from(chrono::Datelike::num_days_from_ce(&d)) - 719_163 - PG_EPOCH_DAYS);
        self.int4(days);
    }

    fn timestamp(&mut self, at: DateTime<Utc>) {
        let micros = at.timestamp_micros() - PG_EPOCH_DAYS * 86_400_000_000;
        self.int8(Some(micros));
    }

    fn finish(mut self) -> StoreResult<Vec<u8>> {
        if let Some((column, v)) = self.overflow {
            return Err(StoreError::Corrupt {
                column,
                value: format!("{v} is out of range"),
            });
        }
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        Ok(self.buf)
    }
}

/// Appends one row: the columns of [`copied_columns`], then those of the target.
fn binary_row(buf: &mut CopyRows, s: &Staged<'_>, target: Target) {
    let v = &s.values;
    let ids = &s.ids;
    buf.row(30);
    buf.int4(Some(ids.registry));
    buf.int8(Some(s.hash));
    buf.text(Some(&s.p.record.record_key));
    buf.int2(v.serial_bucket);
    buf.int4(Some(ids.project));
    buf.int4(Some(ids.kind));
    buf.int4(Some(ids.kind_raw));
    buf.int8(v.quantity);
    buf.text(v.quantity_text.as_deref());
    buf.text(v.serial);
    buf.int4(ids.namespace);
    buf.int8(v.serial_start);
    buf.int8(v.serial_end);
    buf.int4(v.vintage);
    buf.date(v.period_start);
    buf.date(v.period_end);
    buf.date(v.event_day);
    buf.int4(Some(ids.status));
    buf.int4(Some(ids.status_raw));
    buf.int4(ids.account);
    buf.int4(ids.beneficiary);
    buf.int4(ids.reason);
    buf.text(v.note);
    buf.int2(Some(v.flags));
    buf.bytes(&s.p.content_hash);
    buf.bytes(&s.p.raw_hash);
    buf.int8(Some(s.origin));
    buf.int8(s.p.line);
    match target {
        Target::Staging(ord, id) => {
            buf.int8(Some(ord));
            buf.int8(Some(id));
        }
        Target::Credits(written_at) => {
            buf.int4(Some(1));
            buf.timestamp(written_at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values after the header, each as (length, bytes).
    fn fields(rows: CopyRows) -> Vec<Option<Vec<u8>>> {
        let bytes = rows.finish().expect("rows");
        let mut rest = &bytes[19..bytes.len() - 2];
        let mut out = Vec::new();
        while rest.len() >= 4 {
            let len = i32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
            rest = &rest[4..];
            if len < 0 {
                out.push(None);
            } else {
                let len = len as usize;
                out.push(Some(rest[..len].to_vec()));
                rest = &rest[len..];
            }
        }
        out
    }

    #[test]
    fn binary_rows_count_dates_and_times_from_postgres_epoch() {
        let rows = CopyRows::with_capacity(1);
        let bytes = rows.finish().expect("no rows");
        assert_eq!(&bytes[..11], b"PGCOPY\n\xff\r\n\0", "the signature");
        assert_eq!(&bytes[11..19], &[0; 8], "no flags, no header extension");
        assert_eq!(&bytes[19..], &(-1i16).to_be_bytes(), "the trailer");

        let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
        let mut rows = CopyRows::with_capacity(1);
        rows.date(day(2000, 1, 1));
        rows.date(day(1999, 12, 31));
        rows.date(day(2021, 3, 4));
        rows.date(None);
        rows.timestamp(
            DateTime::parse_from_rfc3339("2000-01-01T00:00:01.5Z")
                .expect("time")
                .with_timezone(&Utc),
        );
        rows.int4(Some(7));
        rows.text(Some("é"));
        let got = fields(rows);
        assert_eq!(got[0], Some(0i32.to_be_bytes().to_vec()));
        assert_eq!(got[1], Some((-1i32).to_be_bytes().to_vec()));
        // 2021-03-04 is 7,733 days after 2000-01-01.
        assert_eq!(got[2], Some(7_733i32.to_be_bytes().to_vec()));
        assert_eq!(got[3], None);
        assert_eq!(got[4], Some(1_500_000i64.to_be_bytes().to_vec()));
        assert_eq!(got[5], Some(7i32.to_be_bytes().to_vec()));
        assert_eq!(got[6], Some("é".as_bytes().to_vec()));

        let mut rows = CopyRows::with_capacity(1);
        rows.int2(Some(70_000));
        let error = rows.finish().expect_err("out of range");
        assert!(
            error
                .to_string()
                .contains("SMALLINT: 70000 is out of range"),
            "{error}"
        );
    }
}
