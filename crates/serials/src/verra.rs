//! Verra VCU serials, every era.
//!
//! `batch-start-end-[VCS-]VCU-issuer-(VER|MER|APX)-CC-[scope-]project-ddmmyyyy-ddmmyyyy-flag`
//!
//! * APX era: no `VCS` field, origin `APX` (`240-7863589-7889021-VCU-003-APX-IN-1-101-…`).
//! * Markit era: no `VCS` field, origin `MER` (`…-VCU-042-MER-PE-14-1360-…`).
//! * 13-field form: `…-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1`.
//! * 2026 Platts form: like the 13-field form without the sectoral scope.
//!
//! Which optional field is missing is decided by counting the fields after the country, never
//! by assuming (a 12-field serial is missing the scope, not the program).

use std::fmt;

use carbonmesh_model::RegistryId;
use chrono::{Datelike, NaiveDate};
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::scan::{Code2, Cursor, ordered};
use crate::{Grammar, SerialError};

/// The registry platform that wrote the serial (field 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerraOrigin {
    /// `VER`: Verra's own registry.
    Ver,
    /// `MER`: the IHS Markit registry era.
    Mer,
    /// `APX`: the APX registry era.
    Apx,
}

impl VerraOrigin {
    /// The code as printed in the serial.
    pub fn as_str(self) -> &'static str {
        match self {
            VerraOrigin::Ver => "VER",
            VerraOrigin::Mer => "MER",
            VerraOrigin::Apx => "APX",
        }
    }
}

/// The layout era of a Verra serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerraEra {
    /// APX registry, no `VCS` field.
    Apx,
    /// Markit registry, no `VCS` field.
    Markit,
    /// 13-field `…-VCS-VCU-…` form with sectoral scope.
    Vcs,
    /// 2026 Platts form: `VCS` field present, sectoral scope absent.
    Vcs2026,
}

impl VerraEra {
    /// Short name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            VerraEra::Apx => "apx",
            VerraEra::Markit => "markit",
            VerraEra::Vcs => "vcs",
            VerraEra::Vcs2026 => "vcs-2026",
        }
    }
}

/// What a Verra serial encodes besides the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerraFields {
    /// Issuance batch id (field 1).
    pub batch: u64,
    /// Whether the `VCS` program field is present (absent in the APX and Markit eras).
    pub program_field: bool,
    /// Field 6, an undocumented issuer code, kept with its zero padding (`042`).
    pub issuer_code: u64,
    /// Digits the issuer code is written with.
    pub issuer_code_width: u8,
    /// Registry platform (field 7).
    pub origin: VerraOrigin,
    /// Project country, ISO 3166-1 alpha-2.
    pub country: Code2,
    /// Sectoral scope, absent in the 2026 form.
    pub sectoral_scope: Option<u64>,
    /// Verra project id (`VCS<id>`).
    pub project_id: u64,
    /// First day of the vintage.
    pub vintage_start: NaiveDate,
    /// Last day of the vintage.
    pub vintage_end: NaiveDate,
    /// Final flag: 1 exactly when the block carries additional certifications.
    pub additional_certification: bool,
}

impl VerraFields {
    /// The layout era.
    pub fn era(&self) -> VerraEra {
        match (self.origin, self.program_field, self.sectoral_scope) {
            (VerraOrigin::Apx, false, _) => VerraEra::Apx,
            (_, false, _) => VerraEra::Markit,
            (_, true, Some(_)) => VerraEra::Vcs,
            (_, true, None) => VerraEra::Vcs2026,
        }
    }

    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, r: UnitRange) -> fmt::Result {
        write!(f, "{}-{}-{}-", self.batch, r.start, r.end)?;
        if self.program_field {
            f.write_str("VCS-")?;
        }
        write!(
            f,
            "VCU-{:0w$}-{}-{}-",
            self.issuer_code,
            self.origin.as_str(),
            self.country,
            w = usize::from(self.issuer_code_width)
        )?;
        if let Some(s) = self.sectoral_scope {
            write!(f, "{s}-")?;
        }
        let (a, b) = (self.vintage_start, self.vintage_end);
        write!(
            f,
            "{}-{:02}{:02}{:04}-{:02}{:02}{:04}-{}",
            self.project_id,
            a.day(),
            a.month(),
            a.year(),
            b.day(),
            b.month(),
            b.year(),
            u8::from(self.additional_certification)
        )
    }

    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        put(m, "batch", self.batch.to_string());
        put(m, "country", self.country.as_str());
        put(m, "vintage_start", self.vintage_start.to_string());
        put(m, "vintage_end", self.vintage_end.to_string());
        put(m, "era", self.era().as_str());
        put(m, "origin_registry", self.origin.as_str());
        put(
            m,
            "issuer_code",
            format!(
                "{:0w$}",
                self.issuer_code,
                w = usize::from(self.issuer_code_width)
            ),
        );
        put(
            m,
            "sectoral_scope",
            self.sectoral_scope.map_or(Value::Null, Value::from),
        );
        put(m, "additional_certification", self.additional_certification);
    }
}

const G: Grammar = Grammar::Verra;

fn date(c: &mut Cursor<'_>, field: u8, name: &'static str) -> Result<NaiveDate, SerialError> {
    let v = c.fixed(8, field, name)?;
    let (d, mo, y) = (v / 1_000_000, v / 10_000 % 100, v % 10_000);
    let y = i32::try_from(y).map_err(|_| c.bad(field, name, "a ddmmyyyy date"))?;
    NaiveDate::from_ymd_opt(y, mo, d).ok_or(SerialError::BadField {
        grammar: G,
        field,
        name,
        expected: "a valid ddmmyyyy date",
    })
}

/// Parses a trimmed ASCII Verra serial.
pub(crate) fn parse(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, G);
    let batch = c.num(1, "batch")?.value;
    c.sep(b'-', 1, "batch")?;
    let start = c.num(2, "block start")?.value;
    c.sep(b'-', 2, "block start")?;
    let end = c.num(3, "block end")?.value;
    c.sep(b'-', 3, "block end")?;
    let program_field = c.b[c.i..].starts_with(b"VCS-");
    if program_field {
        c.i += 4;
    }
    c.lit(b"VCU-", 5, "unit type VCU")?;
    let issuer = c.num(6, "issuer code")?;
    c.sep(b'-', 6, "issuer code")?;
    let origin = match c.b.get(c.i..c.i + 4) {
        Some(b"VER-") => VerraOrigin::Ver,
        Some(b"MER-") => VerraOrigin::Mer,
        Some(b"APX-") => VerraOrigin::Apx,
        _ => return Err(c.bad(7, "origin registry", "VER, MER or APX")),
    };
    c.i += 4;
    let country = c.upper2(8, "country")?;
    c.sep(b'-', 8, "country")?;
    // Scope present: `scope-project-d-d-flag` has 4 more hyphens; absent: 3.
    let rest_hyphens = c.b[c.i..].iter().filter(|&&b| b == b'-').count();
    let sectoral_scope = match rest_hyphens {
        4 => {
            let v = c.num(9, "sectoral scope")?.value;
            c.sep(b'-', 9, "sectoral scope")?;
            Some(v)
        }
        3 => None,
        _ => {
            return Err(SerialError::BadField {
                grammar: G,
                field: 9,
                name: "sectoral scope / project",
                expected: "[scope-]project-ddmmyyyy-ddmmyyyy-flag",
            });
        }
    };
    let project_id = c.num(10, "project id")?.value;
    c.sep(b'-', 10, "project id")?;
    let vintage_start = date(&mut c, 11, "vintage start")?;
    c.sep(b'-', 11, "vintage start")?;
    let vintage_end = date(&mut c, 12, "vintage end")?;
    c.sep(b'-', 12, "vintage end")?;
    let additional_certification = match c.peek() {
        Some(b'0') => false,
        Some(b'1') => true,
        _ => return Err(c.bad(13, "additional certification flag", "0 or 1")),
    };
    c.i += 1;
    c.finish()?;
    ordered(G, start, end)?;
    Ok(ParsedSerial {
        registry: RegistryId::VERRA,
        namespace: String::from("verra"),
        range: Some(UnitRange { start, end }),
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Verra(VerraFields {
            batch,
            program_field,
            issuer_code: issuer.value,
            issuer_code_width: issuer.width,
            origin,
            country,
            sectoral_scope,
            project_id,
            vintage_start,
            vintage_end,
            additional_certification,
        }),
    })
}
