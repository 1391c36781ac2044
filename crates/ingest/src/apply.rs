//! Normalizing raw records and writing the results: the steps sync and import share.

use carbonmesh_connector::{Connector, Page, RawRecord, Record, Rejection};
use carbonmesh_model::{CreditRecord, Project, Provenance, RejectedRecord, RunCounts};
use carbonmesh_store::{Stamped, Store, StoreResult};
use chrono::{DateTime, Utc};

/// What applying one page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Counts over the page's raw records and what they produced.
    pub counts: RunCounts,
}

/// A page normalized and ready to write.
#[derive(Debug, Default)]
pub(crate) struct Normalized {
    raw_records: u64,
    projects: Vec<Stamped<Project>>,
    credits: Vec<Stamped<CreditRecord>>,
    rejected: Vec<RejectedRecord>,
}

/// Normalizes every record of `page`: pure CPU work, no I/O.
pub(crate) fn normalize_page(
    connector: &dyn Connector,
    page: &Page,
    run_id: Option<i64>,
    fetched_at: DateTime<Utc>,
) -> Normalized {
    let mut out = Normalized {
        raw_records: (page.records.len() + page.unreadable.len()) as u64,
        rejected: page
            .unreadable
            .iter()
            .map(|(raw, why)| rejection(connector, raw, why, run_id, fetched_at))
            .collect(),
        ..Normalized::default()
    };
    for raw in &page.records {
        match connector.normalize(raw) {
            Ok(records) => {
                let provenance = Provenance {
                    source: raw.location(),
                    raw_hash: raw.raw_hash(),
                    fetched_at,
                    run_id,
                };
                for record in records {
                    match record {
                        Record::Project(project) => out.projects.push(Stamped {
                            record: project,
                            provenance: provenance.clone(),
                        }),
                        Record::Credit(credit) => out.credits.push(Stamped {
                            record: credit,
                            provenance: provenance.clone(),
                        }),
                    }
                }
            }
            Err(why) => out
                .rejected
                .push(rejection(connector, raw, &why, run_id, fetched_at)),
        }
    }
    out
}

/// Writes a normalized page; `counts.seen` counts raw records, new/changed/unchanged count
/// the normalized records they produced, rejected counts both kinds of rejection.
pub(crate) async fn write_normalized(
    store: &dyn Store,
    normalized: Normalized,
) -> StoreResult<Applied> {
    let mut counts = RunCounts::default();
    if !normalized.projects.is_empty() {
        counts += store.upsert_projects(&normalized.projects).await?;
    }
    if !normalized.credits.is_empty() {
        counts += store.upsert_credits(&normalized.credits).await?;
    }
    if !normalized.rejected.is_empty() {
        store.insert_rejected(&normalized.rejected).await?;
    }
    counts.seen = normalized.raw_records;
    counts.rejected += normalized.rejected.len() as u64;
    Ok(Applied { counts })
}

/// Normalizes and writes one page.
pub(crate) async fn apply_page(
    store: &dyn Store,
    connector: &dyn Connector,
    page: &Page,
    run_id: Option<i64>,
    fetched_at: DateTime<Utc>,
) -> StoreResult<Applied> {
    write_normalized(store, normalize_page(connector, page, run_id, fetched_at)).await
}

fn rejection(
    connector: &dyn Connector,
    raw: &RawRecord,
    why: &Rejection,
    run_id: Option<i64>,
    at: DateTime<Utc>,
) -> RejectedRecord {
    RejectedRecord {
        connector: connector.registry().as_str().to_owned(),
        source: raw.source.clone(),
        line: Some(raw.line),
        field: why.field.clone(),
        reason: why.reason.clone(),
        raw: raw.text(),
        run_id,
        rejected_at: at,
    }
}
