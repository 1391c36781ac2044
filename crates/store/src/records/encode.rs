//! How a record becomes a compact row and back: pure functions, no I/O.
//!
//! - Quantities are exact integers of kilograms (a thousandth of a tonne, the finest unit a
//!   registry publishes: Isometric's `credit_kgs`); a quantity with more fraction digits, or
//!   of a trillion tonnes or more, keeps its exact decimal text instead.
//! - Days are days since 1970-01-01 in SQLite and `date` in PostgreSQL; instants are
//!   microseconds since the epoch in SQLite and `timestamptz` in PostgreSQL.
//! - Hashes are 32 bytes. A raw hash that is not 64 hex digits is kept as its own bytes.
//! - Provenance is a reference to an origin (source, fetch time, run) and a line: the trailing
//!   number of a source (`file.csv:12`, `…#line=12`) is the line, the rest the origin's source.
//! - A serial equal to the record key is stored once (flag [`SERIAL_IS_KEY`]).

use carbonmesh_model::{CreditRecord, Period, Project, RegistryId};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::{StoreError, StoreResult};

/// Flag: the serial is the record key (and is not stored a second time).
pub(crate) const SERIAL_IS_KEY: i64 = 1;
/// Flag: the record has a monitoring period (whose ends may both be unknown).
pub(crate) const HAS_PERIOD: i64 = 2;

/// Kilograms per tonne: quantities are stored as integer kilograms.
const KG_PER_UNIT: i64 = 1_000;
/// Quantities from this many tonnes on are kept as text: sums of kilograms stay far from
/// the 64-bit limit.
const MAX_KG_UNITS: i64 = 1_000_000_000_000;

/// The number identifying a record key within a registry in the key index: the first eight
/// bytes of sha256(registry, key, probe). `probe` is 0 unless another key of the registry
/// already holds that number (about one chance in 10^7 among a million keys), in which case
/// the next probe is tried, as in open addressing; records are never deleted, so a lookup
/// that meets an empty slot knows the key is absent.
pub fn key_hash(registry: &str, record_key: &str, probe: u32) -> i64 {
    let mut h = Sha256::new();
    h.update(registry.as_bytes());
    h.update([0]);
    h.update(record_key.as_bytes());
    if probe > 0 {
        h.update([0]);
        h.update(probe.to_le_bytes());
    }
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// A quantity as integer kilograms, or as exact text when kilograms cannot hold it.
pub(crate) fn quantity_parts(quantity: Decimal) -> (Option<i64>, Option<String>) {
    let q = quantity.normalize();
    if q.scale() <= 3
        && let Some(kg) = (q * Decimal::from(KG_PER_UNIT))
            .round()
            .to_string()
            .parse::<i64>()
            .ok()
        && kg.abs() < MAX_KG_UNITS * KG_PER_UNIT
    {
        return (Some(kg), None);
    }
    (None, Some(q.to_string()))
}

/// The quantity of [`quantity_parts`].
pub(crate) fn quantity_from(kg: Option<i64>, text: Option<&str>) -> StoreResult<Decimal> {
    match (kg, text) {
        (Some(kg), _) => Ok(Decimal::new(kg, 3).normalize()),
        (None, Some(text)) => text.parse().map_err(|_| StoreError::Corrupt {
            column: "quantity_text",
            value: text.to_owned(),
        }),
        (None, None) => Err(StoreError::Corrupt {
            column: "quantity",
            value: "neither kilograms nor text".into(),
        }),
    }
}

/// A source split into the origin's source and the line: the trailing digits (without a
/// leading zero) are the line, when something precedes them.
pub(crate) fn split_source(source: &str) -> (&str, Option<i64>) {
    let digits = source.len() - source.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits == source.len() || digits > 18 {
        return (source, None);
    }
    let (head, tail) = source.split_at(source.len() - digits);
    if tail.len() > 1 && tail.starts_with('0') {
        return (source, None);
    }
    match tail.parse::<i64>() {
        Ok(line) => (head, Some(line)),
        Err(_) => (source, None),
    }
}

/// The source [`split_source`] split.
pub(crate) fn join_source(head: &str, line: Option<i64>) -> String {
    match line {
        Some(line) => format!("{head}{line}"),
        None => head.to_owned(),
    }
}

/// A hex sha256 as its 32 bytes; anything else as its own bytes.
pub(crate) fn hash_bytes(hex_text: &str) -> Vec<u8> {
    if hex_text.len() == 64
        && hex_text
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && let Ok(bytes) = hex::decode(hex_text)
    {
        return bytes;
    }
    hex_text.as_bytes().to_vec()
}

/// The text of [`hash_bytes`].
pub(crate) fn hash_text(bytes: &[u8]) -> String {
    if bytes.len() == 32 {
        hex::encode(bytes)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// The length bucket of a serial block (see `queries::serial`): 0 for one unit, `b` for
/// `end - start` below `4^b` (at least `4^(b-1)`), 32 beyond.
pub(crate) fn serial_bucket(start: u64, end: u64) -> i64 {
    let span = end.saturating_sub(start);
    if span == 0 {
        return 0;
    }
    // 4^b > span  <=>  2b > log2(span)
    let bits = 64 - span.leading_zeros(); // span < 2^bits
    let b = i64::from(bits.div_ceil(2));
    // span in [2^(bits-1), 2^bits): 4^b = 2^(2b) > span when 2b >= bits.
    b.min(32)
}

/// The content hash of a credit record: sha256 of its canonical bytes ([`canonical_credit`]).
pub(crate) fn credit_hash(record: &CreditRecord) -> [u8; 32] {
    let mut h = Sha256::new();
    canonical_credit(record, &mut |bytes| h.update(bytes));
    h.finalize().into()
}

/// The canonical bytes of a credit record, fed to `out`: every field in declaration order,
/// strings and decimals length-prefixed (little-endian u32), optional values behind a
/// presence byte, the quantity in its normalized form. Equal records give equal bytes.
pub(crate) fn canonical_credit(r: &CreditRecord, out: &mut dyn FnMut(&[u8])) {
    fn text(out: &mut dyn FnMut(&[u8]), s: &str) {
        out(&(s.len() as u32).to_le_bytes());
        out(s.as_bytes());
    }
    fn opt_text(out: &mut dyn FnMut(&[u8]), s: Option<&str>) {
        match s {
            None => out(&[0]),
            Some(s) => {
                out(&[1]);
                text(out, s);
            }
        }
    }
    fn opt_day(out: &mut dyn FnMut(&[u8]), d: Option<NaiveDate>) {
        match d {
            None => out(&[0]),
            Some(d) => {
                out(&[1]);
                out(&crate::db::epoch_days(d).to_le_bytes());
            }
        }
    }
    text(out, r.registry.as_str());
    text(out, &r.record_key);
    text(out, &r.registry_project_id);
    text(out, r.transaction_type.value.as_str());
    text(out, &r.transaction_type.raw);
    text(out, &r.quantity.normalize().to_string());
    opt_text(out, r.serial.as_deref());
    match &r.serial_range {
        None => out(&[0]),
        Some(range) => {
            out(&[1]);
            text(out, &range.namespace);
            out(&range.start.to_le_bytes());
            out(&range.end.to_le_bytes());
        }
    }
    match r.vintage {
        None => out(&[0]),
        Some(v) => {
            out(&[1]);
            out(&v.to_le_bytes());
        }
    }
    match &r.monitoring_period {
        None => out(&[0]),
        Some(p) => {
            out(&[1]);
            opt_day(out, p.start);
            opt_day(out, p.end);
        }
    }
    opt_day(out, r.event_date);
    text(out, r.status.value.as_str());
    text(out, &r.status.raw);
    opt_text(out, r.account.as_deref());
    opt_text(out, r.beneficiary.as_deref());
    opt_text(out, r.reason.as_deref());
    opt_text(out, r.note.as_deref());
}

/// The content hash of a project: sha256 of its JSON (projects carry nested lists; they are
/// few, so the simplest canonical form is the right one).
pub(crate) fn project_hash(project: &Project) -> StoreResult<[u8; 32]> {
    let json = serde_json::to_vec(project)?;
    Ok(Sha256::digest(&json).into())
}

/// The list fields of a project, which have no columns: JSON, or `None` when all are empty.
pub(crate) fn project_extra(project: &Project) -> StoreResult<Option<String>> {
    if project.crediting_periods.is_empty()
        && project.locations.is_empty()
        && project.labels.is_empty()
        && project.cross_references.is_empty()
    {
        return Ok(None);
    }
    let extra = ProjectExtra {
        crediting_periods: project.crediting_periods.clone(),
        locations: project.locations.clone(),
        labels: project.labels.clone(),
        cross_references: project.cross_references.clone(),
    };
    Ok(Some(serde_json::to_string(&extra)?))
}

/// The fields of [`project_extra`].
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct ProjectExtra {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crediting_periods: Vec<Period>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<carbonmesh_model::project::Location>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<carbonmesh_model::project::Label>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross_references: Vec<carbonmesh_model::project::CrossReference>,
}

/// Parses a stored registry name.
pub(crate) fn registry(name: &str) -> StoreResult<RegistryId> {
    name.parse().map_err(|_| StoreError::Corrupt {
        column: "registry",
        value: name.to_owned(),
    })
}

/// The registry project id within a project id `<registry>:<id>`.
pub(crate) fn registry_project_id<'a>(registry: &str, project_key: &'a str) -> &'a str {
    project_key
        .strip_prefix(registry)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(project_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_round_trip_exactly() {
        for text in [
            "0",
            "425",
            "2710.062",
            "0.0001234",
            "123456789012345678901",
            "999999999999.999",
            "1000000000000",
            "12.5",
        ] {
            let q: Decimal = text.parse().expect("decimal");
            let (kg, t) = quantity_parts(q);
            assert_eq!(quantity_from(kg, t.as_deref()).expect("back"), q, "{text}");
        }
        assert_eq!(
            quantity_parts("2710.062".parse().expect("d")),
            (Some(2_710_062), None)
        );
        assert_eq!(
            quantity_parts("10.000".parse().expect("d")),
            (Some(10_000), None)
        );
        assert_eq!(quantity_parts("0.0001234".parse().expect("d")).0, None);
        assert_eq!(quantity_parts("1000000000000".parse().expect("d")).0, None);
    }

    #[test]
    fn sources_split_at_their_line_and_join_back() {
        for (source, head, line) in [
            (
                "verra-transactions.csv:2",
                "verra-transactions.csv:",
                Some(2),
            ),
            (
                "https://x/export.csv#line=12",
                "https://x/export.csv#line=",
                Some(12),
            ),
            ("cdm.csv:0012", "cdm.csv:0012", None),
            ("test", "test", None),
            ("12345", "12345", None),
            ("page0", "page", Some(0)),
            ("x:99999999999999999999", "x:99999999999999999999", None),
        ] {
            assert_eq!(split_source(source), (head, line), "{source}");
            assert_eq!(join_source(head, line), source);
        }
    }

    #[test]
    fn hashes_are_bytes_when_hex() {
        let hex_hash = carbonmesh_model::sha256_hex(b"abc");
        assert_eq!(hash_bytes(&hex_hash).len(), 32);
        assert_eq!(hash_text(&hash_bytes(&hex_hash)), hex_hash);
        assert_eq!(hash_text(&hash_bytes("not a hash")), "not a hash");
        assert_eq!(
            hash_text(&hash_bytes(&hex_hash.to_uppercase())),
            hex_hash.to_uppercase()
        );
    }

    #[test]
    fn buckets_follow_powers_of_four() {
        let slow = |span: u64| -> i64 {
            (0..32)
                .find(|&b| u128::from(span) < 1u128 << (2 * b))
                .map_or(32, i64::from)
        };
        for span in [
            0,
            1,
            2,
            3,
            4,
            5,
            15,
            16,
            17,
            63,
            64,
            1 << 20,
            (1 << 62) - 1,
            1 << 62,
            u64::MAX / 2,
        ] {
            assert_eq!(serial_bucket(0, span), slow(span), "{span}");
        }
    }

    #[test]
    fn key_hashes_differ_by_registry_key_and_probe() {
        let a = key_hash("verra", "k", 0);
        assert_ne!(a, key_hash("verra", "k", 1));
        assert_ne!(a, key_hash("acr", "k", 0));
        assert_ne!(a, key_hash("verra", "l", 0));
        assert_eq!(a, key_hash("verra", "k", 0));
    }
}
