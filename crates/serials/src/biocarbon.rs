//! BioCarbon Registry serials:
//! `BCR|PCR-CC-code-scope-seq-class-YYMM-YYMM-start-end`, e.g.
//! `BCR-CO-259-14-002-2-2401-2409-0043804-0043903`.
//!
//! Retirements repeat the block prefix with the retired sub-range, so the namespace is the
//! prefix before the range. The code inside the serial is not always the project id, so it is
//! reported as `code`, never as the project.

use carbonmesh_model::RegistryId;
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::scan::{Code2, Cursor, ordered};
use crate::short::Short;
use crate::{Grammar, SerialError};

/// Program prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BiocarbonProgram {
    /// `BCR`: BioCarbon Registry.
    Bcr,
    /// `PCR`: the second program on the same platform.
    Pcr,
}

impl BiocarbonProgram {
    /// The code printed in the serial.
    pub fn as_str(self) -> &'static str {
        match self {
            BiocarbonProgram::Bcr => "BCR",
            BiocarbonProgram::Pcr => "PCR",
        }
    }
}

/// A `YYMM` vintage bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearMonth {
    /// Four-digit year (20YY).
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
}

/// What a BioCarbon serial encodes besides the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BiocarbonFields {
    /// BCR or PCR.
    pub program: BiocarbonProgram,
    /// Country, ISO 3166-1 alpha-2.
    pub country: Code2,
    /// Project or holder code inside the serial (`259`, `BFX`); not always the project.
    pub code: Short,
    /// Sectoral scope (14 = AFOLU).
    pub sectoral_scope: u64,
    /// Three-digit sequence.
    pub sequence: u16,
    /// Destination class: `2` tax, `3` reserve, `R` reserved.
    pub class: u8,
    /// First month of the vintage.
    pub vintage_start: YearMonth,
    /// Last month of the vintage.
    pub vintage_end: YearMonth,
}

impl BiocarbonFields {
    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        put(m, "country", self.country.as_str());
        put(
            m,
            "vintage_start",
            format!(
                "{:04}-{:02}",
                self.vintage_start.year, self.vintage_start.month
            ),
        );
        put(
            m,
            "vintage_end",
            format!("{:04}-{:02}", self.vintage_end.year, self.vintage_end.month),
        );
        put(m, "program", self.program.as_str());
        put(m, "code", self.code.as_str());
        put(m, "sectoral_scope", self.sectoral_scope);
        put(m, "sequence", format!("{:03}", self.sequence));
        put(m, "class", char::from(self.class).to_string());
    }
}

const G: Grammar = Grammar::Biocarbon;

fn yymm(c: &mut Cursor<'_>, field: u8, name: &'static str) -> Result<YearMonth, SerialError> {
    let v = c.fixed(4, field, name)?;
    let (yy, mm) = (v / 100, v % 100);
    if !(1..=12).contains(&mm) {
        return Err(SerialError::BadField {
            grammar: G,
            field,
            name,
            expected: "YYMM with a month from 01 to 12",
        });
    }
    Ok(YearMonth {
        year: 2000 + u16::try_from(yy).unwrap_or(0),
        month: u8::try_from(mm).unwrap_or(0),
    })
}

pub(crate) fn parse(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, G);
    let program = if c.b.starts_with(b"BCR-") {
        BiocarbonProgram::Bcr
    } else if c.b.starts_with(b"PCR-") {
        BiocarbonProgram::Pcr
    } else {
        return Err(c.bad(1, "program", "BCR or PCR"));
    };
    c.i = 4;
    let country = c.upper2(2, "country")?;
    c.sep(b'-', 2, "country")?;
    let code_start = c.i;
    while c
        .peek()
        .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        c.i += 1;
    }
    let code = Short::new(&c.b[code_start..c.i])
        .ok_or_else(|| c.bad(3, "code", "1 to 15 uppercase letters or digits"))?;
    c.sep(b'-', 3, "code")?;
    let sectoral_scope = c.num(4, "sectoral scope")?.value;
    c.sep(b'-', 4, "sectoral scope")?;
    let sequence = c.fixed(3, 5, "sequence")?;
    c.sep(b'-', 5, "sequence")?;
    let class = match c.peek() {
        Some(b) if b.is_ascii_digit() || b == b'R' => b,
        _ => return Err(c.bad(6, "class", "a digit or R")),
    };
    c.i += 1;
    c.sep(b'-', 6, "class")?;
    let vintage_start = yymm(&mut c, 7, "vintage start")?;
    c.sep(b'-', 7, "vintage start")?;
    let vintage_end = yymm(&mut c, 8, "vintage end")?;
    let prefix_end = c.i;
    let prefix_canonical = c.canonical;
    c.sep(b'-', 8, "vintage end")?;
    let start = c.num(9, "range start")?.value;
    c.sep(b'-', 9, "range start")?;
    let end = c.num(10, "range end")?.value;
    c.finish()?;
    ordered(G, start, end)?;
    let f = BiocarbonFields {
        program,
        country,
        code,
        sectoral_scope,
        sequence: u16::try_from(sequence).unwrap_or(u16::MAX),
        class,
        vintage_start,
        vintage_end,
    };
    let mut namespace = String::with_capacity(10 + prefix_end);
    namespace.push_str("biocarbon:");
    if prefix_canonical {
        namespace.push_str(&s[..prefix_end]);
    } else {
        use std::fmt::Write;
        let _ = write!(
            namespace,
            "{}-{}-{}-{}-{:03}-{}-{:02}{:02}-{:02}{:02}",
            program.as_str(),
            country,
            f.code.as_str(),
            sectoral_scope,
            f.sequence,
            char::from(class),
            vintage_start.year % 100,
            vintage_start.month,
            vintage_end.year % 100,
            vintage_end.month
        );
    }
    Ok(ParsedSerial {
        registry: RegistryId::BIOCARBON,
        namespace,
        range: Some(UnitRange { start, end }),
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Biocarbon(f),
    })
}
