//! Column and member names of the Cercarbono exports, found by name (after header
//! normalization), never by position. The offsets-db-data CSVs are flattenings of the
//! EcoRegistry API, so one name usually serves the CSV column and the JSON member alike.

use carbonmesh_connector::Feed;
use carbonmesh_normalize::HeaderMap;

// Issued batch serials (`analytics/projects` → `serials[]`).
pub(crate) const SERIAL: &[&str] = &["serial"];
pub(crate) const VERIFICATION: &[&str] = &["verification"];
pub(crate) const ISSUED_QUANTITY: &[&str] = &["issued_quantity"];
pub(crate) const ISSUANCE_DATE: &[&str] = &["issuance_date"];
pub(crate) const YEAR: &[&str] = &["year"];
pub(crate) const IS_BUFFER: &[&str] = &["is_buffer"];
pub(crate) const VINTAGE_OF_CREDITS: &[&str] = &["vintage_of_credits"];
pub(crate) const ELIGIBLE: &[&str] = &["elegible", "eligible"];

// Retirements (the CSV download and `analytics/get-retirements`).
pub(crate) const RETIREMENT_ID: &[&str] = &["id"];
pub(crate) const QUANTITY: &[&str] = &["quantity"];
pub(crate) const DATE: &[&str] = &["date"];
pub(crate) const VINTAGE: &[&str] = &["vintage"];
pub(crate) const FROM: &[&str] = &["from"];
pub(crate) const TO: &[&str] = &["to"];
pub(crate) const IS_KG: &[&str] = &["is_kg"];
pub(crate) const END_USER: &[&str] = &["end_user", "final_user"];
pub(crate) const PASSIVE_SUBJECT: &[&str] = &["passive_subject"];
pub(crate) const DESTINATION: &[&str] = &["certificate_destination", "reason_using.description"];
pub(crate) const END_USER_COUNTRY: &[&str] = &["country_final_user"];
pub(crate) const INDUSTRY: &[&str] = &["industry"];

// Projects (`analytics/projects` as the CSV flattens it).
pub(crate) const PROJECT_INTERNAL_ID: &[&str] = &["id"];
pub(crate) const CODE: &[&str] = &["code"];
pub(crate) const NAME: &[&str] = &["name"];
pub(crate) const DEVELOPER: &[&str] = &["developer"];
pub(crate) const OWNER: &[&str] = &["owner"];
pub(crate) const SECTOR: &[&str] = &["sector"];
pub(crate) const METHOD: &[&str] = &["quantification_method"];
pub(crate) const STAGE: &[&str] = &["stage"];
pub(crate) const LOCATIONS: &[&str] = &["locations"];
pub(crate) const SERIALS: &[&str] = &["serials"];

/// Columns without which a row of `feed` cannot be normalized, by the name used in errors.
fn required(feed: Feed) -> &'static [&'static [&'static str]] {
    match feed {
        Feed::Projects => &[CODE, NAME],
        Feed::Issuances => &[SERIAL, ISSUED_QUANTITY, ISSUANCE_DATE],
        Feed::Retirements => &[SERIAL, QUANTITY, DATE],
        Feed::Cancellations | Feed::Transactions => &[],
    }
}

/// The required columns of `feed` that `headers` lacks.
pub(crate) fn missing_required(feed: Feed, headers: &HeaderMap) -> Vec<String> {
    if matches!(feed, Feed::Cancellations | Feed::Transactions) {
        return vec![format!("(Cercarbono publishes no {feed} export)")];
    }
    required(feed)
        .iter()
        .filter(|accepted| headers.find(accepted).is_none())
        .filter_map(|accepted| accepted.first().map(|c| (*c).to_owned()))
        .collect()
}

/// Which export a header row belongs to.
pub(crate) fn detect(headers: &HeaderMap) -> Option<Feed> {
    let has = |names: &[&str]| headers.find(names).is_some();
    if has(SERIAL) && has(ISSUED_QUANTITY) {
        Some(Feed::Issuances)
    } else if has(SERIAL) && has(QUANTITY) && (has(FROM) || has(DESTINATION)) {
        Some(Feed::Retirements)
    } else if has(CODE) && has(NAME) && (has(STAGE) || has(SERIALS)) {
        Some(Feed::Projects)
    } else {
        None
    }
}
