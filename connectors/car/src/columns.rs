//! Column names of CAR's APX exports. Columns are found by name (after header normalization),
//! never by position: CAR renamed `CCP Approved` to `ICVCM CCP Eligible` in 2026.

use carbonmesh_connector::Feed;
use carbonmesh_normalize::HeaderMap;

pub(crate) const PROJECT_ID: &[&str] = &["Project ID"];
pub(crate) const VINTAGE: &[&str] = &["Vintage"];

// Retirements and cancellations.
pub(crate) const SERIAL: &[&str] = &["Offset Credit Serial Numbers", "Serial Numbers"];
pub(crate) const QUANTITY: &[&str] = &["Quantity of Offset Credits"];
pub(crate) const STATUS_EFFECTIVE: &[&str] = &["Status Effective"];
pub(crate) const ACCOUNT_HOLDER: &[&str] = &["Account Holder"];
pub(crate) const RETIREMENT_REASON: &[&str] = &["Retirement Reason"];
pub(crate) const RETIREMENT_DETAILS: &[&str] = &["Retirement Reason Details"];
pub(crate) const CANCELLATION_REASON: &[&str] = &["Cancellation Reason"];
pub(crate) const EXPORT_NOTES: &[&str] = &["Export Notes"];

// Issuances.
pub(crate) const DATE_ISSUED: &[&str] = &["Date Issued"];
pub(crate) const TOTAL_ISSUED: &[&str] = &["Total Offset Credits Issued"];
pub(crate) const RESERVE_BUFFER: &str = "Offset Credits Currently in Reserve Buffer Pool";
pub(crate) const COMPLIANCE_BUFFER: &str = "Offset Credits Intended for Compliance Buffer Pool";
pub(crate) const CONVERTED_TO_VCUS: &str = "Offset Credits Converted to VCUs";
pub(crate) const CANCELED_FOR_COMPLIANCE: &[&str] = &["Canceled for Compliance"];
pub(crate) const CANCELED: &[&str] = &["Canceled"];
pub(crate) const ZERO_CREDIT: &[&str] = &["Zero-Credit Reporting Period"];
pub(crate) const CREDITING_PERIOD: &[&str] = &["Crediting Period"];

// Projects.
pub(crate) const PROJECT_NAME: &[&str] = &["Project Name"];
pub(crate) const DEVELOPER: &[&str] = &["Project Developer"];
pub(crate) const PROJECT_TYPE: &[&str] = &["Project Type"];
pub(crate) const PROTOCOL: &[&str] = &["Protocol and Version"];
pub(crate) const STATUS: &[&str] = &["Status"];
pub(crate) const COMPLIANCE_STATUS: &[&str] = &["Compliance Program Status"];
pub(crate) const SITE_LOCATION: &[&str] = &["Project Site Location"];
pub(crate) const SITE_STATE: &[&str] = &["Project Site State"];
pub(crate) const SITE_COUNTRY: &[&str] = &["Project Site Country"];
pub(crate) const COMPLIANCE_ID: &[&str] = &["Compliance Program ID"];
pub(crate) const ARB_ID: &[&str] = &["ARB ID"];
pub(crate) const WA_ECO_ID: &[&str] = &["WA ECO"];
pub(crate) const CCP: &[&str] = &["ICVCM CCP Eligible", "CCP Approved"];

/// Columns without which a row of `feed` cannot be normalized, by the name used in errors.
fn required(feed: Feed) -> &'static [(&'static str, &'static [&'static str])] {
    match feed {
        Feed::Projects => &[
            ("project id", PROJECT_ID),
            ("project name", PROJECT_NAME),
            ("status", STATUS),
        ],
        Feed::Issuances => &[
            ("project id", PROJECT_ID),
            ("vintage", VINTAGE),
            ("date issued", DATE_ISSUED),
            ("total offset credits issued", TOTAL_ISSUED),
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
            ("cancellation reason", CANCELLATION_REASON),
        ],
        Feed::Transactions => &[],
    }
}

/// The required columns of `feed` that `headers` lacks, each as its short name and the export's
/// column name (`serial numbers ("Offset Credit Serial Numbers")`), so an error says exactly
/// which header to look for.
pub(crate) fn missing_required(feed: Feed, headers: &HeaderMap) -> Vec<String> {
    required(feed)
        .iter()
        .filter(|(_, accepted)| headers.find(accepted).is_none())
        .map(|(name, accepted)| match accepted.first() {
            Some(column) => format!("{name} ({column:?})"),
            None => (*name).to_owned(),
        })
        .collect()
}

/// Which export a header row belongs to.
pub(crate) fn detect(headers: &HeaderMap) -> Option<Feed> {
    let has = |names: &[&str]| headers.find(names).is_some();
    if has(SERIAL) && has(RETIREMENT_REASON) {
        Some(Feed::Retirements)
    } else if has(SERIAL) && has(CANCELLATION_REASON) {
        Some(Feed::Cancellations)
    } else if has(TOTAL_ISSUED) {
        Some(Feed::Issuances)
    } else if has(PROJECT_ID) && has(STATUS) && has(&["Project Listed Date"]) {
        Some(Feed::Projects)
    } else {
        None
    }
}
