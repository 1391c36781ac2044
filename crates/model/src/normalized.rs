//! A normalized value that keeps the registry's own wording beside it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A value mapped onto carbonmesh's vocabulary, with the registry's raw value kept verbatim.
///
/// The raw value is never thrown away: mappings improve over time, and reviewers need to see
/// exactly what the registry said.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Normalized<T> {
    /// The value in carbonmesh's vocabulary.
    pub value: T,
    /// The registry's own value, exactly as published.
    pub raw: String,
}

impl<T> Normalized<T> {
    /// Pairs a normalized value with the raw value it came from.
    pub fn new(value: T, raw: impl Into<String>) -> Self {
        Self {
            value,
            raw: raw.into(),
        }
    }
}
