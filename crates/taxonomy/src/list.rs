//! The one list: harmonized categories, and the project types within each.

use serde::Deserialize;

/// A harmonized project category, e.g. `forestry-land-use`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Category {
    /// Stable id, lower case with hyphens.
    #[serde(rename = "category")]
    pub id: String,
    /// Display name.
    pub name: String,
    /// Where the category comes from.
    pub source: String,
}

/// A harmonized project type, e.g. `redd-plus`; it belongs to one category.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProjectType {
    /// Stable id, lower case with hyphens.
    #[serde(rename = "type")]
    pub id: String,
    /// Display name.
    pub name: String,
    /// The id of its category.
    pub category: String,
    /// Where the type comes from.
    pub source: String,
}
