//! Backend-independent preparation of a batch upsert.
//!
//! A batch is validated, hashed and serialized once, in Rust, into chunks sorted by key. Rows
//! of column values borrow from the batch where they can; the backends bind them as multi-row
//! `VALUES` statements (SQLite) or one array per column (PostgreSQL, see `sql.rs`).

use carbonmesh_model::{CreditRecord, Project, RegistryId, RejectedRecord, ValidationError};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashSet;

use crate::{Stamped, StoreError};

/// Records per chunk: large enough to amortize round trips, small enough to keep the bound
/// arrays and the sort short.
pub(crate) const CHUNK_RECORDS: usize = 10_000;

/// A record type the store versions.
pub(crate) trait Versioned: Serialize {
    fn registry(&self) -> RegistryId;
    /// The natural key within the registry.
    fn key(&self) -> &str;
    fn check(&self) -> Result<(), ValidationError>;
    /// The columns of the table's unique key, in the order of its key list in `sql.rs`.
    fn write_key<'a>(&'a self, row: &mut Row<'_, 'a>);
    /// The table-specific columns, in the order of the table's column list in `sql.rs`.
    fn write_columns<'a>(&'a self, row: &mut Row<'_, 'a>);
}

impl Versioned for Project {
    fn registry(&self) -> RegistryId {
        self.registry
    }
    fn key(&self) -> &str {
        &self.registry_project_id
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
    fn write_key<'a>(&'a self, row: &mut Row<'_, 'a>) {
        row.text(self.id());
    }
    fn write_columns<'a>(&'a self, row: &mut Row<'_, 'a>) {
        row.text(self.id());
        row.text(self.registry.as_str());
        row.text(self.registry_project_id.as_str());
        row.text(self.name.as_str());
        row.opt_text(self.developer.as_deref());
        row.opt_text(self.country.as_deref());
        row.opt_text(self.country_raw.as_deref());
        row.opt_text(self.sector.as_deref());
        row.opt_text(self.category.as_deref());
        row.opt_text(self.project_type.as_deref());
        row.opt_text(self.methodology.as_deref());
        row.opt_text(self.status.as_ref().map(|s| s.value.as_str()));
        row.opt_text(self.status.as_ref().map(|s| s.raw.as_str()));
    }
}

impl Versioned for CreditRecord {
    fn registry(&self) -> RegistryId {
        self.registry
    }
    fn key(&self) -> &str {
        &self.record_key
    }
    fn check(&self) -> Result<(), ValidationError> {
        self.validate()
    }
    fn write_key<'a>(&'a self, row: &mut Row<'_, 'a>) {
        row.text(self.registry.as_str());
        row.text(self.record_key.as_str());
    }
    fn write_columns<'a>(&'a self, row: &mut Row<'_, 'a>) {
        let range = self.serial_range.as_ref();
        row.text(self.registry.as_str());
        row.text(self.record_key.as_str());
        row.text(self.project_id());
        row.text(self.transaction_type.value.as_str());
        row.text(self.transaction_type.raw.as_str());
        row.text(self.quantity.to_string());
        row.opt_text(self.serial.as_deref());
        row.opt_text(range.map(|r| r.namespace.as_str()));
        // validate() guarantees bounds fit the signed 64-bit column.
        row.opt_int(range.map(|r| r.start as i64));
        row.opt_int(range.map(|r| r.end as i64));
        row.opt_int(self.vintage.map(i64::from));
        row.opt_text(self.event_date.map(|d| d.to_string()));
        row.text(self.status.value.as_str());
        row.text(self.status.raw.as_str());
    }
}

/// One bound value: borrowed from the batch where it can be, owned where it is computed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
}

/// Records ready to write, their values copied into one buffer: a writer thread takes them
/// with a handful of allocations instead of one per value.
#[derive(Default)]
pub(crate) struct OwnedRows {
    text: String,
    values: Vec<Slot>,
    rows: Vec<OwnedRow>,
}

/// A value of [`OwnedRows`], text as a range of its buffer.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Null,
    Text(usize, usize),
    Int(i64),
}

/// One record of [`OwnedRows`]: ranges of its values.
struct OwnedRow {
    key: std::ops::Range<usize>,
    columns: std::ops::Range<usize>,
    content_hash: (usize, usize),
}

/// One record of [`OwnedRows`], borrowed.
pub(crate) struct RowRef<'a> {
    rows: &'a OwnedRows,
    row: &'a OwnedRow,
}

impl OwnedRows {
    pub(crate) fn iter(&self) -> impl Iterator<Item = RowRef<'_>> {
        self.rows.iter().map(move |row| RowRef { rows: self, row })
    }

    fn push_text(&mut self, text: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(text);
        (start, self.text.len())
    }

    fn push_values(&mut self, values: &[Value<'_>]) -> std::ops::Range<usize> {
        let start = self.values.len();
        for value in values {
            let slot = match value {
                Value::Null => Slot::Null,
                Value::Int(int) => Slot::Int(*int),
                Value::Text(text) => {
                    let (from, to) = self.push_text(text);
                    Slot::Text(from, to)
                }
            };
            self.values.push(slot);
        }
        start..self.values.len()
    }

    fn value(&self, slot: Slot) -> Value<'_> {
        match slot {
            Slot::Null => Value::Null,
            Slot::Int(int) => Value::Int(int),
            Slot::Text(from, to) => Value::Text(Cow::Borrowed(&self.text[from..to])),
        }
    }
}

impl<'a> RowRef<'a> {
    /// The table's unique key columns.
    pub(crate) fn key(&self) -> impl ExactSizeIterator<Item = Value<'a>> + use<'a> {
        let rows = self.rows;
        rows.values[self.row.key.clone()]
            .iter()
            .map(move |&slot| rows.value(slot))
    }

    /// The current-table columns up to the version (`Chunk::rows` without the last two).
    pub(crate) fn columns(&self) -> impl ExactSizeIterator<Item = Value<'a>> + use<'a> {
        let rows = self.rows;
        rows.values[self.row.columns.clone()]
            .iter()
            .map(move |&slot| rows.value(slot))
    }

    pub(crate) fn content_hash(&self) -> &'a str {
        let (from, to) = self.row.content_hash;
        &self.rows.text[from..to]
    }
}

/// Appends one row's values to a chunk's flat, row-major value list.
pub(crate) struct Row<'r, 'a>(&'r mut Vec<Value<'a>>);

impl<'a> Row<'_, 'a> {
    pub(crate) fn text(&mut self, value: impl Into<Cow<'a, str>>) {
        self.0.push(Value::Text(value.into()));
    }

    pub(crate) fn opt_text<V: Into<Cow<'a, str>>>(&mut self, value: Option<V>) {
        self.0
            .push(value.map_or(Value::Null, |v| Value::Text(v.into())));
    }

    pub(crate) fn int(&mut self, value: i64) {
        self.0.push(Value::Int(value));
    }

    pub(crate) fn opt_int(&mut self, value: Option<i64>) {
        self.0.push(value.map_or(Value::Null, Value::Int));
    }
}

/// One valid record of a chunk, serialized and hashed.
struct Pending {
    index: usize,
    content_hash: String,
    fetched_at: String,
    payload: String,
}

/// One statement's worth of records, each key at most once, sorted by key.
pub(crate) struct Chunk<'b, T> {
    batch: &'b [Stamped<T>],
    pending: Vec<Pending>,
}

impl<T: Versioned> Chunk<'_, T> {
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// `(ord, key…, content_hash)` of the records at positions `which` (ascending) of the
    /// chunk, `ord` being the position.
    pub(crate) fn key_rows(&self, which: &[usize]) -> Vec<Value<'_>> {
        let mut values = Vec::with_capacity(which.len() * 4);
        for &ord in which {
            let p = &self.pending[ord];
            let mut row = Row(&mut values);
            row.int(ord as i64);
            self.batch[p.index].record.write_key(&mut row);
            row.text(p.content_hash.as_str());
        }
        values
    }

    /// The full current-table rows of the records at positions `which` (ascending), each with
    /// the version it is written as, stamped `now`.
    pub(crate) fn rows<'s>(&'s self, which: &[(usize, i64)], now: &'s str) -> Vec<Value<'s>> {
        let mut values = Vec::with_capacity(which.len() * 24);
        for &(ord, version) in which {
            let mut row = Row(&mut values);
            self.write_current(ord, &mut row);
            row.int(version);
            row.text(now);
        }
        values
    }

    /// The current-table columns of the record at position `ord`, up to the version.
    fn write_current<'s>(&'s self, ord: usize, row: &mut Row<'_, 's>) {
        let p = &self.pending[ord];
        let Stamped { record, provenance } = &self.batch[p.index];
        record.write_columns(row);
        row.text(p.payload.as_str());
        row.text(p.content_hash.as_str());
        row.text(provenance.source.as_str());
        row.text(provenance.raw_hash.as_str());
        row.text(p.fetched_at.as_str());
        row.opt_int(provenance.run_id);
    }

    /// Copies the chunk's records, in chunk order, into `out` for a writer thread.
    pub(crate) fn copy_into(&self, out: &mut OwnedRows) {
        let mut scratch = Vec::with_capacity(32);
        for ord in 0..self.len() {
            scratch.clear();
            self.batch[self.pending[ord].index]
                .record
                .write_key(&mut Row(&mut scratch));
            let key = out.push_values(&scratch);
            scratch.clear();
            self.write_current(ord, &mut Row(&mut scratch));
            let columns = out.push_values(&scratch);
            let content_hash = out.push_text(&self.pending[ord].content_hash);
            out.rows.push(OwnedRow {
                key,
                columns,
                content_hash,
            });
        }
    }

    /// The position in the chunk of the record a statement returned by `(registry, key)`.
    pub(crate) fn position(&self, registry: &str, key: &str) -> Result<usize, StoreError> {
        let batch = self.batch;
        self.pending
            .binary_search_by(|p| {
                let r = &batch[p.index].record;
                (r.registry().as_str(), r.key()).cmp(&(registry, key))
            })
            .map_err(|_| StoreError::Corrupt {
                column: "record_key",
                value: format!("{registry}:{key} returned by a write it was not part of"),
            })
    }
}

/// A batch split into chunks, and the records that failed validation.
pub(crate) struct Prepared<'b, T> {
    pub chunks: Vec<Chunk<'b, T>>,
    pub rejected: Vec<RejectedRecord>,
}

/// Validates, hashes and serializes a batch.
///
/// A key that appears twice starts a new chunk, so the second occurrence is applied after the
/// first, exactly as if the records had arrived one by one. Within a chunk rows are sorted by
/// key, so concurrent writers lock rows in the same order and cannot deadlock.
pub(crate) fn prepare<T: Versioned>(batch: &[Stamped<T>]) -> Result<Prepared<'_, T>, StoreError> {
    let rejected_at = Utc::now();
    let mut rejected = Vec::new();
    let mut chunks = vec![Chunk {
        batch,
        pending: Vec::new(),
    }];
    let mut keys_in_chunk: HashSet<(RegistryId, &str)> = HashSet::new();

    for (index, stamped) in batch.iter().enumerate() {
        let record = &stamped.record;
        let mut payload = Vec::with_capacity(1024);
        serde_json::to_writer(&mut payload, record)?;
        // serde_json writes UTF-8 only.
        let payload = String::from_utf8(payload).map_err(|e| StoreError::Corrupt {
            column: "payload",
            value: e.to_string(),
        })?;
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
        let identity = (record.registry(), record.key());
        let chunk_full = chunks.last().is_some_and(|c| c.len() >= CHUNK_RECORDS);
        if chunk_full || keys_in_chunk.contains(&identity) {
            chunks.push(Chunk {
                batch,
                pending: Vec::new(),
            });
            keys_in_chunk.clear();
        }
        keys_in_chunk.insert(identity);
        if let Some(chunk) = chunks.last_mut() {
            chunk.pending.push(Pending {
                index,
                content_hash: sha256_hex(payload.as_bytes()),
                fetched_at: timestamp(stamped.provenance.fetched_at),
                payload,
            });
        }
    }

    chunks.retain(|c| !c.pending.is_empty());
    for chunk in &mut chunks {
        chunk.pending.sort_unstable_by(|a, b| {
            let (ra, rb) = (&batch[a.index].record, &batch[b.index].record);
            (ra.registry().as_str(), ra.key()).cmp(&(rb.registry().as_str(), rb.key()))
        });
    }
    Ok(Prepared { chunks, rejected })
}

/// Same digest as `carbonmesh_model::sha256_hex`, written into one allocation instead of
/// collected char by char: it runs once per record.
fn sha256_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    hex
}

/// RFC 3339 with microseconds in UTC: sorts as text in SQLite, parses in PostgreSQL.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_matches_the_model_digest() {
        for text in ["", "carbonmesh", "{\"quantity\":\"10\"}"] {
            assert_eq!(
                sha256_hex(text.as_bytes()),
                carbonmesh_model::sha256_hex(text.as_bytes())
            );
        }
    }
}
