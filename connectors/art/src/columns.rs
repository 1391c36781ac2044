//! Column names of ART's APX CSV exports and member names of GreenTrace JSON rows. Columns are
//! found by name after header normalization, so `Program  Country` (double space) is
//! `Program Country`, and renamed columns are listed under every known name.

use carbonmesh_connector::Feed;
use carbonmesh_normalize::HeaderMap;

pub(crate) const PROGRAM_ID: &[&str] = &["Program ID"];
pub(crate) const VINTAGE: &[&str] = &["Vintage"];

// Retirements and cancellations.
pub(crate) const SERIAL: &[&str] = &["Credit Serial Numbers"];
pub(crate) const QUANTITY: &[&str] = &["Quantity of Credits"];
pub(crate) const STATUS_EFFECTIVE: &[&str] = &["Status Effective", "Status Effective (GMT)"];
pub(crate) const ACCOUNT_HOLDER: &[&str] = &["Account Holder"];
pub(crate) const BENEFICIARY: &[&str] = &["Retired on Behalf of"];
pub(crate) const RETIREMENT_REASON: &[&str] = &["Retirement Reason"];
/// Renamed in 2026: CarbonPlan's mapping still expects `Retirement Reason Details`.
pub(crate) const RETIREMENT_PURPOSE: &[&str] =
    &["Purpose of Retirement", "Retirement Reason Details"];
pub(crate) const CANCELLATION_REASON: &[&str] = &["Cancellation Reason"];
pub(crate) const CANCELLATION_DETAILS: &[&str] = &["Cancellation Details"];

// Issuances.
pub(crate) const DATE_APPROVED: &[&str] = &["Date Approved"];
pub(crate) const TOTAL_ERR: &[&str] = &["Total Emission Reductions/Removals"];
pub(crate) const CREDITS_VERIFIED: &[&str] = &["Credits Verified"];
pub(crate) const BUFFER: &str = "Credits Deposited in Buffer";

// Projects (ART calls them programs).
pub(crate) const PROGRAM_NAME: &[&str] = &["Program Name"];
pub(crate) const DEVELOPER: &[&str] = &["Sovereign Program Developer"];
pub(crate) const STANDARD: &[&str] = &["Crediting Program and Standard"];
pub(crate) const PROGRAM_TYPE: &[&str] = &["Program Type"];
pub(crate) const STATUS: &[&str] = &["Status"];
pub(crate) const CREDITING_START: &[&str] = &["Initial Crediting Period Start Date"];
pub(crate) const JURISDICTIONS: &[&str] = &["Program Jurisdiction(s)"];
pub(crate) const COUNTRY: &[&str] = &["Program Country"];
pub(crate) const CORSIA: &[&str] = &["CORSIA Eligible"];
pub(crate) const CCP: &[&str] = &["ICVCM CCP Eligible", "CCP Approved"];

/// Columns without which a row of `feed` cannot be normalized, by the name used in errors.
fn required(feed: Feed) -> &'static [(&'static str, &'static [&'static str])] {
    match feed {
        Feed::Projects => &[
            ("program id", PROGRAM_ID),
            ("program name", PROGRAM_NAME),
            ("status", STATUS),
        ],
        Feed::Issuances => &[
            ("program id", PROGRAM_ID),
            ("vintage", VINTAGE),
            ("date approved", DATE_APPROVED),
            ("credits verified", CREDITS_VERIFIED),
        ],
        Feed::Retirements => &[
            ("program id", PROGRAM_ID),
            ("vintage", VINTAGE),
            ("serial numbers", SERIAL),
            ("quantity", QUANTITY),
            ("status effective", STATUS_EFFECTIVE),
            ("retirement reason", RETIREMENT_REASON),
        ],
        Feed::Cancellations => &[
            ("program id", PROGRAM_ID),
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
/// column name (`serial numbers ("Credit Serial Numbers")`).
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

/// Which APX export a header row belongs to.
pub(crate) fn detect(headers: &HeaderMap) -> Option<Feed> {
    let has = |names: &[&str]| headers.find(names).is_some();
    if has(SERIAL) && has(RETIREMENT_REASON) {
        Some(Feed::Retirements)
    } else if has(SERIAL) && has(CANCELLATION_REASON) {
        Some(Feed::Cancellations)
    } else if has(CREDITS_VERIFIED) {
        Some(Feed::Issuances)
    } else if has(PROGRAM_ID) && has(STATUS) && (has(CREDITING_START) || has(STANDARD)) {
        Some(Feed::Projects)
    } else {
        None
    }
}
