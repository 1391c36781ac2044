//! Puro.earth certificate ranges.
//!
//! * Current: `PURO_<reg>_<credit type>_<CC>_<facility>_<vintage>_<issuance uuid>_<start>-<end>`,
//!   numbers restart per issuance: namespace `puro:<issuance uuid>`.
//! * Legacy numbers inside the same wrapper, or bare (`<30 digits>-<30 digits>`): an 18-digit
//!   prefix and a 12-digit counter. The prefix does not fit beside the counter in 64 bits, so it
//!   moves into the namespace: `puro:legacy:<18-digit prefix>`, range = the counters.
//! * Bare post-migration form `<issuance uuid>_<start>-<end>` (as written on chain).

use std::fmt;

use carbonmesh_model::RegistryId;
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::scan::{Code2, ordered};
use crate::short::Short;
use crate::{Grammar, SerialError};

/// Digits of the legacy prefix and counter.
const LEGACY_PREFIX: usize = 18;
const LEGACY_COUNTER: usize = 12;

/// The `PURO_…` wrapper fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PuroWrapper {
    /// Registry code after `PURO_` (`PR`).
    pub registry_code: Short,
    /// Credit type (`CORC`, `CORC100+`, legacy `CORC_100`).
    pub credit_type: Short,
    /// Facility country, ISO 3166-1 alpha-2 (`NA` is Namibia).
    pub country: Code2,
    /// Production facility code, which is also the project code.
    pub facility: Short,
    /// Vintage year.
    pub vintage: u16,
}

/// What a Puro range encodes besides the numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PuroFields {
    /// The `PURO_…` wrapper, absent in bare forms.
    pub wrapper: Option<PuroWrapper>,
    /// Issuance id (lowercase UUID), absent in the bare legacy form.
    pub issuance_id: Option<Uuid>,
    /// The 18-digit prefix of legacy 30-digit numbers.
    pub legacy_prefix: Option<LegacyPrefix>,
}

/// A lowercase hyphenated UUID.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uuid([u8; 36]);

impl Uuid {
    /// The UUID as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    fn parse(b: &[u8]) -> Option<Uuid> {
        if b.len() != 36 {
            return None;
        }
        let mut out = [0u8; 36];
        for (i, (&c, o)) in b.iter().zip(out.iter_mut()).enumerate() {
            *o = if matches!(i, 8 | 13 | 18 | 23) {
                (c == b'-').then_some(c)?
            } else {
                c.is_ascii_hexdigit().then_some(c.to_ascii_lowercase())?
            };
        }
        Some(Uuid(out))
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The 18-digit prefix of a legacy 30-digit certificate number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegacyPrefix([u8; LEGACY_PREFIX]);

impl LegacyPrefix {
    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Debug for LegacyPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PuroFields {
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, r: UnitRange) -> fmt::Result {
        if let Some(w) = &self.wrapper {
            write!(
                f,
                "PURO_{}_{}_{}_{}_{}_",
                w.registry_code, w.credit_type, w.country, w.facility, w.vintage
            )?;
        }
        if let Some(u) = &self.issuance_id {
            write!(f, "{}_", u.as_str())?;
        }
        match &self.legacy_prefix {
            Some(p) => write!(
                f,
                "{p}{:0w$}-{p}{:0w$}",
                r.start,
                r.end,
                p = p.as_str(),
                w = LEGACY_COUNTER
            ),
            None => write!(f, "{}-{}", r.start, r.end),
        }
    }

    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        if let Some(w) = &self.wrapper {
            put(m, "country", w.country.as_str());
            put(m, "vintage_start", w.vintage.to_string());
            put(m, "vintage_end", w.vintage.to_string());
            put(m, "credit_type", w.credit_type.as_str());
            put(m, "facility", w.facility.as_str());
        }
        if let Some(u) = &self.issuance_id {
            put(m, "batch", u.as_str());
        }
        put(
            m,
            "legacy_prefix",
            self.legacy_prefix
                .map_or(Value::Null, |p| p.as_str().into()),
        );
    }
}

const G: Grammar = Grammar::Puro;

fn bad(field: u8, name: &'static str, expected: &'static str) -> SerialError {
    SerialError::bad_field(G, field, name, expected)
}

fn number(d: &[u8], field: u8, name: &'static str) -> Result<u64, SerialError> {
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) {
        return Err(bad(field, name, "ASCII digits"));
    }
    let mut v: u64 = 0;
    for &c in d {
        v = v
            .checked_mul(10)
            .and_then(|x| x.checked_add(u64::from(c - b'0')))
            .filter(|&x| x <= carbonmesh_model::MAX_UNIT_NUMBER)
            .ok_or(SerialError::NumberTooLarge { grammar: G, field })?;
    }
    Ok(v)
}

/// Parses `<start>-<end>`, splitting legacy 30-digit numbers into prefix and counter.
fn range(r: &[u8], field: u8) -> Result<(UnitRange, Option<LegacyPrefix>), SerialError> {
    let dash = r
        .iter()
        .position(|&c| c == b'-')
        .ok_or_else(|| bad(field, "range", "<start>-<end>"))?;
    let (a, b) = (&r[..dash], &r[dash + 1..]);
    let legacy = LEGACY_PREFIX + LEGACY_COUNTER;
    let all_digits = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
    if a.len() == legacy && b.len() == legacy && all_digits(a) && all_digits(b) {
        if a[..LEGACY_PREFIX] != b[..LEGACY_PREFIX] {
            return Err(SerialError::EndsDisagree {
                grammar: G,
                name: "legacy 18-digit prefix",
            });
        }
        let start = number(&a[LEGACY_PREFIX..], field, "range start")?;
        let end = number(&b[LEGACY_PREFIX..], field + 1, "range end")?;
        ordered(G, start, end)?;
        let mut p = [0u8; LEGACY_PREFIX];
        p.copy_from_slice(&a[..LEGACY_PREFIX]);
        return Ok((UnitRange { start, end }, Some(LegacyPrefix(p))));
    }
    let start = number(a, field, "range start")?;
    let end = number(b, field + 1, "range end")?;
    ordered(G, start, end)?;
    Ok((UnitRange { start, end }, None))
}

fn build(f: PuroFields, r: UnitRange) -> ParsedSerial {
    let namespace = match (&f.legacy_prefix, &f.issuance_id) {
        (Some(p), _) => format!("puro:legacy:{}", p.as_str()),
        (None, Some(u)) => {
            let mut s = String::with_capacity(41);
            s.push_str("puro:");
            s.push_str(u.as_str());
            s
        }
        // `range` only returns no prefix for non-legacy numbers, which always carry a UUID here.
        (None, None) => String::from("puro:"),
    };
    ParsedSerial {
        registry: RegistryId::PURO,
        namespace,
        range: Some(r),
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Puro(f),
    }
}

/// True when `b` starts like a bare `<uuid>_…` range.
pub(crate) fn looks_bare_uuid(b: &[u8]) -> bool {
    b.len() > 37 && b[8] == b'-' && b[13] == b'-' && b[36] == b'_' && b[0].is_ascii_hexdigit()
}

pub(crate) fn parse(s: &str) -> Result<ParsedSerial, SerialError> {
    let b = s.as_bytes();
    if let Some(rest) = b.strip_prefix(b"PURO_") {
        return parse_wrapped(rest);
    }
    if looks_bare_uuid(b) {
        let u = Uuid::parse(&b[..36]).ok_or_else(|| bad(1, "issuance id", "a UUID"))?;
        let (r, legacy) = range(&b[37..], 2)?;
        return Ok(build(
            PuroFields {
                wrapper: None,
                issuance_id: Some(u),
                legacy_prefix: legacy,
            },
            r,
        ));
    }
    let (r, legacy) = range(b, 1)?;
    if legacy.is_none() {
        // Bare numbers name no issuance: only the legacy prefix makes them unique.
        return Err(bad(1, "legacy certificate number", "30 digits"));
    }
    Ok(build(
        PuroFields {
            wrapper: None,
            issuance_id: None,
            legacy_prefix: legacy,
        },
        r,
    ))
}

fn parse_wrapped(b: &[u8]) -> Result<ParsedSerial, SerialError> {
    let last = b
        .iter()
        .rposition(|&c| c == b'_')
        .ok_or(SerialError::Truncated {
            grammar: G,
            field: 2,
            name: "registry code",
        })?;
    let (left, range_part) = (&b[..last], &b[last + 1..]);
    if left.len() < 38 || left[left.len() - 37] != b'_' {
        return Err(bad(7, "issuance id", "a UUID before the range"));
    }
    let uuid =
        Uuid::parse(&left[left.len() - 36..]).ok_or_else(|| bad(7, "issuance id", "a UUID"))?;
    let mut parts = left[..left.len() - 37].rsplitn(4, |&c| c == b'_');
    let vintage = parts.next().unwrap_or_default();
    let facility = parts.next().ok_or_else(|| bad(5, "facility", "digits"))?;
    let country = parts
        .next()
        .ok_or_else(|| bad(4, "country", "two uppercase letters"))?;
    let head = parts
        .next()
        .ok_or_else(|| bad(2, "registry code", "uppercase letters"))?;
    if vintage.len() != 4 || !vintage.iter().all(u8::is_ascii_digit) {
        return Err(bad(6, "vintage", "a four-digit year"));
    }
    let vintage = vintage
        .iter()
        .fold(0u16, |v, &d| v * 10 + u16::from(d - b'0'));
    if facility.is_empty() || !facility.iter().all(u8::is_ascii_digit) {
        return Err(bad(5, "facility", "digits"));
    }
    let facility = Short::new(facility).ok_or_else(|| bad(5, "facility", "1 to 15 digits"))?;
    let country = match country {
        &[x, y] if x.is_ascii_uppercase() && y.is_ascii_uppercase() => Code2([x, y]),
        _ => return Err(bad(4, "country", "two uppercase letters")),
    };
    let us = head
        .iter()
        .position(|&c| c == b'_')
        .ok_or_else(|| bad(3, "credit type", "a credit type after the registry code"))?;
    let (reg, ctype) = (&head[..us], &head[us + 1..]);
    if reg.is_empty() || !reg.iter().all(u8::is_ascii_uppercase) {
        return Err(bad(2, "registry code", "uppercase letters"));
    }
    let ctype_ok = ctype
        .iter()
        .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'+' || c == b'_');
    if !ctype_ok || ctype.first() == Some(&b'_') || ctype.last() == Some(&b'_') {
        return Err(bad(
            3,
            "credit type",
            "uppercase letters, digits, `+` or `_`",
        ));
    }
    let registry_code =
        Short::new(reg).ok_or_else(|| bad(2, "registry code", "1 to 15 letters"))?;
    let credit_type =
        Short::new(ctype).ok_or_else(|| bad(3, "credit type", "1 to 15 characters"))?;
    let (r, legacy) = range(range_part, 8)?;
    Ok(build(
        PuroFields {
            wrapper: Some(PuroWrapper {
                registry_code,
                credit_type,
                country,
                facility,
                vintage,
            }),
            issuance_id: Some(uuid),
            legacy_prefix: legacy,
        },
        r,
    ))
}
