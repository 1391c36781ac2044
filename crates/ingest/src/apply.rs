//! Normalizing raw records and writing the results: the step sync and import share.

use carbonmesh_connector::{Connector, Page, RawRecord, Record, Rejection};
use carbonmesh_model::{Provenance, RejectedRecord, RunCounts};
use carbonmesh_store::{Stamped, Store, StoreResult};
use chrono::{DateTime, Utc};

/// What applying one page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Counts over the page's raw records and what they produced.
    pub counts: RunCounts,
}

/// Normalizes every record of `page` and upserts the results; unreadable and rejected records
/// are kept with their reasons. `counts.seen` counts raw records; new/changed/unchanged count
/// the normalized records they produced.
pub(crate) async fn apply_page(
    store: &dyn Store,
    connector: &dyn Connector,
    page: &Page,
    run_id: Option<i64>,
    fetched_at: DateTime<Utc>,
) -> StoreResult<Applied> {
    let mut projects = Vec::new();
    let mut credits = Vec::new();
    let mut rejected: Vec<RejectedRecord> = page
        .unreadable
        .iter()
        .map(|(raw, why)| rejection(connector, raw, why, run_id, fetched_at))
        .collect();

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
                        Record::Project(project) => projects.push(Stamped {
                            record: project,
                            provenance: provenance.clone(),
                        }),
                        Record::Credit(credit) => credits.push(Stamped {
                            record: credit,
                            provenance: provenance.clone(),
                        }),
                    }
                }
            }
            Err(why) => rejected.push(rejection(connector, raw, &why, run_id, fetched_at)),
        }
    }

    let mut counts = RunCounts::default();
    if !projects.is_empty() {
        counts += store.upsert_projects(&projects).await?;
    }
    if !credits.is_empty() {
        counts += store.upsert_credits(&credits).await?;
    }
    if !rejected.is_empty() {
        store.insert_rejected(&rejected).await?;
    }
    counts.seen = (page.records.len() + page.unreadable.len()) as u64;
    counts.rejected += rejected.len() as u64;
    Ok(Applied { counts })
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
