//! Member names of Global CarbonTrace's JSON records, and the API path of each feed.

use carbonmesh_connector::Feed;

/// Every record: the registry's internal project number (`initiatives.id`). Projects carry it
/// as `id`; the cancellations response names it only in its URL.
pub(crate) const INITIATIVE_ID: &str = "initiative_id";

// Issuance blocks (`/api/ghg/carbon-credits`).
pub(crate) const SERIAL: &str = "serial";
pub(crate) const AMOUNT: &str = "amount";
pub(crate) const ACTIVE: &str = "active";
pub(crate) const SOLD: &str = "sold";
pub(crate) const OUT_OF: &str = "outof";
pub(crate) const DROPOUTS: &str = "dropouts";
pub(crate) const DESTINATION: &str = "destination";
pub(crate) const YEAR: &str = "year";
pub(crate) const INITIAL_VINTAGE: &str = "initial_vintage";
pub(crate) const FINAL_VINTAGE: &str = "final_vintage";
pub(crate) const DATE_ISSUE: &str = "date_issue";
pub(crate) const CREATED_AT: &str = "created_at";
pub(crate) const PROJECT_CODE: &str = "project_id";
pub(crate) const HOLDER: &str = "holder";

// Retirements (`/api/ghg/retreats`).
pub(crate) const INITIAL_SERIAL: &str = "initial_serial";
pub(crate) const FINAL_SERIAL: &str = "final_serial";
pub(crate) const REASON: &str = "reason";
pub(crate) const TO_NAME: &str = "to_name";
pub(crate) const FINAL_USER: &str = "final_user";
pub(crate) const PASSIVE_USER: &str = "passive_user";
pub(crate) const MARKET: &str = "market";
pub(crate) const PROJECT_NAME: &str = "project_name";

// Cancellations (`/api/ghg/carbon-credits/project/{id}/cancellations`).
pub(crate) const CANCELLATION_DATE: &str = "cancellation_date";

// Projects (`/api/ghg/projects`).
pub(crate) const ID: &str = "id";
pub(crate) const COUNTRY: &str = "country";
pub(crate) const COUNTRY_ISO: &str = "country_iso";
pub(crate) const STATUS: &str = "status";
pub(crate) const SECTOR: &str = "sector_name";
pub(crate) const TYPE: &str = "type_project_name";
pub(crate) const HOLDER_NAME: &str = "holder_name";
pub(crate) const HOLDER_OBJECT: &str = "holder.holder";
pub(crate) const PERIOD_START: &str = "quantification_period_start";
pub(crate) const PERIOD_END: &str = "quantification_period_end";
pub(crate) const METHODOLOGIES: &str = "methodologies";
pub(crate) const OBJECTIVES: &str = "objetives";
pub(crate) const VVB: &str = "ovv";
pub(crate) const VERIFIED_REDUCTIONS: &str = "verified_reductions";

/// The paged resource of each feed under the host. Cancellations are read per project.
pub(crate) fn resource(feed: Feed) -> Option<&'static str> {
    match feed {
        Feed::Projects => Some("/api/ghg/projects"),
        Feed::Issuances => Some("/api/ghg/carbon-credits"),
        Feed::Retirements => Some("/api/ghg/retreats"),
        Feed::Cancellations | Feed::Transactions => None,
    }
}

/// The cancellations of the project with internal number `initiative`.
pub(crate) fn cancellations_path(initiative: &str) -> String {
    format!("/api/ghg/carbon-credits/project/{initiative}/cancellations")
}
