//! Checking a parsed range against the quantity a record states.

use rust_decimal::Decimal;

use crate::ParsedSerial;

/// A parsed range whose size differs from the record's stated quantity. The matcher raises a
/// data-quality alert on it; nothing here corrects either side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityMismatch {
    /// The range holds a different quantity than stated.
    #[error(
        "serial range {namespace} {start}-{end} holds {parsed} tCO2e but the record states {stated}"
    )]
    Differs {
        /// Namespace of the range.
        namespace: String,
        /// First unit number.
        start: u64,
        /// Last unit number.
        end: u64,
        /// Quantity the range holds, in tonnes.
        parsed: Decimal,
        /// Quantity the record states, in tonnes.
        stated: Decimal,
    },
    /// The serial names a batch without a range (Cercarbono without `from`/`to`).
    #[error(
        "serial {namespace} names a batch without a range; stated quantity {stated} cannot be checked"
    )]
    NoRange {
        /// Namespace of the batch.
        namespace: String,
        /// Quantity the record states, in tonnes.
        stated: Decimal,
    },
}

impl QuantityMismatch {
    /// Stated minus parsed, when both are known.
    pub fn difference(&self) -> Option<Decimal> {
        match self {
            QuantityMismatch::Differs { parsed, stated, .. } => Some(*stated - *parsed),
            QuantityMismatch::NoRange { .. } => None,
        }
    }
}

/// Checks `end - start + 1` (times the unit of account) against the record's stated quantity
/// in tonnes of CO2e.
pub fn check_quantity(parsed: &ParsedSerial, stated: Decimal) -> Result<(), QuantityMismatch> {
    match (parsed.range, parsed.quantity()) {
        (Some(r), Some(q)) if q == stated => {
            let _ = r;
            Ok(())
        }
        (Some(r), Some(q)) => Err(QuantityMismatch::Differs {
            namespace: parsed.namespace.clone(),
            start: r.start,
            end: r.end,
            parsed: q,
            stated,
        }),
        _ => Err(QuantityMismatch::NoRange {
            namespace: parsed.namespace.clone(),
            stated,
        }),
    }
}

/// A stated quantity that is not a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stated quantity `{0}` is not a decimal number")]
pub struct StatedQuantityError(pub String);

/// Reads a quantity as registries print it: thousands separators (`"1,454,054"`), float
/// artefacts (`"550369.0"`), decimal tonnes (`"2765.37"`). A comma is never a decimal point.
pub fn parse_stated_quantity(text: &str) -> Result<Decimal, StatedQuantityError> {
    let t = text.trim();
    let cleaned: String = t.chars().filter(|&c| c != ',').collect();
    if cleaned.is_empty() || cleaned.starts_with('-') {
        return Err(StatedQuantityError(text.to_owned()));
    }
    cleaned
        .parse::<Decimal>()
        .map(|d| d.normalize())
        .map_err(|_| StatedQuantityError(text.to_owned()))
}
