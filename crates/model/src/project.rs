//! Projects, harmonized toward the CAD Trust project model.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Normalized, ProjectStatus, RegistryId, ValidationError};

/// A project as one registry lists it. Its id is `<registry>:<registry project id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Project {
    /// The registry that lists the project.
    pub registry: RegistryId,
    /// The registry's own project id, e.g. `VCS1507` or `GS2922` or `ACR0885`.
    pub registry_project_id: String,
    /// Project name as published.
    pub name: String,
    /// Developer or proponent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer: Option<String>,
    /// Host country as ISO 3166-1 alpha-2, when the registry's value could be mapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Host country exactly as the registry wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_raw: Option<String>,
    /// Sector, e.g. `Forestry and Land Use` or `Energy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// Category within the sector, e.g. `REDD+`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Project type as the registry names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_type: Option<String>,
    /// Methodology or protocol, e.g. `VM0007` or `Forest Project Protocol V3.2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methodology: Option<String>,
    /// Status in the registry's life cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Normalized<ProjectStatus>>,
    /// Crediting periods, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crediting_periods: Vec<Period>,
    /// Locations (sites, regions, coordinates).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// Labels such as CCP, CORSIA eligibility or Article 6 authorization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    /// Corresponding adjustment status as published (e.g. `Not Required`, `Committed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corresponding_adjustment: Option<String>,
    /// Ids of this project, or of its predecessors, in other registries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross_references: Vec<CrossReference>,
    /// The project's page on the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_url: Option<String>,
}

impl Project {
    /// A project with only its identity and name filled in.
    pub fn new(registry: RegistryId, registry_project_id: &str, name: &str) -> Self {
        Self {
            registry,
            registry_project_id: registry_project_id.trim().to_owned(),
            name: name.trim().to_owned(),
            developer: None,
            country: None,
            country_raw: None,
            sector: None,
            category: None,
            project_type: None,
            methodology: None,
            status: None,
            crediting_periods: Vec::new(),
            locations: Vec::new(),
            labels: Vec::new(),
            corresponding_adjustment: None,
            cross_references: Vec::new(),
            registry_url: None,
        }
    }

    /// The deterministic project id, `<registry>:<registry project id>`.
    pub fn id(&self) -> String {
        project_id(self.registry, &self.registry_project_id)
    }

    /// Checks the invariants the store relies on.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.registry_project_id.trim().is_empty() {
            return Err(ValidationError::new("registry_project_id", "is empty"));
        }
        if let Some(country) = self.country.as_ref().filter(|c| !is_alpha2(c)) {
            return Err(ValidationError::new(
                "country",
                format!("`{country}` is not an ISO 3166-1 alpha-2 code"),
            ));
        }
        for (i, period) in self.crediting_periods.iter().enumerate() {
            period.validate().map_err(|reason| {
                ValidationError::new(format!("crediting_periods[{i}]"), reason)
            })?;
        }
        Ok(())
    }
}

/// The deterministic id of a project: `<registry>:<registry project id>`.
pub fn project_id(registry: RegistryId, registry_project_id: &str) -> String {
    format!("{registry}:{}", registry_project_id.trim())
}

fn is_alpha2(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A date range; either end may be unknown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Period {
    /// First day, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// Last day, inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
}

impl Period {
    /// Rejects a period that ends before it starts.
    pub fn validate(&self) -> Result<(), String> {
        match (self.start, self.end) {
            (Some(start), Some(end)) if end < start => {
                Err(format!("ends ({end}) before it starts ({start})"))
            }
            _ => Ok(()),
        }
    }

    /// Whether two periods share at least one day; an open end overlaps everything on that side.
    pub fn overlaps(&self, other: &Period) -> bool {
        let starts_before_other_ends = match (self.start, other.end) {
            (Some(s), Some(e)) => s <= e,
            _ => true,
        };
        let ends_after_other_starts = match (self.end, other.start) {
            (Some(e), Some(s)) => e >= s,
            _ => true,
        };
        starts_before_other_ends && ends_after_other_starts
    }
}

/// Where a project is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// State, province, region or site name as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Latitude in decimal degrees (WGS 84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude in decimal degrees (WGS 84).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

/// A label attached to a project or its credits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Label {
    /// What kind of label it is, e.g. `ccp`, `corsia`, `article6_authorization`.
    pub kind: String,
    /// The label's value as published, e.g. `CORSIA eligible 2024-2026`.
    pub value: String,
}

/// The same project, or its predecessor, under another registry's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct CrossReference {
    /// The other registry, when known; `None` for ids of programs carbonmesh does not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryId>,
    /// The id in that registry, e.g. `CDM 1234` or `CAR1234`.
    pub id: String,
    /// How the two relate, e.g. `same_project`, `converted_from`, `arb_offset_project`.
    pub relation: String,
}
