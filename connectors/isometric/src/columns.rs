//! Field names of Isometric records. The Registry API returns nested JSON
//! (`credit_batch_size_total: {credits, credit_kgs}`); CarbonPlan's CSV exports flatten it with
//! dots (`credit_batch_size_total.credit_kgs`). One dotted name reads both: a CSV header, or a
//! path into the JSON object.

use carbonmesh_connector::Feed;
use carbonmesh_normalize::HeaderMap;

// Issuances.
pub(crate) const ISSUANCE_ID: &[&str] = &["id"];
pub(crate) const ISSUED_AT: &[&str] = &["issued_at"];
pub(crate) const PROJECT_ID: &[&str] = &["project_id"];
pub(crate) const TOTAL_KGS: &[&str] = &["credit_batch_size_total.credit_kgs"];
pub(crate) const TOTAL_CREDITS: &[&str] = &["credit_batch_size_total.credits"];
pub(crate) const BUFFER_KGS: &[&str] = &["buffer_pool_credit_batch_size_total.credit_kgs"];
pub(crate) const BUFFER_CREDITS: &[&str] = &["buffer_pool_credit_batch_size_total.credits"];
pub(crate) const SUPPLIER_KGS: &[&str] = &["supplier_credit_batch_size_total.credit_kgs"];
pub(crate) const SUPPLIER_CREDITS: &[&str] = &["supplier_credit_batch_size_total.credits"];
pub(crate) const SUPPLIER_ORG: &[&str] = &["supplier.organisation.name"];
pub(crate) const PERIOD_START: &[&str] = &["reporting_period_start_at"];
pub(crate) const PERIOD_END: &[&str] = &["reporting_period_end_at"];

// Retirements. The API calls the id `id`; CarbonPlan's export `retirement_id`.
pub(crate) const RETIREMENT_ID: &[&str] = &["retirement_id", "id"];
pub(crate) const RETIRED_AT: &[&str] = &["retired_at"];
pub(crate) const PURPOSES: &[&str] = &["purposes"];
pub(crate) const NOTES: &[&str] = &["notes"];
pub(crate) const BENEFICIARY: &[&str] = &["beneficiary.name"];
pub(crate) const OWNER: &[&str] = &["owner.name"];
pub(crate) const SEQUESTERED_ON: &[&str] = &["sequestered_on"];
/// API retirements name their project and sequestration dates per credit batch.
pub(crate) const CREDIT_BATCHES: &str = "credit_batches";

// Projects.
pub(crate) const PRJ_ID: &[&str] = &["id"];
pub(crate) const NAME: &[&str] = &["name"];
pub(crate) const STATUS: &[&str] = &["status"];
pub(crate) const SHORT_CODE: &[&str] = &["short_code"];
pub(crate) const URL: &[&str] = &["url"];
pub(crate) const PROCESS_KEY: &[&str] = &["process_key"];
pub(crate) const PATHWAY: &[&str] = &["pathway"];
pub(crate) const PROTOCOL: &[&str] = &["protocol_slug"];
pub(crate) const COUNTRY: &[&str] = &["country_code", "location.country_code"];
pub(crate) const CREDITING_START: &[&str] = &["crediting_period_start"];
pub(crate) const CREDITING_END: &[&str] = &["crediting_period_end"];
pub(crate) const LOCATION: &[&str] = &["location.description"];
pub(crate) const LATITUDE: &[&str] = &["location.latitude"];
pub(crate) const LONGITUDE: &[&str] = &["location.longitude"];

/// Columns without which a CSV row of `feed` cannot be normalized, by the name used in errors.
fn required(feed: Feed) -> &'static [(&'static str, &'static [&'static str])] {
    match feed {
        Feed::Projects => &[("project id", PRJ_ID), ("name", NAME)],
        Feed::Issuances => &[
            ("issuance id", ISSUANCE_ID),
            ("issued at", ISSUED_AT),
            ("project id", PROJECT_ID),
            ("credit kilograms", TOTAL_KGS),
        ],
        Feed::Retirements => &[
            ("retirement id", RETIREMENT_ID),
            ("retired at", RETIRED_AT),
            ("project id", PROJECT_ID),
            ("credit kilograms", TOTAL_KGS),
        ],
        Feed::Cancellations | Feed::Transactions => &[],
    }
}

/// The required columns of `feed` that `headers` lacks, each as its short name and the export's
/// column name (`credit kilograms ("credit_batch_size_total.credit_kgs")`).
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

/// Which export a CSV header row belongs to.
pub(crate) fn detect(headers: &HeaderMap) -> Option<Feed> {
    let has = |names: &[&str]| headers.find(names).is_some();
    if has(&["retirement_id"]) || has(RETIRED_AT) {
        Some(Feed::Retirements)
    } else if has(ISSUED_AT) {
        Some(Feed::Issuances)
    } else if has(PRJ_ID) && (has(PROTOCOL) || has(PROCESS_KEY)) {
        Some(Feed::Projects)
    } else {
        None
    }
}

/// The feed of a record id, by Isometric's id prefix.
pub(crate) fn feed_of_id(id: &str) -> Option<Feed> {
    match id.get(..4)? {
        "prj_" => Some(Feed::Projects),
        "iss_" => Some(Feed::Issuances),
        "ret_" => Some(Feed::Retirements),
        _ => None,
    }
}

/// The Registry API path of each feed, under the `/registry/v0` prefix.
pub(crate) fn api_path(feed: Feed) -> Option<&'static str> {
    match feed {
        Feed::Projects => Some("/projects"),
        Feed::Issuances => Some("/issuances"),
        Feed::Retirements => Some("/retirements"),
        Feed::Cancellations | Feed::Transactions => None,
    }
}
