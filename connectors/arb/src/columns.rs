//! Columns of sheet 3 of CARB's Offset Credit Issuance Table, found by name.

use carbonmesh_connector::Feed;
use carbonmesh_model::{TransactionType, UnitStatus};
use carbonmesh_normalize::HeaderMap;

pub(crate) const CARB_PROJECT_ID: &[&str] = &["CARB Project ID"];
pub(crate) const OPR_PROJECT_ID: &[&str] = &["OPR Project ID"];
pub(crate) const REPORTING_PERIOD: &[&str] = &["Reporting Period"];
pub(crate) const PROJECT_TYPE: &[&str] = &["Project Type"];
pub(crate) const EARLY_ACTION: &[&str] = &["Early Action/ Compliance"];
pub(crate) const PERIOD_START: &[&str] = &["Reporting Period Start Date"];
pub(crate) const PERIOD_END: &[&str] = &["Reporting Period End Date"];
pub(crate) const VINTAGE: &[&str] = &["Vintage"];
pub(crate) const ISSUED: &[&str] = &["ARB Offset Credits Issued"];
pub(crate) const ISSUANCE_DATE: &[&str] = &["Issuance Date"];
pub(crate) const PROJECT_NAME: &[&str] = &["Offset Project Name"];
pub(crate) const OPERATOR: &[&str] = &["Offset Project Operator"];
pub(crate) const STATE: &[&str] = &["State"];
pub(crate) const DOCUMENTATION: &[&str] = &["Project Documentation"];
pub(crate) const INTENTIONAL_REVERSAL: &str = "Intentional Reversal";
pub(crate) const UNINTENTIONAL_REVERSAL: &str = "Unintentional Reversal";
pub(crate) const ISSUANCE_ID: &[&str] = &["CARB Issuance ID"];
pub(crate) const COMMENT: &[&str] = &["Comment"];

/// Columns that each give an amount of an issuance with its own fate, and how it maps:
/// (column, key suffix, transaction type, unit status).
pub(crate) const AMOUNTS: [(&str, &str, TransactionType, UnitStatus); 11] = [
    (
        "Forest Buffer Account Contribution",
        "buffer",
        TransactionType::Buffer,
        UnitStatus::Buffer,
    ),
    (
        "Invalidated or Canceled",
        "invalidated",
        TransactionType::Cancellation,
        UnitStatus::Cancelled,
    ),
    (
        "Buffer Pool Retired",
        "buffer-retired",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
    (
        "Retired for Intentional Reversal",
        "retired-intentional-reversal",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
    (
        "Retired Voluntarily",
        "retired-voluntarily",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
    (
        "Retired 1st Compliance Period (CA)",
        "retired-cp1-ca",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
    (
        "Retired 2nd Compliance Period (CA)",
        "retired-cp2-ca",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
    (
        "Retired 3rd Compliance Period (CA)",
        "retired-cp3-ca",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
    (
        "Retired 4th Compliance Period (CA)",
        "retired-cp4-ca",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
    (
        "Retired 5th Compliance Period (CA)",
        "retired-cp5-ca",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
    (
        "Retired for Compliance in Quebec",
        "retired-quebec",
        TransactionType::Retirement,
        UnitStatus::Retired,
    ),
];

/// The required columns the header lacks.
/// Each is given as its short name and the sheet's column name
/// (`carb issuance id ("CARB Issuance ID")`), so an error says exactly which header to look for.
pub(crate) fn missing_required(feed: Feed, headers: &HeaderMap) -> Vec<String> {
    if feed != Feed::Issuances {
        return vec!["(ARB publishes issuances only)".to_owned()];
    }
    [
        ("carb project id", CARB_PROJECT_ID),
        ("opr project id", OPR_PROJECT_ID),
        ("reporting period", REPORTING_PERIOD),
        ("vintage", VINTAGE),
        ("arb offset credits issued", ISSUED),
        ("carb issuance id", ISSUANCE_ID),
    ]
    .into_iter()
    .filter(|(_, accepted)| headers.find(accepted).is_none())
    .map(|(name, accepted)| match accepted.first() {
        Some(column) => format!("{name} ({column:?})"),
        None => name.to_owned(),
    })
    .collect()
}

/// Whether a header row is the issuance table's.
pub(crate) fn detect(headers: &HeaderMap) -> Option<Feed> {
    (headers.find(CARB_PROJECT_ID).is_some() && headers.find(OPR_PROJECT_ID).is_some())
        .then_some(Feed::Issuances)
}
