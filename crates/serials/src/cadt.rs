//! CAD Trust unit blocks (`unitBlockStart` / `unitBlockEnd`).
//!
//! A CAD Trust node republishes other registries' units, so the bounds are first read as
//! serials of those registries: a block whose bounds are full serials of one grammar (two Kyoto
//! unit ids, or the same block serial twice) lands in that registry's namespace. Bare numbers
//! with `registry_of_origin = verra` land in `verra` (one counter for the whole registry).
//! Anything else is a CAD Trust block `<prefix><digits>`: numbers are unique only inside the
//! organisation that wrote them and the prefix, so the namespace is `cadt:<org uid>:<prefix>`.

use std::fmt;

use carbonmesh_model::{MAX_UNIT_NUMBER, RegistryId};
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::scan::prepare;
use crate::{Grammar, SerialError, parse};

/// One CAD Trust unit block as the API publishes it.
#[derive(Debug, Clone, Copy)]
pub struct CadtUnitBlock<'a> {
    /// `unitBlockStart`.
    pub unit_block_start: &'a str,
    /// `unitBlockEnd`.
    pub unit_block_end: &'a str,
    /// `orgUid` of the organisation that published the unit.
    pub org_uid: &'a str,
    /// The registry the units come from, when the record says so.
    pub registry_of_origin: Option<RegistryId>,
}

/// A CAD Trust block that names no other registry's grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CadtFields {
    /// Publishing organisation.
    pub org_uid: String,
    /// Text before the digits, the same on both bounds (may be empty).
    pub prefix: String,
    /// Digits written for the start bound (keeps zero padding such as `A001`).
    pub start_width: u8,
    /// Digits written for the end bound.
    pub end_width: u8,
    /// The registry the units come from, when known.
    pub registry_of_origin: Option<RegistryId>,
}

impl CadtFields {
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>, r: UnitRange) -> fmt::Result {
        write!(
            f,
            "{p}{:0sw$}-{p}{:0ew$}",
            r.start,
            r.end,
            p = self.prefix,
            sw = usize::from(self.start_width),
            ew = usize::from(self.end_width)
        )
    }

    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        put(m, "org_uid", self.org_uid.clone());
        put(m, "prefix", self.prefix.clone());
        put(
            m,
            "registry_of_origin",
            self.registry_of_origin
                .map_or(Value::Null, |r| r.as_str().into()),
        );
    }
}

/// Splits `<prefix><digits>`; the digits must be the tail.
fn split(bound: &str) -> Result<(&str, u64, u8), SerialError> {
    let b = bound.as_bytes();
    let digits = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return Err(SerialError::CadtBlock("a bound does not end in digits"));
    }
    let (p, d) = bound.split_at(b.len() - digits);
    let mut v: u64 = 0;
    for &c in d.as_bytes() {
        v = v
            .checked_mul(10)
            .and_then(|x| x.checked_add(u64::from(c - b'0')))
            .filter(|&x| x <= MAX_UNIT_NUMBER)
            .ok_or(SerialError::NumberTooLarge {
                grammar: Grammar::CadtBlock,
                field: 1,
            })?;
    }
    Ok((p, v, u8::try_from(digits).unwrap_or(u8::MAX)))
}

/// Parses one CAD Trust unit block.
pub fn parse_cadt_block(block: &CadtUnitBlock<'_>) -> Result<ParsedSerial, SerialError> {
    let a = prepare(block.unit_block_start)?;
    let b = prepare(block.unit_block_end)?;
    let org = block.org_uid.trim();
    // Bounds written as full serials of a registry grammar.
    if let (Ok(x), Ok(y)) = (parse(a, None), parse(b, None))
        && let (Some(rx), Some(ry)) = (x.range, y.range)
        && x.namespace == y.namespace
    {
        if rx.start > ry.end {
            return Err(SerialError::StartAfterEnd {
                grammar: x.grammar(),
                start: rx.start,
                end: ry.end,
            });
        }
        let mut p = x;
        p.range = Some(UnitRange {
            start: rx.start,
            end: ry.end,
        });
        return Ok(p);
    }
    let (pa, start, sw) = split(a)?;
    let (pb, end, ew) = split(b)?;
    if pa != pb {
        return Err(SerialError::EndsDisagree {
            grammar: Grammar::CadtBlock,
            name: "prefix",
        });
    }
    if start > end {
        return Err(SerialError::StartAfterEnd {
            grammar: Grammar::CadtBlock,
            start,
            end,
        });
    }
    let verra = pa.is_empty() && block.registry_of_origin == Some(RegistryId::VERRA);
    if !verra && org.is_empty() {
        return Err(SerialError::CadtBlock(
            "an organisation uid is needed to scope a CAD Trust block",
        ));
    }
    let (registry, namespace) = if verra {
        (RegistryId::VERRA, String::from("verra"))
    } else {
        (RegistryId::CADT, format!("cadt:{org}:{pa}"))
    };
    Ok(ParsedSerial {
        registry,
        namespace,
        range: Some(UnitRange { start, end }),
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::Cadt(CadtFields {
            org_uid: org.to_owned(),
            prefix: pa.to_owned(),
            start_width: sw,
            end_width: ew,
            registry_of_origin: block.registry_of_origin,
        }),
    })
}

/// A CAD Trust `serialNumberBlock` as printed, `START-END` (`1918000043-1918000098`,
/// `CMS-B000123-000000001-CMS-B000123-000000500`): the prefix both bounds share and the unit
/// numbers. The namespace also needs the publishing organisation, which the text lacks.
pub fn cadt_block_text(input: &str) -> Result<(String, u64, u64), SerialError> {
    let s = prepare(input)?;
    let mut found = None;
    for (i, _) in s.match_indices('-') {
        let (a, b) = (&s[..i], &s[i + 1..]);
        if let (Ok((pa, start, _)), Ok((pb, end, _))) = (split(a), split(b))
            && pa == pb
            && !a.is_empty()
        {
            if start > end {
                return Err(SerialError::StartAfterEnd {
                    grammar: Grammar::CadtBlock,
                    start,
                    end,
                });
            }
            found = Some((pa.to_owned(), start, end));
            break;
        }
    }
    found.ok_or(SerialError::CadtBlock(
        "expected START-END, two bounds with the same prefix",
    ))
}
