//! Carrying records of the layout before migration 0009 over: every project, credit record
//! and superseded version, with its version number, provenance and time written, in one
//! transaction that also drops the old tables. A crash part-way leaves the old tables, and
//! the next `migrate` starts again.
//!
//! The old rows keep each record as JSON; they are decoded exactly as the old store read them
//! and written as columns. Content hashes are computed afresh in today's definition (so an
//! unchanged record is still recognised as unchanged), the totals built from the records.

use std::collections::HashMap;

use carbonmesh_model::{CreditRecord, Project, RegistryId};
use chrono::{DateTime, Utc};

use crate::db::{Arg, Row, Tx};
use crate::records::REGISTRY_WRITTEN;
use crate::records::columns::{
    CREDIT_CONTENT, CreditIds, CreditValues, PROJECT_CONTENT, credit_terms, list, project_args,
    project_terms,
};
use crate::records::encode::{
    credit_hash, hash_bytes, key_hash, project_extra, project_hash, split_source,
};
use crate::store::SqlStore;
use crate::totals::{Counted, TotalKey, Totals};
use crate::{Backend, StoreError, StoreResult};

/// Numbers of terms and origins given out in the transaction.
struct Numbers {
    terms: HashMap<String, i64>,
    origins: HashMap<(String, DateTime<Utc>, i64), i64>,
}

impl Numbers {
    async fn term(&mut self, tx: &mut dyn Tx, text: &str) -> StoreResult<i64> {
        if let Some(&id) = self.terms.get(text) {
            return Ok(id);
        }
        tx.execute(
            "INSERT INTO terms (text) VALUES ($1) ON CONFLICT (text) DO NOTHING",
            vec![text.into()],
        )
        .await?;
        let rows = tx
            .fetch("SELECT id FROM terms WHERE text = $1", vec![text.into()])
            .await?;
        let id = first(&rows)?.int(0)?;
        self.terms.insert(text.to_owned(), id);
        Ok(id)
    }

    async fn opt_term(&mut self, tx: &mut dyn Tx, text: Option<&str>) -> StoreResult<Option<i64>> {
        match text {
            Some(t) => self.term(tx, t).await.map(Some),
            None => Ok(None),
        }
    }

    async fn origin(
        &mut self,
        tx: &mut dyn Tx,
        source: &str,
        fetched_at: DateTime<Utc>,
        run: Option<i64>,
    ) -> StoreResult<i64> {
        let key = (source.to_owned(), fetched_at, run.unwrap_or(0));
        if let Some(&id) = self.origins.get(&key) {
            return Ok(id);
        }
        let rows = tx
            .fetch(
                "INSERT INTO origins (source, fetched_at, run) VALUES ($1, $2, $3) RETURNING id",
                vec![source.into(), Arg::Instant(Some(fetched_at)), key.2.into()],
            )
            .await?;
        let id = first(&rows)?.int(0)?;
        self.origins.insert(key, id);
        Ok(id)
    }
}

fn first(rows: &[Row]) -> StoreResult<&Row> {
    rows.first().ok_or_else(|| StoreError::Corrupt {
        column: "migration",
        value: "a statement returned no row".into(),
    })
}

/// One old row: the record as JSON and its provenance.
struct Old {
    payload: String,
    version: i64,
    source: String,
    raw_hash: String,
    fetched_at: DateTime<Utc>,
    run_id: Option<i64>,
    written_at: DateTime<Utc>,
}

/// Old rows selecting `payload, version, source, raw_hash, fetched_at, run_id, written` after
/// `skip` leading columns.
fn old(row: &Row, skip: usize) -> StoreResult<Old> {
    Ok(Old {
        payload: row.text(skip)?,
        version: row.int(skip + 1)?,
        source: row.text(skip + 2)?,
        raw_hash: row.text(skip + 3)?,
        fetched_at: row.time(skip + 4)?,
        run_id: row.opt_int(skip + 5)?,
        written_at: row.time(skip + 6)?,
    })
}

pub(crate) async fn carry_over(store: &SqlStore) -> StoreResult<()> {
    let mut transaction = store.db.begin().await?;
    let tx = transaction.as_mut();
    let mut n = Numbers {
        terms: HashMap::new(),
        origins: HashMap::new(),
    };
    let mut last_write: HashMap<(i64, &'static str), DateTime<Utc>> = HashMap::new();

    // Projects, then their superseded versions.
    let rows = tx
        .fetch(
            "SELECT payload, version, source, raw_hash, fetched_at, run_id, updated_at \
             FROM legacy_projects ORDER BY id",
            Vec::new(),
        )
        .await?;
    for row in &rows {
        let o = old(row, 0)?;
        let project: Project = serde_json::from_str(&o.payload)?;
        let key = project.id();
        let t = project_terms(&project, &key);
        let id = n.term(tx, t.key).await?;
        let registry = n.term(tx, t.registry).await?;
        let mut args: Vec<Arg> = vec![
            id.into(),
            key.as_str().into(),
            registry.into(),
            project.registry_project_id.as_str().into(),
        ];
        args.extend(project_content(&mut n, tx, &project).await?);
        args.extend(provenance(&mut n, tx, &o, project_hash(&project)?.to_vec()).await?);
        args.push(o.version.into());
        args.push(Arg::Instant(Some(o.written_at)));
        let sql = format!(
            "INSERT INTO projects (id, key, registry, registry_project_id, {}, content_hash, \
             raw_hash, origin, line, version, written_at) VALUES ({})",
            list("", &PROJECT_CONTENT),
            crate::db::placeholders(0, args.len())
        );
        tx.execute(&sql, args).await?;
        let last = last_write
            .entry((registry, "project"))
            .or_insert(o.written_at);
        *last = (*last).max(o.written_at);
    }
    let rows = tx
        .fetch(
            "SELECT payload, version, source, raw_hash, fetched_at, run_id, recorded_at \
             FROM legacy_record_versions WHERE kind = 'project' ORDER BY registry, record_key, version",
            Vec::new(),
        )
        .await?;
    for row in &rows {
        let o = old(row, 0)?;
        let project: Project = serde_json::from_str(&o.payload)?;
        let id = n.term(tx, &project.id()).await?;
        let mut args: Vec<Arg> = vec![id.into(), o.version.into()];
        args.extend(project_content(&mut n, tx, &project).await?);
        args.extend(provenance(&mut n, tx, &o, project_hash(&project)?.to_vec()).await?);
        args.push(Arg::Instant(Some(o.written_at)));
        let sql = format!(
            "INSERT INTO project_versions (project, version, {}, content_hash, raw_hash, \
             origin, line, written_at) VALUES ({})",
            list("", &PROJECT_CONTENT),
            crate::db::placeholders(0, args.len())
        );
        tx.execute(&sql, args).await?;
    }

    // Credit records in the order they were first stored, then their superseded versions.
    let order = match store.db.backend() {
        Backend::Sqlite => "rowid",
        Backend::Postgres => "seq",
    };
    let rows = tx
        .fetch(
            &format!(
                "SELECT payload, version, source, raw_hash, fetched_at, run_id, updated_at \
                 FROM legacy_credit_records ORDER BY {order}"
            ),
            Vec::new(),
        )
        .await?;
    let mut ids: HashMap<(RegistryId, String), i64> = HashMap::with_capacity(rows.len());
    let mut slots: HashMap<(i64, i64), String> = HashMap::with_capacity(rows.len());
    let mut totals = Totals::default();
    for row in &rows {
        let o = old(row, 0)?;
        let credit: CreditRecord = serde_json::from_str(&o.payload)?;
        let (cids, values) = credit_columns(&mut n, tx, &credit).await?;
        let mut probe = 0;
        let mut hash = key_hash(credit.registry.as_str(), &credit.record_key, 0);
        while slots.contains_key(&(cids.registry, hash)) {
            probe += 1;
            hash = key_hash(credit.registry.as_str(), &credit.record_key, probe);
        }
        slots.insert((cids.registry, hash), credit.record_key.clone());
        let mut args: Vec<Arg> = vec![
            cids.registry.into(),
            hash.into(),
            credit.record_key.as_str().into(),
            values.serial_bucket.into(),
        ];
        args.extend(values.args(&cids));
        args.extend(provenance(&mut n, tx, &o, credit_hash(&credit).to_vec()).await?);
        args.push(o.version.into());
        args.push(Arg::Instant(Some(o.written_at)));
        let sql = format!(
            "INSERT INTO credits (registry, key_hash, record_key, serial_bucket, {}, \
             content_hash, raw_hash, origin, line, version, written_at) VALUES ({}) RETURNING id",
            list("", &CREDIT_CONTENT),
            crate::db::placeholders(0, args.len())
        );
        let inserted = tx.fetch(&sql, args).await?;
        ids.insert(
            (credit.registry, credit.record_key.clone()),
            first(&inserted)?.int(0)?,
        );
        totals.count(
            &Counted {
                key: TotalKey {
                    registry: cids.registry,
                    project: cids.project,
                    vintage: values.vintage.unwrap_or(0),
                    kind: cids.kind,
                    status: cids.status,
                },
                quantity: values.quantity,
                quantity_text: values.quantity_text.as_deref().and_then(|t| t.parse().ok()),
                event_day: values.event_day,
            },
            1,
        );
        let last = last_write
            .entry((cids.registry, "credit"))
            .or_insert(o.written_at);
        *last = (*last).max(o.written_at);
    }
    let rows = tx
        .fetch(
            "SELECT registry, record_key, payload, version, source, raw_hash, fetched_at, \
             run_id, recorded_at FROM legacy_record_versions WHERE kind = 'credit' \
             ORDER BY registry, record_key, version",
            Vec::new(),
        )
        .await?;
    for row in &rows {
        let o = old(row, 2)?;
        let credit: CreditRecord = serde_json::from_str(&o.payload)?;
        let registry: RegistryId = crate::records::encode::registry(&row.text(0)?)?;
        let key = row.text(1)?;
        let Some(&id) = ids.get(&(registry, key.clone())) else {
            return Err(StoreError::Corrupt {
                column: "legacy_record_versions",
                value: format!("a version of {registry}:{key}, which has no current record"),
            });
        };
        let (cids, values) = credit_columns(&mut n, tx, &credit).await?;
        let mut args: Vec<Arg> = vec![id.into(), o.version.into()];
        args.extend(values.args(&cids));
        args.extend(provenance(&mut n, tx, &o, credit_hash(&credit).to_vec()).await?);
        args.push(Arg::Instant(Some(o.written_at)));
        let sql = format!(
            "INSERT INTO credit_versions (credit, version, {}, content_hash, raw_hash, origin, \
             line, written_at) VALUES ({})",
            list("", &CREDIT_CONTENT),
            crate::db::placeholders(0, args.len())
        );
        tx.execute(&sql, args).await?;
    }

    crate::totals::apply(tx, &totals).await?;
    for ((registry, kind), at) in last_write {
        tx.execute(
            REGISTRY_WRITTEN,
            vec![registry.into(), kind.into(), Arg::Instant(Some(at))],
        )
        .await?;
    }
    for table in [
        "legacy_record_versions",
        "legacy_credit_records",
        "legacy_projects",
    ] {
        tx.execute(&format!("DROP TABLE {table}"), Vec::new())
            .await?;
    }
    if store.db.backend() == Backend::Postgres {
        // The serial bucket function only served the old table's generated column.
        tx.execute(
            "DROP FUNCTION IF EXISTS carbonmesh_serial_bucket(bigint, bigint)",
            Vec::new(),
        )
        .await?;
    }
    transaction.commit().await
}

async fn project_content(
    n: &mut Numbers,
    tx: &mut dyn Tx,
    project: &Project,
) -> StoreResult<Vec<Arg>> {
    let key = project.id();
    let t = project_terms(project, &key);
    let status = n.opt_term(tx, t.status).await?;
    let status_raw = n.opt_term(tx, t.status_raw).await?;
    Ok(project_args(
        project,
        status,
        status_raw,
        project_extra(project)?,
    ))
}

async fn credit_columns<'a>(
    n: &mut Numbers,
    tx: &mut dyn Tx,
    credit: &'a CreditRecord,
) -> StoreResult<(CreditIds, CreditValues<'a>)> {
    let project = credit.project_id();
    let t = credit_terms(credit, &project);
    let ids = CreditIds {
        registry: n.term(tx, t.registry).await?,
        project: n.term(tx, t.project).await?,
        kind: n.term(tx, t.kind).await?,
        kind_raw: n.term(tx, t.kind_raw).await?,
        namespace: n.opt_term(tx, t.namespace).await?,
        status: n.term(tx, t.status).await?,
        status_raw: n.term(tx, t.status_raw).await?,
        account: n.opt_term(tx, t.account).await?,
        beneficiary: n.opt_term(tx, t.beneficiary).await?,
        reason: n.opt_term(tx, t.reason).await?,
    };
    Ok((ids, CreditValues::of(credit)))
}

/// `content_hash, raw_hash, origin, line` of an old row.
async fn provenance(
    n: &mut Numbers,
    tx: &mut dyn Tx,
    o: &Old,
    content_hash: Vec<u8>,
) -> StoreResult<Vec<Arg>> {
    let (head, line) = split_source(&o.source);
    let origin = n.origin(tx, head, o.fetched_at, o.run_id).await?;
    Ok(vec![
        Arg::Bytes(Some(content_hash)),
        Arg::Bytes(Some(hash_bytes(&o.raw_hash))),
        origin.into(),
        line.into(),
    ])
}
