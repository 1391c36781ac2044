//! Isometric publishes no unit serials: identity is the record id (`iss_…`, `ctb_…`, `ret_…`)
//! and quantities are exact in kilograms.
//!
//! carbonmesh gives each record a synthetic range `1..=kilograms` in its own namespace
//! `isometric:<record id>`. Two different records never share a namespace, so synthetic ranges
//! can never produce an overlap that the data does not show. The text form is
//! `ISOMETRIC:<record id>:<start>-<end>`.

use carbonmesh_model::{MAX_UNIT_NUMBER, RegistryId};
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::scan::{Cursor, ordered, prepare};
use crate::{Grammar, SerialError};

/// The record behind a synthetic Isometric range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsometricFields {
    /// Issuance, credit batch or retirement id.
    pub record_id: String,
}

impl IsometricFields {
    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        put(m, "batch", self.record_id.clone());
    }
}

const G: Grammar = Grammar::Isometric;

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn build(id: &str, r: UnitRange) -> ParsedSerial {
    ParsedSerial {
        registry: RegistryId::ISOMETRIC,
        namespace: format!("isometric:{id}"),
        range: Some(r),
        unit: UnitOfAccount::Kilogram,
        encoded: Encoded::Isometric(IsometricFields {
            record_id: id.to_owned(),
        }),
    }
}

/// The synthetic range of one Isometric record holding `credit_kgs` kilograms.
pub fn isometric_record(record_id: &str, credit_kgs: u64) -> Result<ParsedSerial, SerialError> {
    let id = prepare(record_id)?;
    if !valid_id(id) {
        return Err(SerialError::BadField {
            grammar: G,
            field: 1,
            name: "record id",
            expected: "letters, digits and `_` (e.g. iss_1KP6EDZ8K1S036PY)",
        });
    }
    if credit_kgs == 0 {
        return Err(SerialError::EmptyRange { grammar: G });
    }
    if credit_kgs > MAX_UNIT_NUMBER {
        return Err(SerialError::NumberTooLarge {
            grammar: G,
            field: 2,
        });
    }
    Ok(build(
        id,
        UnitRange {
            start: 1,
            end: credit_kgs,
        },
    ))
}

/// Parses the text form `ISOMETRIC:<record id>:<start>-<end>`.
pub(crate) fn parse(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, G);
    c.lit(b"ISOMETRIC:", 1, "ISOMETRIC tag")?;
    let id_start = c.i;
    while c
        .peek()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        c.i += 1;
    }
    let id = &s[id_start..c.i];
    if !valid_id(id) {
        return Err(c.bad(2, "record id", "letters, digits and `_`"));
    }
    c.sep(b':', 2, "record id")?;
    let start = c.num(3, "range start")?.value;
    c.sep(b'-', 3, "range start")?;
    let end = c.num(4, "range end")?.value;
    c.finish()?;
    ordered(G, start, end)?;
    Ok(build(id, UnitRange { start, end }))
}
