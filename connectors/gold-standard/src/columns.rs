//! Header spellings accepted for each Gold Standard export column.
//!
//! Columns are matched after header normalization (case, spaces), so only true renames need
//! listing: older exports wrote `* Using Entity`.

use carbonmesh_normalize::Column;

/// Credit exports: `GSID`.
pub const GSID: &[&str] = &["GSID", "GS ID", "Project ID"];
/// Credit exports: `Vintage`.
pub const VINTAGE: &[&str] = &["Vintage"];
/// Credit exports: `Credit Status`.
pub const STATUS: &[&str] = &["Credit Status", "Status"];
/// Credit exports: `Quantity`.
pub const QUANTITY: &[&str] = &["Quantity"];
/// Credit exports: `Serial Number`.
pub const SERIAL: &[&str] = &["Serial Number"];
/// Credit exports: `Product Type` (`VER`, `CER`, `PER`).
pub const PRODUCT: &[&str] = &["Product Type"];
/// Credit exports: `Issuance Date`.
pub const ISSUANCE_DATE: &[&str] = &["Issuance Date"];
/// Retirement export: `Retirement Date` (empty for cancellations).
pub const RETIREMENT_DATE: &[&str] = &["Retirement Date"];
/// Credit exports: `Monitoring Period Start`.
pub const PERIOD_START: &[&str] = &["Monitoring Period Start"];
/// Credit exports: `Monitoring Period End`.
pub const PERIOD_END: &[&str] = &["Monitoring Period End"];
/// Retirement export: `Note`.
pub const NOTE: &[&str] = &["Note"];
/// Retirement export: `Use Case` (`Voluntary`, `Compliance`).
pub const USE_CASE: &[&str] = &["Use Case"];
/// Retirement export: `Using Entity`.
pub const USING_ENTITY: &[&str] = &["Using Entity", "* Using Entity"];
/// Retirement export: `Aeroplane Operator Name` (CORSIA use).
pub const OPERATOR: &[&str] = &["Aeroplane Operator Name"];

/// Project export: `Project Name`.
pub const NAME: &[&str] = &["Project Name"];
/// Project export: `Project Developer Name`.
pub const DEVELOPER: &[&str] = &["Project Developer Name", "Project Developer"];
/// Project export: `Project Type`.
pub const PROJECT_TYPE: &[&str] = &["Project Type"];
/// Exports: `Country`.
pub const COUNTRY: &[&str] = &["Country"];
/// Exports: `Methodology`.
pub const METHODOLOGY: &[&str] = &["Methodology"];
/// Project export: `POA GSID`.
pub const POA_GSID: &[&str] = &["POA GSID"];
/// Exports: `Programme of Activities` (`Standalone`, `PoA`, `VPA`).
pub const PROGRAMME: &[&str] = &["Programme of Activities"];

/// Columns without which a credit export row means nothing.
pub const CREDITS_REQUIRED: [Column<'static>; 4] = [
    Column {
        name: "GSID",
        accepted: GSID,
    },
    Column {
        name: "Credit Status",
        accepted: STATUS,
    },
    Column {
        name: "Quantity",
        accepted: QUANTITY,
    },
    Column {
        name: "Serial Number",
        accepted: SERIAL,
    },
];

/// Columns without which a project export row means nothing.
pub const PROJECTS_REQUIRED: [Column<'static>; 2] = [
    Column {
        name: "GSID",
        accepted: GSID,
    },
    Column {
        name: "Project Name",
        accepted: NAME,
    },
];
