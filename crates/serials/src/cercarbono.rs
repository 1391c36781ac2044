//! Cercarbono / EcoRegistry batch serials, e.g. `CDC_1_1_1_321_14_1_2008_BF`,
//! `CDC_10_1_29_321_14_R1_XX_CO_1_6_BFC_2021`, `BCR2CDC_106_2_8_322_14_CO_1_1_2019`.
//!
//! `[<origin>2]<standard>_[R_]<project>_<tokens…>`: the serial names a batch, not a range. The
//! unit range comes from the `from`/`to` positions (1-based inside the batch) that the registry
//! publishes beside it, so the namespace is the whole serial. Trailing `BF`/`BFC`/`GB`/`LTR`
//! marks buffer and reserve batches, a trailing four-digit token is the vintage year, an `R<n>`
//! token a revision, and a `<origin>2` prefix a batch migrated from another registry
//! (`BCR2` = BioCarbon).

use carbonmesh_model::RegistryId;
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::{Grammar, SerialError};

/// EcoRegistry standard code (first token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CercarbonoStandard {
    /// `CDC`: Cercarbono carbon credits.
    Cdc,
    /// `CDB`: Cercarbono biodiversity credits.
    Cdb,
    /// `CP`.
    Cp,
    /// `CGS`.
    Cgs,
    /// `CBA`.
    Cba,
}

impl CercarbonoStandard {
    /// The code printed in the serial.
    pub fn as_str(self) -> &'static str {
        match self {
            CercarbonoStandard::Cdc => "CDC",
            CercarbonoStandard::Cdb => "CDB",
            CercarbonoStandard::Cp => "CP",
            CercarbonoStandard::Cgs => "CGS",
            CercarbonoStandard::Cba => "CBA",
        }
    }

    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(match b {
            b"CDC" => CercarbonoStandard::Cdc,
            b"CDB" => CercarbonoStandard::Cdb,
            b"CP" => CercarbonoStandard::Cp,
            b"CGS" => CercarbonoStandard::Cgs,
            b"CBA" => CercarbonoStandard::Cba,
            _ => return None,
        })
    }
}

/// Buffer or reserve marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CercarbonoBuffer {
    /// `BF`: project buffer.
    Bf,
    /// `BFC`: project buffer (revised serials).
    Bfc,
    /// `GB`: global buffer.
    Gb,
    /// `LTR`: long-term reserve.
    Ltr,
}

impl CercarbonoBuffer {
    /// The code printed in the serial.
    pub fn as_str(self) -> &'static str {
        match self {
            CercarbonoBuffer::Bf => "BF",
            CercarbonoBuffer::Bfc => "BFC",
            CercarbonoBuffer::Gb => "GB",
            CercarbonoBuffer::Ltr => "LTR",
        }
    }

    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(match b {
            b"BF" => CercarbonoBuffer::Bf,
            b"BFC" => CercarbonoBuffer::Bfc,
            b"GB" => CercarbonoBuffer::Gb,
            b"LTR" => CercarbonoBuffer::Ltr,
            _ => return None,
        })
    }
}

/// What a Cercarbono batch serial encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CercarbonoFields {
    /// Standard code.
    pub standard: CercarbonoStandard,
    /// Code of the registry the batch migrated from (`BCR` for `BCR2CDC_…`).
    pub converted_from: Option<String>,
    /// Revised layout `CDC_R_<id>_…`.
    pub revised_layout: bool,
    /// Project number (`CDC-<n>` is the public project code).
    pub project_number: u64,
    /// Revision number from an `R<n>` token.
    pub revision: Option<u64>,
    /// Buffer or reserve marker.
    pub buffer: Option<CercarbonoBuffer>,
    /// Vintage year split out of a multi-year verification.
    pub vintage: Option<u16>,
}

impl CercarbonoFields {
    /// The registry the batch migrated from, when carbonmesh knows it.
    pub fn converted_from_registry(&self) -> Option<RegistryId> {
        match self.converted_from.as_deref() {
            Some("BCR") => Some(RegistryId::BIOCARBON),
            _ => None,
        }
    }

    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        if let Some(v) = self.vintage {
            put(m, "vintage_start", v.to_string());
            put(m, "vintage_end", v.to_string());
        }
        put(m, "standard", self.standard.as_str());
        put(
            m,
            "revision",
            self.revision.map_or(Value::Null, Value::from),
        );
        put(
            m,
            "buffer",
            self.buffer.map_or(Value::Null, |b| b.as_str().into()),
        );
        put(
            m,
            "converted_from",
            self.converted_from.clone().map_or(Value::Null, Value::from),
        );
    }
}

const G: Grammar = Grammar::Cercarbono;

fn bad(field: u8, name: &'static str, expected: &'static str) -> SerialError {
    SerialError::bad_field(G, field, name, expected)
}

fn digits_value(t: &[u8]) -> Option<u64> {
    if t.is_empty() || t.len() > 18 || !t.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(t.iter().fold(0u64, |v, &d| v * 10 + u64::from(d - b'0')))
}

/// Parses a trimmed ASCII batch serial; the range is left empty.
pub(crate) fn parse(s: &str) -> Result<ParsedSerial, SerialError> {
    let b = s.as_bytes();
    let mut tokens = b.split(|&c| c == b'_');
    let head = tokens.next().unwrap_or_default();
    let (converted_from, std_code) = match head.iter().position(|&c| c == b'2') {
        Some(p) => (Some(&head[..p]), &head[p + 1..]),
        None => (None, head),
    };
    if let Some(o) = converted_from
        && (o.is_empty() || !o.iter().all(u8::is_ascii_uppercase))
    {
        return Err(bad(1, "migration origin", "uppercase letters before `2`"));
    }
    let standard = CercarbonoStandard::from_bytes(std_code)
        .ok_or_else(|| bad(1, "standard", "CDC, CDB, CP, CGS or CBA"))?;
    let mut field = 2u8;
    let mut id_tok = tokens.next().ok_or(SerialError::Truncated {
        grammar: G,
        field: 2,
        name: "project",
    })?;
    let revised_layout = id_tok == b"R";
    if revised_layout {
        field += 1;
        id_tok = tokens.next().ok_or(SerialError::Truncated {
            grammar: G,
            field,
            name: "project",
        })?;
    }
    let project_number = digits_value(id_tok).ok_or_else(|| bad(field, "project", "digits"))?;
    // The remaining tokens: check them, then read markers from the tail.
    let mut revision = None;
    let mut tail: [&[u8]; 2] = [&[], &[]];
    for t in tokens {
        field = field.saturating_add(1);
        if t.is_empty()
            || !t
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(bad(field, "batch token", "uppercase letters or digits"));
        }
        if revision.is_none() && t.len() > 1 && t[0] == b'R' {
            revision = digits_value(&t[1..]);
        }
        tail = [tail[1], t];
    }
    let mut buffer = None;
    let mut vintage = None;
    let year = |t: &[u8]| {
        (t.len() == 4)
            .then(|| digits_value(t))
            .flatten()
            .filter(|y| (1900..=2200).contains(y))
            .and_then(|y| u16::try_from(y).ok())
    };
    // Both `…_2008_BF` and `…_BFC_2018` occur.
    if let Some(bf) = CercarbonoBuffer::from_bytes(tail[1]) {
        buffer = Some(bf);
        vintage = year(tail[0]);
    } else if let Some(y) = year(tail[1]) {
        vintage = Some(y);
        buffer = CercarbonoBuffer::from_bytes(tail[0]);
    }
    let mut namespace = String::with_capacity(11 + s.len());
    namespace.push_str("cercarbono:");
    namespace.push_str(s);
    Ok(ParsedSerial {
        registry: RegistryId::CERCARBONO,
        namespace,
        range: None,
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Cercarbono(CercarbonoFields {
            standard,
            converted_from: converted_from.map(|o| String::from_utf8_lossy(o).into_owned()),
            revised_layout,
            project_number,
            revision,
            buffer,
            vintage,
        }),
    })
}

/// Attaches the `from`/`to` positions published beside the serial.
pub(crate) fn with_positions(
    mut p: ParsedSerial,
    from: u64,
    to: u64,
) -> Result<ParsedSerial, SerialError> {
    if from > to {
        return Err(SerialError::StartAfterEnd {
            grammar: G,
            start: from,
            end: to,
        });
    }
    if to > carbonmesh_model::MAX_UNIT_NUMBER {
        return Err(SerialError::NumberTooLarge {
            grammar: G,
            field: 0,
        });
    }
    p.range = Some(UnitRange {
        start: from,
        end: to,
    });
    Ok(p)
}
