//! Work done on a record before a writer sees it, off the writer's thread: validation,
//! hashes, the project id, the provenance split.

use carbonmesh_model::{CreditRecord, Project, RejectedRecord};

use crate::Stamped;
use crate::StoreResult;
use crate::records::encode::{credit_hash, hash_bytes, key_hash, project_hash, split_source};

/// A valid credit record ready to write.
pub(crate) struct PreparedCredit {
    pub record: CreditRecord,
    pub provenance: carbonmesh_model::Provenance,
    /// Its project id, `<registry>:<registry project id>`.
    pub project: String,
    pub content_hash: [u8; 32],
    /// [`key_hash`] at probe 0.
    pub key_hash: i64,
    pub raw_hash: Vec<u8>,
    /// The origin's part of the source (its first bytes) and the line.
    pub source_head: usize,
    pub line: Option<i64>,
}

impl PreparedCredit {
    pub(crate) fn source_head(&self) -> &str {
        &self.provenance.source[..self.source_head]
    }
}

/// A valid project ready to write.
pub(crate) struct PreparedProject {
    pub record: Project,
    pub provenance: carbonmesh_model::Provenance,
    pub key: String,
    pub content_hash: [u8; 32],
    pub extra: Option<String>,
    pub raw_hash: Vec<u8>,
    pub source_head: usize,
    pub line: Option<i64>,
}

impl PreparedProject {
    pub(crate) fn source_head(&self) -> &str {
        &self.provenance.source[..self.source_head]
    }
}

/// A record that failed validation, kept with its JSON as the raw text.
fn rejected<T: serde::Serialize>(
    connector: &str,
    provenance: &carbonmesh_model::Provenance,
    record: &T,
    error: carbonmesh_model::ValidationError,
) -> StoreResult<RejectedRecord> {
    Ok(RejectedRecord {
        connector: connector.to_owned(),
        source: provenance.source.clone(),
        line: None,
        field: Some(error.field.clone()),
        reason: error.to_string(),
        raw: serde_json::to_string(record)?,
        run_id: provenance.run_id,
        rejected_at: provenance.fetched_at,
        last_seen_at: provenance.fetched_at,
        seen_count: 1,
    })
}

/// Validates and hashes credit records; invalid ones go to `rejected`.
pub(crate) fn credits(
    batch: Vec<Stamped<CreditRecord>>,
    rejected: &mut Vec<RejectedRecord>,
) -> StoreResult<Vec<PreparedCredit>> {
    let mut out = Vec::with_capacity(batch.len());
    for Stamped { record, provenance } in batch {
        if let Err(error) = record.validate() {
            rejected.push(self::rejected(
                record.registry.as_str(),
                &provenance,
                &record,
                error,
            )?);
            continue;
        }
        let (head, line) = split_source(&provenance.source);
        let source_head = head.len();
        out.push(PreparedCredit {
            project: record.project_id(),
            content_hash: credit_hash(&record),
            key_hash: key_hash(record.registry.as_str(), &record.record_key, 0),
            raw_hash: hash_bytes(&provenance.raw_hash),
            source_head,
            line,
            record,
            provenance,
        });
    }
    Ok(out)
}

/// Validates and hashes projects; invalid ones go to `rejected`.
pub(crate) fn projects(
    batch: Vec<Stamped<Project>>,
    rejected: &mut Vec<RejectedRecord>,
) -> StoreResult<Vec<PreparedProject>> {
    let mut out = Vec::with_capacity(batch.len());
    for Stamped { record, provenance } in batch {
        if let Err(error) = record.validate() {
            rejected.push(self::rejected(
                record.registry.as_str(),
                &provenance,
                &record,
                error,
            )?);
            continue;
        }
        let (head, line) = split_source(&provenance.source);
        let source_head = head.len();
        out.push(PreparedProject {
            key: record.id(),
            content_hash: project_hash(&record)?,
            extra: crate::records::encode::project_extra(&record)?,
            raw_hash: hash_bytes(&provenance.raw_hash),
            source_head,
            line,
            record,
            provenance,
        });
    }
    Ok(out)
}
