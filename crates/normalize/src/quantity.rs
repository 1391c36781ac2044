//! Credit quantities, parsed exactly into [`Decimal`].
//!
//! Registries write `1,454,054` (Verra, BioCarbon), pandas writes `550369.0`, Isometric gives
//! decimal tonnes beside integer kilograms. A comma is only ever a thousands separator here and
//! must group digits by three: `1,5` is rejected rather than guessed as a decimal comma.

use rust_decimal::Decimal;

use crate::text::is_null_token;

/// Why a quantity could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The field was blank or a missing-value token (`nan`, `None`).
    #[error("empty quantity")]
    Empty,
    /// Not a number at all (`NaN`, `inf`, text).
    #[error("`{value}` is not a number: {reason}")]
    NotANumber {
        /// The raw value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A number, but not a count of whole units.
    #[error("`{value}` is not a whole number of units: {reason}")]
    NotWhole {
        /// The raw value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

fn nan(value: &str, reason: &'static str) -> QuantityError {
    QuantityError::NotANumber {
        value: value.to_owned(),
        reason,
    }
}

/// Parses a quantity exactly: `1,234,567`, `550369.0`, `-12`, `2765.37`, `1e+06`.
///
/// Trailing zeros after the decimal point are dropped (`550369.0` → `550369`). Blank and
/// missing-value tokens give [`QuantityError::Empty`]; use [`parse_optional_quantity`] when a
/// blank is allowed.
pub fn parse_quantity(raw: &str) -> Result<Decimal, QuantityError> {
    let s = raw.trim();
    if s.is_empty() || is_null_token(s) {
        return Err(QuantityError::Empty);
    }
    let lower = s.to_ascii_lowercase();
    if lower.contains("nan") || lower.contains("inf") {
        return Err(nan(raw, "NaN and infinity are not quantities"));
    }
    let (sign, body) = match s.as_bytes()[0] {
        b'-' => ("-", &s[1..]),
        b'+' => ("", &s[1..]),
        _ => ("", s),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (whole, frac) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let whole = strip_thousands(raw, whole)?;
    if whole.is_empty() && frac.is_none_or(str::is_empty) {
        return Err(nan(raw, "no digits"));
    }
    if let Some(f) = frac
        && !f.bytes().all(|c| c.is_ascii_digit())
    {
        return Err(nan(raw, "unexpected character after the decimal point"));
    }
    let mut text = String::with_capacity(s.len());
    text.push_str(sign);
    text.push_str(if whole.is_empty() { "0" } else { &whole });
    if let Some(f) = frac.filter(|f| !f.is_empty()) {
        text.push('.');
        text.push_str(f);
    }
    let value = match exponent {
        None => Decimal::from_str_exact(&text).map_err(|_| nan(raw, "too many digits"))?,
        Some(e) => {
            let e = e.strip_prefix('+').unwrap_or(e);
            let digits = e.strip_prefix('-').unwrap_or(e);
            if digits.is_empty() || digits.len() > 2 || !digits.bytes().all(|c| c.is_ascii_digit())
            {
                return Err(nan(raw, "malformed exponent"));
            }
            Decimal::from_scientific(&format!("{text}e{e}"))
                .map_err(|_| nan(raw, "exponent out of range"))?
        }
    };
    Ok(value.normalize())
}

/// Checks comma grouping and returns the digits without separators.
fn strip_thousands(raw: &str, whole: &str) -> Result<String, QuantityError> {
    if !whole.bytes().all(|c| c.is_ascii_digit() || c == b',') {
        return Err(nan(raw, "unexpected character"));
    }
    if !whole.contains(',') {
        return Ok(whole.to_owned());
    }
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or_default();
    if first.is_empty() || first.len() > 3 || groups.clone().any(|g| g.len() != 3) {
        return Err(nan(
            raw,
            "commas must separate groups of three digits (a comma is never a decimal point)",
        ));
    }
    Ok(whole.replace(',', ""))
}

/// Like [`parse_quantity`], but a blank or missing-value token is `Ok(None)`.
pub fn parse_optional_quantity(raw: &str) -> Result<Option<Decimal>, QuantityError> {
    match parse_quantity(raw) {
        Ok(q) => Ok(Some(q)),
        Err(QuantityError::Empty) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Parses a count of whole credits (`1,454,054`, `550369.0`): non-negative, no fraction.
pub fn parse_whole_units(raw: &str) -> Result<u64, QuantityError> {
    let q = parse_quantity(raw)?;
    if q.is_sign_negative() && !q.is_zero() {
        return Err(QuantityError::NotWhole {
            value: raw.to_owned(),
            reason: "negative",
        });
    }
    if !q.fract().is_zero() {
        return Err(QuantityError::NotWhole {
            value: raw.to_owned(),
            reason: "has a fractional part",
        });
    }
    u64::try_from(q.trunc()).map_err(|_| QuantityError::NotWhole {
        value: raw.to_owned(),
        reason: "too large",
    })
}

/// Converts kilograms to tonnes exactly (Isometric's `credit_kgs` beside `credits`).
pub fn kg_to_tonnes(kg: Decimal) -> Decimal {
    // Dividing by 10^3 only moves the decimal point, so it is exact for every Decimal that has
    // room for three more fractional digits; past that the last digits round.
    let mut t = kg;
    let scale = t.scale();
    if scale + 3 <= 28 && t.set_scale(scale + 3).is_ok() {
        t.normalize()
    } else {
        (kg / Decimal::ONE_THOUSAND).normalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("valid decimal")
    }

    #[test]
    fn registry_spellings() {
        for (raw, want) in [
            ("1,454,054", "1454054"),
            ("\"28,571\"", ""),
            ("550369.0", "550369"),
            ("2765.37", "2765.37"),
            ("  425 ", "425"),
            ("-12", "-12"),
            ("+7", "7"),
            ("1e+06", "1000000"),
            ("2.5E-3", "0.0025"),
            ("0", "0"),
            (".5", "0.5"),
            ("235604.0", "235604"),
        ] {
            if want.is_empty() {
                assert!(parse_quantity(raw).is_err(), "{raw}");
            } else {
                assert_eq!(parse_quantity(raw), Ok(dec(want)), "{raw}");
            }
        }
    }

    #[test]
    fn junk_and_blanks() {
        assert_eq!(parse_quantity(""), Err(QuantityError::Empty));
        assert_eq!(parse_quantity("nan"), Err(QuantityError::Empty));
        assert_eq!(parse_optional_quantity(" "), Ok(None));
        for raw in [
            "NaNx", "inf", "-inf", "1,5", "12,34", ",123", "1.2.3", "abc", "1 234", "--1", "1e",
            "1e999", "-", ".",
        ] {
            let r = parse_quantity(raw);
            assert!(
                matches!(
                    r,
                    Err(QuantityError::NotANumber { .. }) | Err(QuantityError::Empty)
                ),
                "{raw}: {r:?}"
            );
        }
    }

    #[test]
    fn whole_units() {
        assert_eq!(parse_whole_units("1,454,054"), Ok(1_454_054));
        assert_eq!(parse_whole_units("550369.0"), Ok(550_369));
        assert!(matches!(
            parse_whole_units("2.5"),
            Err(QuantityError::NotWhole { .. })
        ));
        assert!(matches!(
            parse_whole_units("-1"),
            Err(QuantityError::NotWhole { .. })
        ));
    }

    #[test]
    fn kilograms_to_tonnes_is_exact() {
        assert_eq!(kg_to_tonnes(dec("2765370")), dec("2765.37"));
        assert_eq!(kg_to_tonnes(dec("1")), dec("0.001"));
        assert_eq!(kg_to_tonnes(dec("531000")), dec("531"));
        assert_eq!(kg_to_tonnes(dec("0.5")), dec("0.0005"));
    }
}
