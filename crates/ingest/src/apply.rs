//! Normalizing raw records and writing the results: the steps sync and import share.

use carbonmesh_connector::{Connector, Page, RawRecord, Record, Rejection};
use carbonmesh_matcher::MatchSession;
use carbonmesh_model::{CreditRecord, Project, Provenance, RejectedRecord, RunCounts};
use carbonmesh_store::{Stamped, Store, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};

/// What applying one page did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Counts over the page's raw records and what they produced.
    pub counts: RunCounts,
    /// The page's warnings (rows read only after a repair), for the run.
    pub warnings: Vec<String>,
}

/// A page normalized and ready to write.
#[derive(Debug, Default)]
pub(crate) struct Normalized {
    pub(crate) raw_records: u64,
    pub(crate) projects: Vec<Stamped<Project>>,
    pub(crate) credits: Vec<Stamped<CreditRecord>>,
    pub(crate) rejected: Vec<RejectedRecord>,
    pub(crate) warnings: Vec<String>,
    /// Records of rows read before, counted as unchanged without normalizing them again.
    pub(crate) unchanged: u64,
}

/// The rows a store holds the records of, as this version of carbonmesh normalized them: by
/// raw hash, how many current records each row gave. Keyed by the first 128 bits of the
/// sha256, half the memory of the whole hash, with no accidental collision in sight.
#[derive(Debug, Default)]
pub(crate) struct KnownRows(foldhash::HashMap<u128, u32>);

impl KnownRows {
    pub(crate) fn new(hashes: Vec<[u8; 32]>) -> Self {
        let mut rows =
            foldhash::HashMap::with_capacity_and_hasher(hashes.len(), Default::default());
        for hash in &hashes {
            *rows.entry(Self::key(hash)).or_insert(0) += 1;
        }
        Self(rows)
    }

    fn key(digest: &[u8; 32]) -> u128 {
        let mut half = [0u8; 16];
        half.copy_from_slice(&digest[..16]);
        u128::from_le_bytes(half)
    }

    /// How many records the row with this raw hash gave, if it was read before.
    fn records(&self, digest: &[u8; 32]) -> Option<u32> {
        self.0.get(&Self::key(digest)).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// Normalizes every record of `page`: pure CPU work, no I/O. Rows among `known` are counted
/// as unchanged instead (see [`Connector::rows_stand_alone`]).
pub(crate) fn normalize_page(
    connector: &dyn Connector,
    page: &Page,
    run_id: Option<i64>,
    fetched_at: DateTime<Utc>,
    known: Option<&KnownRows>,
) -> Normalized {
    let mut out = Normalized {
        raw_records: (page.records.len() + page.unreadable.len()) as u64,
        rejected: page
            .unreadable
            .iter()
            .map(|(raw, why)| rejection(connector, raw, why, run_id, fetched_at))
            .collect(),
        warnings: page.warnings.clone(),
        ..Normalized::default()
    };
    let today = fetched_at.date_naive();
    for raw in &page.records {
        let digest = raw.raw_digest();
        if let Some(records) = known.and_then(|k| k.records(&digest)) {
            out.unchanged += u64::from(records);
            continue;
        }
        match connector
            .normalize(raw)
            .and_then(|records| admit(records, today))
        {
            Ok(records) => {
                let provenance = Provenance {
                    source: raw.location(),
                    raw_hash: hex::encode(digest),
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
    // A page is one snapshot of the registry: a record stated twice in it (the ARB table
    // repeats a project on every reporting period) is one record, as its last statement
    // says. Writing every statement would record a change per row, and again on every
    // re-read of the same file.
    keep_last(&mut out.projects, |p| {
        (
            p.record.registry.as_str(),
            p.record.registry_project_id.as_str(),
        )
    });
    keep_last(&mut out.credits, |c| {
        (c.record.registry.as_str(), c.record.record_key.as_str())
    });
    out
}

/// The checks every record passes whichever connector read it: no event in the future.
fn admit(records: Vec<Record>, today: NaiveDate) -> Result<Vec<Record>, Rejection> {
    for record in &records {
        if let Record::Credit(credit) = record {
            credit
                .check_event_date(today)
                .map_err(|e| Rejection::field(e.field, e.reason))?;
        }
    }
    Ok(records)
}

/// Drops every record whose key (registry, id) appears again later, keeping the order of the
/// rest.
fn keep_last<T>(records: &mut Vec<T>, key: impl for<'a> Fn(&'a T) -> (&'a str, &'a str)) {
    let mut last = foldhash::HashMap::with_capacity_and_hasher(records.len(), Default::default());
    for (i, record) in records.iter().enumerate() {
        last.insert(key(record), i);
    }
    if last.len() == records.len() {
        return;
    }
    let keep: Vec<bool> = records
        .iter()
        .enumerate()
        .map(|(i, record)| last.get(&key(record)) == Some(&i))
        .collect();
    drop(last);
    let mut index = 0;
    records.retain(|_| {
        index += 1;
        keep[index - 1]
    });
}

/// Writes a normalized page; `counts.seen` counts raw records, new/changed/unchanged count
/// the normalized records they produced, rejected counts both kinds of rejection.
pub(crate) async fn write_normalized(
    store: &dyn Store,
    matcher: &MatchSession,
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
    // The matcher checks each written block against its index on arrival. A matcher failure
    // never fails the write: `carbonmesh match --full` reconciles later.
    let projects: Vec<Project> = normalized.projects.into_iter().map(|p| p.record).collect();
    let credits: Vec<CreditRecord> = normalized.credits.into_iter().map(|c| c.record).collect();
    if let Err(error) = carbonmesh_matcher::after_write(store, matcher, &projects, &credits).await {
        tracing::warn!(%error, "matching the written records failed");
    }
    counts.seen = normalized.raw_records;
    counts.unchanged += normalized.unchanged;
    counts.rejected += normalized.rejected.len() as u64;
    Ok(Applied {
        counts,
        warnings: normalized.warnings,
    })
}

/// Normalizes and writes one page.
pub(crate) async fn apply_page(
    store: &dyn Store,
    matcher: &MatchSession,
    connector: &dyn Connector,
    page: &Page,
    run_id: Option<i64>,
    fetched_at: DateTime<Utc>,
    seen: Option<&mut Seen>,
) -> StoreResult<Applied> {
    let normalized = normalize_page(connector, page, run_id, fetched_at, None);
    if let Some(seen) = seen {
        seen.add(connector.registry(), &normalized.credits);
    }
    write_normalized(store, matcher, normalized).await
}

/// The credit records a sync read of its own registry, by key hash (probe 0, see
/// [`carbonmesh_store::key_hash`]): what it did not read is no longer published.
#[derive(Debug, Default)]
pub(crate) struct Seen(pub(crate) std::collections::HashSet<i64>);

impl Seen {
    fn add(&mut self, registry: carbonmesh_model::RegistryId, credits: &[Stamped<CreditRecord>]) {
        for c in credits.iter().filter(|c| c.record.registry == registry) {
            self.0.insert(carbonmesh_store::key_hash(
                registry.as_str(),
                &c.record.record_key,
                0,
            ));
        }
    }
}

/// Normalizes and writes records that did not come from a poll or a file (a webhook
/// delivery), through the same upserts: a record received both ways is stored once, with one
/// version per real change. No connector run is recorded; provenance names the source.
pub async fn apply_records(
    store: &dyn Store,
    matcher: &MatchSession,
    connector: &dyn Connector,
    page: &Page,
    fetched_at: DateTime<Utc>,
) -> StoreResult<Applied> {
    apply_page(store, matcher, connector, page, None, fetched_at, None).await
}

/// Writes records that arrived already in the common model (a `common_format` webhook
/// delivery) through the same upserts and the same matcher hook as normalized pages.
pub async fn apply_common(
    store: &dyn Store,
    matcher: &MatchSession,
    projects: Vec<Stamped<Project>>,
    credits: Vec<Stamped<CreditRecord>>,
) -> StoreResult<Applied> {
    let normalized = Normalized {
        raw_records: (projects.len() + credits.len()) as u64,
        projects,
        credits,
        ..Normalized::default()
    };
    write_normalized(store, matcher, normalized).await
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
        last_seen_at: at,
        seen_count: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::keep_last;

    #[test]
    fn keeps_the_last_statement_of_each_key_in_order() {
        let mut records = vec![
            ("verra", "a", 1),
            ("verra", "b", 1),
            ("verra", "a", 2),
            ("gold-standard", "a", 1),
            ("verra", "c", 1),
            ("verra", "b", 2),
        ];
        keep_last(&mut records, |r| (r.0, r.1));
        assert_eq!(
            records,
            [
                ("verra", "a", 2),
                ("gold-standard", "a", 1),
                ("verra", "c", 1),
                ("verra", "b", 2)
            ]
        );
        let mut unique = vec![("verra", "x", 1), ("verra", "y", 1)];
        keep_last(&mut unique, |r| (r.0, r.1));
        assert_eq!(unique, [("verra", "x", 1), ("verra", "y", 1)]);
    }
}
