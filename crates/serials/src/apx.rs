//! APX-style serials with a `-start to end` range: ACR, CAR (CRT and ROC) and ART TREES / FCPF.
//!
//! * ACR: `ACR-CC-project-vintage-batch-start to end`
//! * CAR: `CAR-(1|ROC)-CC-project-type-developer-ST-vintage-batch-start to end`
//! * ART: `(ART|FCPF)-CC-program-vintage-batch-start to end`
//!
//! Numbering restarts at 1 for every batch, so the namespace is the prefix before the range.

use carbonmesh_model::RegistryId;
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::scan::{Code2, Cursor, ordered, push_u64};
use crate::{Grammar, SerialError};

/// What an ACR serial encodes besides the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrFields {
    /// Project country, ISO 3166-1 alpha-2.
    pub country: Code2,
    /// ACR project number (no zero padding in the serial; `ACR0885` elsewhere).
    pub project_number: u64,
    /// Vintage year.
    pub vintage: u16,
    /// Issuance batch.
    pub batch: u64,
}

/// CAR unit kind (field 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CarUnit {
    /// `1`: Climate Reserve Tonne.
    Crt,
    /// `ROC`: Registry Offset Credit (converted to compliance use).
    Roc,
}

impl CarUnit {
    /// The code printed in the serial.
    pub fn as_str(self) -> &'static str {
        match self {
            CarUnit::Crt => "1",
            CarUnit::Roc => "ROC",
        }
    }
}

/// What a CAR serial encodes besides the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarFields {
    /// CRT or ROC.
    pub unit_kind: CarUnit,
    /// Project country.
    pub country: Code2,
    /// CAR project number.
    pub project_number: u64,
    /// Project-type code (31 = nitric acid N2O, 6 = IFM, ...).
    pub project_type: u64,
    /// Project developer id.
    pub developer_id: u64,
    /// Project state or province code.
    pub state: Code2,
    /// Vintage year.
    pub vintage: u16,
    /// Issuance batch.
    pub batch: u64,
}

/// ART registry program (field 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtProgram {
    /// ART TREES credits.
    Art,
    /// World Bank FCPF units issued through the ART registry.
    Fcpf,
}

impl ArtProgram {
    /// The code printed in the serial.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtProgram::Art => "ART",
            ArtProgram::Fcpf => "FCPF",
        }
    }
}

/// What an ART TREES / FCPF serial encodes besides the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtFields {
    /// ART or FCPF.
    pub program: ArtProgram,
    /// Program country.
    pub country: Code2,
    /// ART program number (`ART102`).
    pub program_number: u64,
    /// Vintage year.
    pub vintage: u16,
    /// Issuance batch.
    pub batch: u64,
}

fn common_json(m: &mut Map<String, Value>, country: Code2, vintage: u16, batch: u64) {
    put(m, "batch", batch.to_string());
    put(m, "country", country.as_str());
    put(m, "vintage_start", vintage.to_string());
    put(m, "vintage_end", vintage.to_string());
}

impl AcrFields {
    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        common_json(m, self.country, self.vintage, self.batch);
    }
}

impl CarFields {
    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        common_json(m, self.country, self.vintage, self.batch);
        put(
            m,
            "unit_kind",
            if self.unit_kind == CarUnit::Crt {
                "CRT"
            } else {
                "ROC"
            },
        );
        put(m, "project_type_code", self.project_type);
        put(m, "developer_id", self.developer_id);
        put(m, "state", self.state.as_str());
    }
}

impl ArtFields {
    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        common_json(m, self.country, self.vintage, self.batch);
        put(m, "program", self.program.as_str());
    }
}

fn year(c: &mut Cursor<'_>, field: u8) -> Result<u16, SerialError> {
    let y = c.fixed(4, field, "vintage")?;
    Ok(u16::try_from(y).unwrap_or(u16::MAX))
}

/// Reads `-start to end` and the end of input.
fn range(c: &mut Cursor<'_>, field: u8) -> Result<UnitRange, SerialError> {
    let start = c.num(field, "range start")?.value;
    c.lit(b" to ", field, "` to ` between start and end")?;
    let end = c.num(field + 1, "range end")?.value;
    c.finish()?;
    ordered(c.g, start, end)?;
    Ok(UnitRange { start, end })
}

/// Builds `<registry>:<prefix>` from the input when it is canonical, else from `rebuild`.
fn ns(
    tag: &str,
    s: &str,
    c: &Cursor<'_>,
    prefix_end: usize,
    rebuild: impl FnOnce(&mut String),
) -> String {
    let mut out = String::with_capacity(tag.len() + 1 + prefix_end);
    out.push_str(tag);
    out.push(':');
    if c.canonical {
        out.push_str(&s[..prefix_end]);
    } else {
        rebuild(&mut out);
    }
    out
}

/// What ACR and ART serials share after their program prefix (fields 2 to 7):
/// `CC-<number>-<vintage>-<batch>-<start> to <end>`. Numbering restarts per batch, so the
/// namespace is `<tag>:<program>-CC-<number>-<vintage>-<batch>`.
struct BatchSerial {
    country: Code2,
    number: u64,
    vintage: u16,
    batch: u64,
    range: UnitRange,
    namespace: String,
}

fn batch_serial(
    c: &mut Cursor<'_>,
    s: &str,
    tag: &str,
    program: &str,
    number_name: &'static str,
) -> Result<BatchSerial, SerialError> {
    let country = c.upper2(2, "country")?;
    c.sep(b'-', 2, "country")?;
    let number = c.num(3, number_name)?.value;
    c.sep(b'-', 3, number_name)?;
    let vintage = year(c, 4)?;
    c.sep(b'-', 4, "vintage")?;
    let batch = c.num(5, "batch")?.value;
    let prefix_end = c.i;
    c.sep(b'-', 5, "batch")?;
    let range = range(c, 6)?;
    let namespace = ns(tag, s, c, prefix_end, |o| {
        o.push_str(program);
        o.push('-');
        o.push_str(country.as_str());
        for n in [number, u64::from(vintage), batch] {
            o.push('-');
            push_u64(o, n);
        }
    });
    Ok(BatchSerial {
        country,
        number,
        vintage,
        batch,
        range,
        namespace,
    })
}

pub(crate) fn parse_acr(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, Grammar::Acr);
    c.lit(b"ACR-", 1, "registry ACR")?;
    let b = batch_serial(&mut c, s, "acr", "ACR", "project")?;
    Ok(ParsedSerial {
        registry: RegistryId::ACR,
        namespace: b.namespace,
        range: Some(b.range),
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Acr(AcrFields {
            country: b.country,
            project_number: b.number,
            vintage: b.vintage,
            batch: b.batch,
        }),
    })
}

pub(crate) fn parse_car(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, Grammar::Car);
    c.lit(b"CAR-", 1, "registry CAR")?;
    let unit_kind = if c.b[c.i..].starts_with(b"1-") {
        c.i += 2;
        CarUnit::Crt
    } else if c.b[c.i..].starts_with(b"ROC-") {
        c.i += 4;
        CarUnit::Roc
    } else {
        return Err(c.bad(2, "unit type", "1 or ROC"));
    };
    let country = c.upper2(3, "country")?;
    c.sep(b'-', 3, "country")?;
    let project_number = c.num(4, "project")?.value;
    c.sep(b'-', 4, "project")?;
    let project_type = c.num(5, "project type")?.value;
    c.sep(b'-', 5, "project type")?;
    let developer_id = c.num(6, "developer id")?.value;
    c.sep(b'-', 6, "developer id")?;
    let state = c.upper2(7, "state")?;
    c.sep(b'-', 7, "state")?;
    let vintage = year(&mut c, 8)?;
    c.sep(b'-', 8, "vintage")?;
    let batch = c.num(9, "batch")?.value;
    let prefix_end = c.i;
    c.sep(b'-', 9, "batch")?;
    let r = range(&mut c, 10)?;
    let f = CarFields {
        unit_kind,
        country,
        project_number,
        project_type,
        developer_id,
        state,
        vintage,
        batch,
    };
    let namespace = ns("car", s, &c, prefix_end, |o| {
        o.push_str("CAR-");
        o.push_str(unit_kind.as_str());
        o.push('-');
        o.push_str(country.as_str());
        for n in [project_number, project_type, developer_id] {
            o.push('-');
            push_u64(o, n);
        }
        o.push('-');
        o.push_str(state.as_str());
        for n in [u64::from(vintage), batch] {
            o.push('-');
            push_u64(o, n);
        }
    });
    Ok(ParsedSerial {
        registry: RegistryId::CAR,
        namespace,
        range: Some(r),
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Car(f),
    })
}

pub(crate) fn parse_art(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, Grammar::Art);
    let program = if c.b.starts_with(b"ART-") {
        c.i = 4;
        ArtProgram::Art
    } else if c.b.starts_with(b"FCPF-") {
        c.i = 5;
        ArtProgram::Fcpf
    } else {
        return Err(c.bad(1, "program", "ART or FCPF"));
    };
    let b = batch_serial(&mut c, s, "art", program.as_str(), "program")?;
    Ok(ParsedSerial {
        registry: RegistryId::ART,
        namespace: b.namespace,
        range: Some(b.range),
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Art(ArtFields {
            program,
            country: b.country,
            program_number: b.number,
            vintage: b.vintage,
            batch: b.batch,
        }),
    })
}
