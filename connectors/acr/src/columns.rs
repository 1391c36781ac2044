//! Column names of ACR's legacy APX CSV exports and member names of GreenTrace JSON rows.
//! Columns are found by name after header normalization, so `Status Effective  (GMT)` (double
//! space, cancellations) and `Status Effective (GMT)` (retirements) are one column.

use carbonmesh_connector::Feed;
use carbonmesh_normalize::HeaderMap;

pub(crate) const PROJECT_ID: &[&str] = &["Project ID"];
pub(crate) const VINTAGE: &[&str] = &["Vintage"];

// Retirements and cancellations.
pub(crate) const SERIAL: &[&str] = &["Credit Serial Numbers"];
pub(crate) const QUANTITY: &[&str] = &["Quantity of Credits"];
pub(crate) const STATUS_EFFECTIVE: &[&str] = &["Status Effective (GMT)"];
pub(crate) const ACCOUNT_HOLDER: &[&str] = &["Account Holder"];
pub(crate) const PERIOD_START: &[&str] = &[
    "Vintage Assignment Period Start Date",
    "ReportingPeriodBegin",
];
pub(crate) const PERIOD_END: &[&str] =
    &["Vintage Assignment Period End Date", "ReportingPeriodEnd"];
pub(crate) const BENEFICIARY: &[&str] = &["Retired on Behalf of"];
pub(crate) const RETIREMENT_REASON: &[&str] = &["Retirement Reason"];
pub(crate) const RETIREMENT_PURPOSE: &[&str] = &["Purpose of Retirement"];
pub(crate) const CANCELLATION_TYPE: &[&str] = &["Cancellation Type"];
pub(crate) const CANCELLATION_DETAILS: &[&str] = &["Cancellation Details"];

// Issuances.
pub(crate) const DATE_ISSUED: &[&str] = &["Date Issued (GMT)"];
pub(crate) const TOTAL_ISSUED: &[&str] = &["Total Credits Issued"];
pub(crate) const ISSUED_TO_PROJECT: &[&str] = &["Credits Issued to Project"];
pub(crate) const ISSUED_TO_BUFFER: &str = "Credits Issued to Buffer Pool";
pub(crate) const TRANSFERRED_TO_BUFFER: &str = "Credits Transferred to Buffer Pool";

// Projects.
pub(crate) const COMPLIANCE_ID: &[&str] = &["Compliance Program ID (ARB or Ecology)"];
pub(crate) const PROJECT_NAME: &[&str] = &["Project Name"];
pub(crate) const DEVELOPER: &[&str] = &["Project Developer"];
pub(crate) const PROJECT_TYPE: &[&str] = &["Project Type"];
pub(crate) const METHODOLOGY: &[&str] = &["Project Methodology/Protocol"];
pub(crate) const METHODOLOGY_VERSION: &[&str] = &["Methodology/Protocol Version"];
pub(crate) const CREDITING_START: &[&str] = &["Current Crediting Period Start Date"];
pub(crate) const CREDITING_END: &[&str] = &["Current Crediting Period End Date"];
pub(crate) const INITIAL_CREDITING_START: &[&str] = &["Initial Crediting Period Start Date"];
pub(crate) const VOLUNTARY_STATUS: &[&str] = &["Voluntary Status"];
pub(crate) const COMPLIANCE_STATUS: &[&str] = &["Compliance Program Status (ARB or Ecology)"];
pub(crate) const SITE_LOCATION: &[&str] = &["Project Site Location"];
pub(crate) const SITE_STATE: &[&str] = &["Project Site State"];
pub(crate) const SITE_COUNTRY: &[&str] = &["Project Site Country"];

/// Columns without which a row of `feed` cannot be normalized, by the name used in errors.
fn required(feed: Feed) -> &'static [(&'static str, &'static [&'static str])] {
    match feed {
        Feed::Projects => &[("project id", PROJECT_ID), ("project name", PROJECT_NAME)],
        Feed::Issuances => &[
            ("project id", PROJECT_ID),
            ("vintage", VINTAGE),
            ("date issued", DATE_ISSUED),
            ("total credits issued", TOTAL_ISSUED),
        ],
        Feed::Retirements => &[
            ("project id", PROJECT_ID),
            ("vintage", VINTAGE),
            ("serial numbers", SERIAL),
            ("quantity", QUANTITY),
            ("status effective", STATUS_EFFECTIVE),
            ("retirement reason", RETIREMENT_REASON),
        ],
        Feed::Cancellations => &[
            ("project id", PROJECT_ID),
            ("vintage", VINTAGE),
            ("serial numbers", SERIAL),
            ("quantity", QUANTITY),
            ("status effective", STATUS_EFFECTIVE),
            ("cancellation type", CANCELLATION_TYPE),
        ],
        Feed::Transactions => &[],
    }
}

/// The required columns of `feed` that `headers` lacks.
pub(crate) fn missing_required(feed: Feed, headers: &HeaderMap) -> Vec<&'static str> {
    required(feed)
        .iter()
        .filter(|(_, accepted)| headers.find(accepted).is_none())
        .map(|(name, _)| *name)
        .collect()
}

/// Which legacy export a header row belongs to.
pub(crate) fn detect(headers: &HeaderMap) -> Option<Feed> {
    let has = |names: &[&str]| headers.find(names).is_some();
    if has(SERIAL) && has(RETIREMENT_REASON) {
        Some(Feed::Retirements)
    } else if has(SERIAL) && has(CANCELLATION_TYPE) {
        Some(Feed::Cancellations)
    } else if has(TOTAL_ISSUED) {
        Some(Feed::Issuances)
    } else if has(PROJECT_ID) && (has(COMPLIANCE_ID) || has(VOLUNTARY_STATUS)) {
        Some(Feed::Projects)
    } else {
        None
    }
}
