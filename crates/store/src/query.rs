//! Read queries for the API: filtered, keyset-paginated views of the current records, serial
//! range lookups, aggregates, the change feed, and batch lookups for data loaders.
//!
//! Cursors are opaque strings made by the store (the sort key of the last row); a caller
//! passes one back to continue after that row. A cursor stays valid while records change:
//! pages never skip or repeat a record that stayed in place.

use carbonmesh_model::{
    AlertKind, AlertStatus, ProjectStatus, RecordVersion, RegistryId, Severity, TransactionType,
    UnitStatus,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

/// One page of a keyset-paginated query.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows, each with the cursor that continues after it.
    pub items: Vec<(String, T)>,
    /// Whether rows follow the last one.
    pub has_next_page: bool,
}

/// An inclusive range of days; an open end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateRange {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
}

/// Which projects to list. Empty lists and `None` mean "any"; every given condition must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectFilter {
    /// Registries.
    pub registries: Vec<RegistryId>,
    /// ISO 3166-1 alpha-2 codes.
    pub countries: Vec<String>,
    /// Normalized project statuses.
    pub statuses: Vec<ProjectStatus>,
    /// Methodology or protocol, case-insensitive exact match.
    pub methodology: Option<String>,
    /// Sector, category or project type, case-insensitive exact match on any of the three.
    pub category: Option<String>,
    /// Projects with a crediting period overlapping this range.
    pub crediting_period: Option<DateRange>,
    /// Case-insensitive substring of the project name.
    pub search: Option<String>,
    /// Projects that retired at least this many units (to the kilogram: the thousandth of
    /// a unit).
    pub retired_at_least: Option<Decimal>,
    /// Projects whose first issuance falls in this range.
    pub first_issuance: Option<DateRange>,
    /// The projects as they stood at this moment (see `queries::as_of`): the version then
    /// current of each project written by then. Roll-up orders and filters still read the
    /// current totals.
    pub as_of: Option<DateTime<Utc>>,
    /// Projects whose registry and raw sector, category and project type are exactly one of
    /// these combinations (none: no project). How callers filter by what the raw words mean
    /// (a harmonized category), having classified each stored combination.
    pub kinds: Option<Vec<RawKind>>,
}

/// A registry's combination of raw sector, category and project type, as stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RawKind {
    /// The registry.
    pub registry: RegistryId,
    /// The raw sector.
    pub sector: Option<String>,
    /// The raw category.
    pub category: Option<String>,
    /// The raw project type.
    pub project_type: Option<String>,
}

/// The order of a project listing; ties (and `Id`) are broken by project id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectOrder {
    /// By id (`<registry>:<registry project id>`).
    #[default]
    Id,
    /// By name, then id.
    Name,
    /// By country, then id.
    Country,
    /// Most units retired first (to the kilogram), then id.
    RetiredDesc,
    /// Earliest first issuance first (projects without an issuance last), then id.
    FirstIssuance,
}

/// Which credit records to list. Project conditions apply to the record's project.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreditFilter {
    /// Registries.
    pub registries: Vec<RegistryId>,
    /// One project (`<registry>:<registry project id>`).
    pub project_id: Option<String>,
    /// The project's country (ISO alpha-2).
    pub countries: Vec<String>,
    /// Vintage at least.
    pub vintage_from: Option<i32>,
    /// Vintage at most.
    pub vintage_to: Option<i32>,
    /// Transaction types.
    pub transaction_types: Vec<TransactionType>,
    /// Unit statuses.
    pub statuses: Vec<UnitStatus>,
    /// The project's methodology, case-insensitive exact match.
    pub methodology: Option<String>,
    /// The project's sector, category or project type, case-insensitive exact match.
    pub category: Option<String>,
    /// Event date in this range.
    pub event_date: Option<DateRange>,
    /// Case-insensitive substring of the project's name.
    pub search: Option<String>,
    /// The records (and their projects) as they stood at this moment: the version then
    /// current of each record written by then.
    pub as_of: Option<DateTime<Utc>>,
    /// Who claimed what: words of the beneficiary (harmonized, so `Microsoft Corp.` finds
    /// `MICROSOFT CORPORATION`), or text of the account, reason or note (case-insensitive).
    pub claim: Option<String>,
}

/// The order of a credit listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CreditOrder {
    /// In the order records were first stored (the default): new records come last, and a
    /// record keeps its place when it changes.
    #[default]
    Key,
    /// Newest event first (records without a date last); records of one date in the order
    /// they were first stored.
    EventDateDesc,
}

/// Which alerts to list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertFilter {
    /// Statuses.
    pub statuses: Vec<AlertStatus>,
    /// Kinds.
    pub kinds: Vec<AlertKind>,
    /// Severities.
    pub severities: Vec<Severity>,
    /// Alerts naming a record of this registry.
    pub registry: Option<RegistryId>,
    /// Assigned to this reviewer.
    pub assignee: Option<String>,
}

/// Alerts counted by each facet of an [`AlertFilter`] (see [`Store::alert_facets`](crate::Store::alert_facets)).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertFacets {
    /// Alerts matching the whole filter.
    pub total: u64,
    /// By status (`new`, …).
    pub statuses: Vec<FacetCount>,
    /// By severity (`critical`, …).
    pub severities: Vec<FacetCount>,
    /// By kind.
    pub kinds: Vec<FacetCount>,
    /// By assignee (unassigned alerts are not counted here).
    pub assignees: Vec<FacetCount>,
    /// By the registries of the records an alert names (an alert naming two counts for both).
    pub registries: Vec<FacetCount>,
}

/// How many alerts have one value of a facet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCount {
    /// The value, as stored (`critical`, `verra`, …).
    pub value: String,
    /// Alerts.
    pub count: u64,
}

/// How to group [`Store::statistics`](crate::Store::statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsGroup {
    /// By registry.
    Registry,
    /// By vintage year.
    Vintage,
    /// By the project's country.
    Country,
    /// By the project's category (sector when no category).
    Category,
    /// By the month of the records' event dates (`2024-03`); read from the records.
    EventMonth,
}

/// Credit totals of one group: exact decimal sums of the records' quantities.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatRow {
    /// The group's value (registry id, vintage year, country code, category); `None` for
    /// records without one.
    pub key: Option<String>,
    /// Units issued.
    pub issued: Decimal,
    /// Units retired.
    pub retired: Decimal,
    /// Units cancelled.
    pub cancelled: Decimal,
    /// Units contributed to a buffer pool (non-permanence reserves).
    pub buffer: Decimal,
    /// Units converted to another registry's or program's units.
    pub converted: Decimal,
    /// Credit records in the group.
    pub records: u64,
}

/// A project's credit records summed by what happened to their units (see
/// [`Store::project_rollups`](crate::Store::project_rollups)). Quantities are exact.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectRollup {
    /// The project (`<registry>:<registry project id>`).
    pub project_id: String,
    /// Credit records of the project.
    pub records: u64,
    /// Units issued. For a registry that lists blocks in their current state
    /// ([`RegistryId::reports_blocks`]) the sum of all its blocks; otherwise of its issuances.
    pub issued: Decimal,
    /// Units retired.
    pub retired: Decimal,
    /// Units cancelled.
    pub cancelled: Decimal,
    /// Units converted to another registry's or program's units.
    pub converted: Decimal,
    /// Units set aside in a buffer pool.
    pub buffer: Decimal,
    /// Units still available: the active blocks of a block registry; otherwise issued less
    /// retired, cancelled, converted and buffer.
    pub remaining: Decimal,
    /// Event day of the first issuance record.
    pub first_issuance: Option<NaiveDate>,
    /// Event day of the last issuance record.
    pub last_issuance: Option<NaiveDate>,
    /// Event day of the first retirement record.
    pub first_retirement: Option<NaiveDate>,
    /// Event day of the last retirement record.
    pub last_retirement: Option<NaiveDate>,
}

/// A beneficiary as carbonmesh harmonizes it, across registries (see
/// [`Store::beneficiaries`](crate::Store::beneficiaries)).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Beneficiary {
    /// The harmonized name (`microsoft`).
    pub name: String,
    /// Every spelling the records use, as published.
    pub spellings: Vec<String>,
    /// The registries whose records name it.
    pub registries: Vec<RegistryId>,
    /// Credit records naming it.
    pub records: u64,
    /// Units of those records (exact).
    pub units: Decimal,
}

/// A record version in the change feed.
pub type Change = RecordVersion;

/// Current projects and credit records of one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryCounts {
    /// The registry.
    pub registry: RegistryId,
    /// Projects.
    pub projects: u64,
    /// Credit records.
    pub credits: u64,
    /// When a record of this registry was last written.
    pub last_write: Option<DateTime<Utc>>,
}

/// A raw value of a project field, and how many current projects of a registry carry it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VocabularyCount {
    /// The registry.
    pub registry: RegistryId,
    /// The field: `sector`, `category` or `project_type`.
    pub field: &'static str,
    /// The value as stored.
    pub value: String,
    /// Projects carrying it.
    pub projects: u64,
}
