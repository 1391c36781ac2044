//! Backend-independent preparation of a batch upsert.
//!
//! A batch is validated, hashed and serialized once, in Rust, then sent to the database as one
//! JSON document per chunk: one bound parameter whatever the chunk size, so no bind-parameter
//! limit applies and the database parses rows in C instead of sqlx binding them one by one.

use std::collections::{HashMap, HashSet};

use carbonmesh_model::{
    CreditRecord, Project, RecordKind, RegistryId, RejectedRecord, ValidationError,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::{Stamped, StoreError};

/// Records per statement: large enough to amortize round trips, small enough to keep
/// transactions and the JSON document short.
pub(crate) const CHUNK_RECORDS: usize = 5_000;

/// A record type the store versions.
pub(crate) trait Versioned: Serialize {
    const KIND: RecordKind;
    fn registry(&self) -> RegistryId;
    /// The natural key within the registry.
    fn key(&self) -> &str;
    fn check(&self) -> Result<(), ValidationError>;
    /// The table-specific columns, in the order the upsert statement reads them.
    fn write_columns(&self, row: &mut RowWriter<'_>);
}

impl Versioned for Project {
    const KIND: RecordKind = RecordKind::Project;
    fn registry(&self) -> RegistryId {
        self.registry
    }
    fn key(&self) -> &str {
        &self.registry_project_id
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
    fn write_columns(&self, row: &mut RowWriter<'_>) {
        row.str(&self.id());
        row.str(self.registry.as_str());
        row.str(&self.registry_project_id);
        row.str(&self.name);
        row.opt_str(self.developer.as_deref());
        row.opt_str(self.country.as_deref());
        row.opt_str(self.country_raw.as_deref());
        row.opt_str(self.sector.as_deref());
        row.opt_str(self.category.as_deref());
        row.opt_str(self.project_type.as_deref());
        row.opt_str(self.methodology.as_deref());
        row.opt_str(self.status.as_ref().map(|s| s.value.as_str()));
        row.opt_str(self.status.as_ref().map(|s| s.raw.as_str()));
    }
}

impl Versioned for CreditRecord {
    const KIND: RecordKind = RecordKind::Credit;
    fn registry(&self) -> RegistryId {
        self.registry
    }
    fn key(&self) -> &str {
        &self.record_key
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
    fn write_columns(&self, row: &mut RowWriter<'_>) {
        let range = self.serial_range.as_ref();
        row.str(self.registry.as_str());
        row.str(&self.record_key);
        row.str(&self.project_id());
        row.str(self.transaction_type.value.as_str());
        row.str(&self.transaction_type.raw);
        row.str(&self.quantity.to_string());
        row.opt_str(self.serial.as_deref());
        row.opt_str(range.map(|r| r.namespace.as_str()));
        // validate() guarantees bounds fit the signed 64-bit column.
        row.opt_int(range.map(|r| r.start as i64));
        row.opt_int(range.map(|r| r.end as i64));
        row.opt_int(self.vintage.map(i64::from));
        row.opt_str(self.event_date.map(|d| d.to_string()).as_deref());
        row.str(self.status.value.as_str());
        row.str(&self.status.raw);
    }
}

/// Appends one JSON array (a row) to a buffer, element by element.
pub(crate) struct RowWriter<'a> {
    buf: &'a mut String,
    first: bool,
}

impl<'a> RowWriter<'a> {
    fn open(buf: &'a mut String) -> Self {
        buf.push('[');
        Self { buf, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(',');
        }
        self.first = false;
    }

    pub(crate) fn str(&mut self, value: &str) {
        self.sep();
        push_json_string(self.buf, value);
    }

    pub(crate) fn opt_str(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.str(v),
            None => self.raw("null"),
        }
    }

    pub(crate) fn int(&mut self, value: i64) {
        self.sep();
        self.buf.push_str(&value.to_string());
    }

    pub(crate) fn opt_int(&mut self, value: Option<i64>) {
        match value {
            Some(v) => self.int(v),
            None => self.raw("null"),
        }
    }

    /// Appends text that is already JSON.
    pub(crate) fn raw(&mut self, json: &str) {
        self.sep();
        self.buf.push_str(json);
    }

    fn close(self) {
        self.buf.push(']');
    }
}

/// Appends `value` as a JSON string literal.
fn push_json_string(buf: &mut String, value: &str) {
    buf.push('"');
    let mut plain_from = 0;
    for (i, c) in value.char_indices() {
        let escape = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        buf.push_str(&value[plain_from..i]);
        if escape.is_empty() {
            buf.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            buf.push_str(escape);
        }
        plain_from = i + c.len_utf8();
    }
    buf.push_str(&value[plain_from..]);
    buf.push('"');
}

/// One record of a chunk, kept to write its version row once the database says it changed.
struct Pending {
    registry: RegistryId,
    key: String,
    content_hash: String,
    payload: String,
    provenance_index: usize,
}

/// One statement's worth of records, each key at most once.
pub(crate) struct Chunk {
    /// JSON array of rows for the current-record table.
    pub rows: String,
    pending: HashMap<(RegistryId, String), Pending>,
}

impl Chunk {
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// JSON array of `record_versions` rows for the records the upsert reported as new or
    /// changed, `(registry, key, version)`.
    pub(crate) fn version_rows<T: Versioned>(
        &self,
        written: &[(String, String, i64)],
        batch: &[Stamped<T>],
        recorded_at: &str,
    ) -> Result<String, StoreError> {
        let mut out = String::with_capacity(written.len() * 512);
        out.push('[');
        for (i, (registry, key, version)) in written.iter().enumerate() {
            let registry: RegistryId = registry.parse().map_err(|_| StoreError::Corrupt {
                column: "registry",
                value: registry.clone(),
            })?;
            let pending =
                self.pending
                    .get(&(registry, key.clone()))
                    .ok_or_else(|| StoreError::Corrupt {
                        column: "record_key",
                        value: format!("{registry}:{key} returned by an upsert it was not part of"),
                    })?;
            let provenance = &batch[pending.provenance_index].provenance;
            if i > 0 {
                out.push(',');
            }
            let mut row = RowWriter::open(&mut out);
            row.str(T::KIND.as_str());
            row.str(pending.registry.as_str());
            row.str(&pending.key);
            row.int(*version);
            row.str(&pending.content_hash);
            row.raw(&pending.payload);
            row.str(&provenance.source);
            row.str(&provenance.raw_hash);
            row.str(&timestamp(provenance.fetched_at));
            row.opt_int(provenance.run_id);
            row.str(recorded_at);
            row.close();
        }
        out.push(']');
        Ok(out)
    }
}

/// A batch split into chunks, and the records that failed validation.
pub(crate) struct Prepared {
    pub chunks: Vec<Chunk>,
    pub rejected: Vec<RejectedRecord>,
}

/// Validates, hashes and serializes a batch.
///
/// A key that appears twice starts a new chunk, so the second occurrence is applied after the
/// first, exactly as if the records had arrived one by one. Within a chunk rows are sorted by
/// key, so concurrent writers lock rows in the same order and cannot deadlock.
pub(crate) fn prepare<T: Versioned>(batch: &[Stamped<T>]) -> Result<Prepared, StoreError> {
    let rejected_at = Utc::now();
    let mut rejected = Vec::new();
    let mut groups: Vec<Vec<(usize, String, String)>> = vec![Vec::new()];
    let mut keys_in_group: HashSet<(RegistryId, &str)> = HashSet::new();

    for (index, stamped) in batch.iter().enumerate() {
        let record = &stamped.record;
        let payload = serde_json::to_string(record)?;
        if let Err(error) = record.check() {
            rejected.push(RejectedRecord {
                connector: record.registry().as_str().to_owned(),
                source: stamped.provenance.source.clone(),
                line: None,
                field: Some(error.field.clone()),
                reason: error.to_string(),
                raw: payload,
                run_id: stamped.provenance.run_id,
                rejected_at,
            });
            continue;
        }
        let hash = carbonmesh_model::sha256_hex(payload.as_bytes());
        let identity = (record.registry(), record.key());
        let group_full = groups.last().is_some_and(|g| g.len() >= CHUNK_RECORDS);
        if group_full || keys_in_group.contains(&identity) {
            groups.push(Vec::new());
            keys_in_group.clear();
        }
        keys_in_group.insert(identity);
        if let Some(group) = groups.last_mut() {
            group.push((index, payload, hash));
        }
    }

    let chunks = groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|mut group| {
            group.sort_by(|a, b| {
                let (ra, rb) = (&batch[a.0].record, &batch[b.0].record);
                (ra.registry(), ra.key()).cmp(&(rb.registry(), rb.key()))
            });
            build_chunk(batch, group)
        })
        .collect();
    Ok(Prepared { chunks, rejected })
}

fn build_chunk<T: Versioned>(batch: &[Stamped<T>], group: Vec<(usize, String, String)>) -> Chunk {
    let mut rows = String::with_capacity(group.len() * 400);
    let mut pending = HashMap::with_capacity(group.len());
    rows.push('[');
    for (i, (index, payload, hash)) in group.into_iter().enumerate() {
        let Stamped { record, provenance } = &batch[index];
        if i > 0 {
            rows.push(',');
        }
        let mut row = RowWriter::open(&mut rows);
        record.write_columns(&mut row);
        row.str(&hash);
        row.str(&provenance.source);
        row.str(&provenance.raw_hash);
        row.str(&timestamp(provenance.fetched_at));
        row.opt_int(provenance.run_id);
        row.close();
        pending.insert(
            (record.registry(), record.key().to_owned()),
            Pending {
                registry: record.registry(),
                key: record.key().to_owned(),
                content_hash: hash,
                payload,
                provenance_index: index,
            },
        );
    }
    rows.push(']');
    Chunk { rows, pending }
}

/// RFC 3339 with microseconds in UTC: sorts as text in SQLite, parses in PostgreSQL.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_like_serde_json() {
        for value in [
            "plain",
            "quote \" and \\ slash",
            "line\nbreak\ttab\r",
            "\u{1}ctrl",
            "ünïcødé ✓",
        ] {
            let mut buf = String::new();
            push_json_string(&mut buf, value);
            assert_eq!(buf, serde_json::to_string(value).expect("serialize"));
        }
    }
}
