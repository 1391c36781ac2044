//! Member names of CADT v1 projects and units, as the REST API serves them (camelCase).

// Projects.
pub(crate) const WAREHOUSE_PROJECT_ID: &[&str] = &["warehouseProjectId"];
pub(crate) const ORG_UID: &[&str] = &["orgUid"];
pub(crate) const CURRENT_REGISTRY: &[&str] = &["currentRegistry"];
pub(crate) const PROJECT_ID: &[&str] = &["projectId"];
pub(crate) const ORIGIN_PROJECT_ID: &[&str] = &["originProjectId"];
pub(crate) const REGISTRY_OF_ORIGIN: &[&str] = &["registryOfOrigin"];
pub(crate) const PROGRAM: &[&str] = &["program"];
pub(crate) const PROJECT_NAME: &[&str] = &["projectName"];
pub(crate) const PROJECT_LINK: &[&str] = &["projectLink"];
pub(crate) const DEVELOPER: &[&str] = &["projectDeveloper"];
pub(crate) const SECTOR: &[&str] = &["sector"];
pub(crate) const PROJECT_TYPE: &[&str] = &["projectType"];
pub(crate) const PROJECT_TAGS: &[&str] = &["projectTags"];
pub(crate) const PROJECT_STATUS: &[&str] = &["projectStatus"];
pub(crate) const METHODOLOGY: &[&str] = &["methodology"];
pub(crate) const METHODOLOGY2: &[&str] = &["methodology2"];
pub(crate) const LOCATIONS: &str = "projectLocations";
pub(crate) const LABELS: &str = "labels";
pub(crate) const ESTIMATIONS: &str = "estimations";
pub(crate) const CO_BENEFITS: &str = "coBenefits";
pub(crate) const RATINGS: &str = "projectRatings";
pub(crate) const RELATED: &str = "relatedProjects";

// Units.
pub(crate) const WAREHOUSE_UNIT_ID: &[&str] = &["warehouseUnitId"];
pub(crate) const UNIT_OWNER: &[&str] = &["unitOwner"];
pub(crate) const OWNER_COUNTRY: &[&str] = &["countryJurisdictionOfOwner"];
pub(crate) const SERIAL_BLOCK: &[&str] = &["serialNumberBlock"];
pub(crate) const BLOCK_START: &[&str] = &["unitBlockStart"];
pub(crate) const BLOCK_END: &[&str] = &["unitBlockEnd"];
pub(crate) const UNIT_COUNT: &[&str] = &["unitCount"];
pub(crate) const VINTAGE_YEAR: &[&str] = &["vintageYear"];
pub(crate) const UNIT_TYPE: &[&str] = &["unitType"];
pub(crate) const MARKETPLACE: &[&str] = &["marketplace"];
pub(crate) const MARKETPLACE_ID: &[&str] = &["marketplaceIdentifier"];
pub(crate) const UNIT_STATUS: &[&str] = &["unitStatus"];
pub(crate) const UNIT_STATUS_REASON: &[&str] = &["unitStatusReason"];
pub(crate) const UNIT_REGISTRY_LINK: &[&str] = &["unitRegistryLink"];
pub(crate) const CA_DECLARATION: &[&str] = &["correspondingAdjustmentDeclaration"];
pub(crate) const CA_STATUS: &[&str] = &["correspondingAdjustmentStatus"];
pub(crate) const ISSUANCE_PROJECT: &[&str] = &["issuance.warehouseProjectId"];
pub(crate) const ISSUANCE_START: &[&str] = &["issuance.startDate"];
pub(crate) const ISSUANCE_END: &[&str] = &["issuance.endDate"];
pub(crate) const ISSUANCE_BODY: &[&str] = &["issuance.verificationBody"];
pub(crate) const ISSUANCE_REPORT_DATE: &[&str] = &["issuance.verificationReportDate"];
