//! The parsed form of a serial number: an inclusive integer range inside a namespace.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The largest unit number a range may hold. Storage keeps bounds in signed 64-bit integer
/// columns (SQLite INTEGER, PostgreSQL BIGINT), so parsers move any larger fixed prefix into the
/// namespace instead.
pub const MAX_UNIT_NUMBER: u64 = i64::MAX as u64;

/// `start..=end` inside `namespace`, where unit numbers are unique.
///
/// The namespace is where numbers are unique: Verra is one counter for the whole registry,
/// while registries that restart numbering per issuance batch put the batch in the namespace.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct SerialRange {
    /// Where unit numbers are unique, e.g. `verra` or `gold-standard:GS1-1-IN-GS2922-16-2017-20315`.
    pub namespace: String,
    /// First unit number, inclusive.
    pub start: u64,
    /// Last unit number, inclusive.
    pub end: u64,
}

impl SerialRange {
    /// Number of units in the range.
    pub fn quantity(&self) -> u64 {
        self.end - self.start + 1
    }

    /// The sub-range both ranges share, if any (same namespace only).
    pub fn overlap(&self, other: &SerialRange) -> Option<(u64, u64)> {
        if self.namespace != other.namespace {
            return None;
        }
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start <= end).then_some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(ns: &str, start: u64, end: u64) -> SerialRange {
        SerialRange {
            namespace: ns.into(),
            start,
            end,
        }
    }

    #[test]
    fn overlap_is_inclusive_and_namespace_bound() {
        assert_eq!(
            range("a", 1, 10).overlap(&range("a", 10, 20)),
            Some((10, 10))
        );
        assert_eq!(range("a", 1, 10).overlap(&range("a", 11, 20)), None);
        assert_eq!(range("a", 1, 10).overlap(&range("b", 1, 10)), None);
        assert_eq!(range("a", 5, 5).quantity(), 1);
    }
}
