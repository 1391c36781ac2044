//! Kyoto unit serials (CDM CERs), also found inside Gold Standard records.
//!
//! One unit: `PP-T-N-OCP-ACP-L-PRJ` (party of origin, unit type, unit number, original and
//! applicable commitment period, LULUCF activity, CDM project). A block is two full unit ids
//! joined by `" - "`; every field but the unit number must agree on both ends.

use std::fmt;

use carbonmesh_model::RegistryId;
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::scan::{Code2, Cursor, ordered, push_u64};
use crate::{Grammar, SerialError};

/// CDM unit types of the Kyoto serial (Decision 13/CMP.1 numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KyotoUnitType {
    /// 5: certified emission reduction.
    Cer,
    /// 6: temporary CER.
    Tcer,
    /// 7: long-term CER.
    Lcer,
}

impl KyotoUnitType {
    /// The digit printed in the serial.
    pub fn code(self) -> u8 {
        match self {
            KyotoUnitType::Cer => 5,
            KyotoUnitType::Tcer => 6,
            KyotoUnitType::Lcer => 7,
        }
    }

    /// Short name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            KyotoUnitType::Cer => "CER",
            KyotoUnitType::Tcer => "tCER",
            KyotoUnitType::Lcer => "lCER",
        }
    }
}

/// What a Kyoto serial encodes besides the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KyotoFields {
    /// Party of origin (host country), ISO 3166-1 alpha-2.
    pub party: Code2,
    /// Unit type.
    pub unit_type: KyotoUnitType,
    /// Original commitment period.
    pub original_commitment_period: u64,
    /// Applicable commitment period.
    pub applicable_commitment_period: u64,
    /// LULUCF activity code (0 = none).
    pub lulucf_activity: u64,
    /// CDM project reference number.
    pub project: u64,
}

impl KyotoFields {
    fn write_one(&self, f: &mut fmt::Formatter<'_>, n: u64) -> fmt::Result {
        write!(
            f,
            "{}-{}-{}-{}-{}-{}-{}",
            self.party,
            self.unit_type.code(),
            n,
            self.original_commitment_period,
            self.applicable_commitment_period,
            self.lulucf_activity,
            self.project
        )
    }

    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, r: UnitRange) -> fmt::Result {
        self.write_one(f, r.start)?;
        f.write_str(" - ")?;
        self.write_one(f, r.end)
    }

    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        put(m, "country", self.party.as_str());
        put(m, "unit_type", self.unit_type.as_str());
        put(
            m,
            "original_commitment_period",
            self.original_commitment_period,
        );
        put(
            m,
            "applicable_commitment_period",
            self.applicable_commitment_period,
        );
        put(m, "lulucf_activity", self.lulucf_activity);
    }
}

const G: Grammar = Grammar::Kyoto;

fn unit(c: &mut Cursor<'_>, base: u8) -> Result<(KyotoFields, u64), SerialError> {
    let party = c.upper2(base + 1, "party of origin")?;
    c.sep(b'-', base + 1, "party of origin")?;
    let unit_type = match c.num(base + 2, "unit type")?.value {
        5 => KyotoUnitType::Cer,
        6 => KyotoUnitType::Tcer,
        7 => KyotoUnitType::Lcer,
        _ => {
            return Err(SerialError::BadField {
                grammar: G,
                field: base + 2,
                name: "unit type",
                expected: "a CDM unit type (5 CER, 6 tCER, 7 lCER)",
            });
        }
    };
    c.sep(b'-', base + 2, "unit type")?;
    let n = c.num(base + 3, "unit number")?.value;
    c.sep(b'-', base + 3, "unit number")?;
    let ocp = c.num(base + 4, "original commitment period")?.value;
    c.sep(b'-', base + 4, "original commitment period")?;
    let acp = c.num(base + 5, "applicable commitment period")?.value;
    c.sep(b'-', base + 5, "applicable commitment period")?;
    let lulucf = c.num(base + 6, "LULUCF activity")?.value;
    c.sep(b'-', base + 6, "LULUCF activity")?;
    let project = c.num(base + 7, "project")?.value;
    Ok((
        KyotoFields {
            party,
            unit_type,
            original_commitment_period: ocp,
            applicable_commitment_period: acp,
            lulucf_activity: lulucf,
            project,
        },
        n,
    ))
}

fn agree(a: &KyotoFields, b: &KyotoFields) -> Result<(), SerialError> {
    let name = if a.party != b.party {
        "party of origin"
    } else if a.unit_type != b.unit_type {
        "unit type"
    } else if a.original_commitment_period != b.original_commitment_period {
        "original commitment period"
    } else if a.applicable_commitment_period != b.applicable_commitment_period {
        "applicable commitment period"
    } else if a.lulucf_activity != b.lulucf_activity {
        "LULUCF activity"
    } else if a.project != b.project {
        "project"
    } else {
        return Ok(());
    };
    Err(SerialError::EndsDisagree { grammar: G, name })
}

/// The namespace: party of origin and unit type (`cdm:RW-5`).
fn namespace(f: &KyotoFields) -> String {
    let mut s = String::with_capacity(8);
    s.push_str("cdm:");
    s.push_str(f.party.as_str());
    s.push('-');
    push_u64(&mut s, u64::from(f.unit_type.code()));
    s
}

/// Parses one unit id or a `" - "`-joined block of two unit ids.
pub(crate) fn parse(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, G);
    let (f, start) = unit(&mut c, 0)?;
    let end = if c.at_end() {
        start
    } else {
        // The registry writes `" - "`; spaces around the joining hyphen are optional.
        while c.peek() == Some(b' ') {
            c.i += 1;
        }
        c.sep(b'-', 7, "range separator")?;
        while c.peek() == Some(b' ') {
            c.i += 1;
        }
        let (g, end) = unit(&mut c, 7)?;
        c.finish()?;
        agree(&f, &g)?;
        end
    };
    ordered(G, start, end)?;
    Ok(ParsedSerial {
        registry: RegistryId::CDM,
        namespace: namespace(&f),
        range: Some(UnitRange { start, end }),
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Kyoto(f),
    })
}
