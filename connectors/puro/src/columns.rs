//! Member names of the Puro.earth registry's JSON records, and the page path of each feed.
//!
//! The registry has no API: every page embeds its records as JSON in the Next.js
//! server-component stream. The member names below are those of that JSON.

use carbonmesh_connector::Feed;

// Transactions (`/issuances`, `/retirements`).
pub(crate) const ID: &str = "id";
pub(crate) const TYPE: &str = "type";
pub(crate) const ACCOUNT_HOLDER: &str = "accountHolderName";
pub(crate) const COMPLETED_ON: &str = "completedOn";
pub(crate) const VOLUME: &str = "volume";
pub(crate) const BUNDLES: &str = "bundles";
pub(crate) const TRANSACTION_LABELS: &str = "transactionLabels";
pub(crate) const BENEFICIARY: &str = "retirementDetails.beneficiaryName";
pub(crate) const BENEFICIARY_HIDDEN_UNTIL: &str = "retirementDetails.beneficiaryHiddenUntil";
pub(crate) const BENEFICIARY_TYPE: &str = "retirementDetails.beneficiaryType";
pub(crate) const PURPOSE: &str = "retirementDetails.retirementPurpose";
pub(crate) const USAGE_TYPE: &str = "retirementDetails.usageType";
pub(crate) const CONSUMPTION_COUNTRY: &str = "retirementDetails.countryOfConsumption";
pub(crate) const CONSUMPTION_START: &str = "retirementDetails.consumptionPeriodStartDate";
pub(crate) const CONSUMPTION_END: &str = "retirementDetails.consumptionPeriodEndDate";
pub(crate) const STATEMENT_URL: &str = "retirementDetails.publicStatementUrl";
pub(crate) const AUDIT_BODY: &str = "issuanceDetails.auditBody";

// Bundles (`bundles[]` of a transaction): one certificate range each.
pub(crate) const BUNDLE_ID: &str = "id";
pub(crate) const CERTIFICATES: &str = "certificates";
pub(crate) const START: &str = "_start";
pub(crate) const END: &str = "_end";
pub(crate) const FACILITY: &str = "productionFacilityCode";
pub(crate) const VINTAGE: &str = "vintage";
pub(crate) const PRODUCTION_START: &str = "productionStartDate";
pub(crate) const PRODUCTION_END: &str = "productionEndDate";
pub(crate) const ISSUANCE_ID: &str = "issuanceId";

// Projects (`/projects`).
pub(crate) const PROJECT_CODE: &[&str] = &["code", "projectId"];
pub(crate) const PROJECT_NAME: &str = "name";
pub(crate) const GSRN: &str = "gsrn";
pub(crate) const COUNTRY: &str = "countryCode";
pub(crate) const SUPPLIER: &str = "supplierName";
pub(crate) const SUPPLIER_LISTING: &str = "supplierListingUrl";
pub(crate) const METHODOLOGY_CODE: &[&str] = &["methodology.code", "methodologyCode"];
pub(crate) const METHODOLOGY_NAME: &str = "methodology.name";
pub(crate) const CREDITING_START: &str = "creditingPeriodStart";
pub(crate) const CREDITING_END: &str = "creditingPeriodEnd";
pub(crate) const LATITUDE: &str = "latitude";
pub(crate) const LONGITUDE: &str = "longitude";
pub(crate) const SDGS: &str = "sdgs";

/// The registry page that embeds each feed's records.
pub(crate) fn page_path(feed: Feed) -> Option<&'static str> {
    match feed {
        Feed::Projects => Some("/projects"),
        Feed::Issuances => Some("/issuances"),
        Feed::Retirements => Some("/retirements"),
        Feed::Cancellations | Feed::Transactions => None,
    }
}
