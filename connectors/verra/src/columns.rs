//! Header spellings accepted for each Verra column, and JSON member names of the Platts entities.
//!
//! CSV columns are matched after header normalization (case, spaces), so only true renames
//! need listing. The uiapi JSON keys are accepted too, so a saved uiapi response reads the
//! same way as the CSV export.

use carbonmesh_normalize::Column;

/// VCU export: `ID`.
pub const ID: &[&str] = &["ID", "resourceIdentifier", "Project ID"];
/// VCU export: `Quantity Issued`.
pub const QUANTITY: &[&str] = &["Quantity Issued", "quantity"];
/// VCU export: `Serial Number`.
pub const SERIAL: &[&str] = &["Serial Number", "serialNumbers"];
/// VCU export: `Vintage Start`.
pub const VINTAGE_START: &[&str] = &["Vintage Start", "vintageStart"];
/// VCU export: `Vintage End`.
pub const VINTAGE_END: &[&str] = &["Vintage End", "vintageEnd"];
/// VCU export: `Issuance Date`.
pub const ISSUANCE_DATE: &[&str] = &["Issuance Date", "issuanceDate"];
/// VCU export: `Retirement/Cancellation Date`.
pub const RETIRE_DATE: &[&str] = &["Retirement/Cancellation Date", "retireOrCancelDate"];
/// VCU export: `Retirement Beneficiary`.
pub const BENEFICIARY: &[&str] = &["Retirement Beneficiary", "retirementBeneficiary"];
/// VCU export: `Retirement Reason`.
pub const REASON: &[&str] = &["Retirement Reason", "retirementReason"];
/// VCU export: `Retirement Details`.
pub const DETAILS: &[&str] = &["Retirement Details", "retirementDetails"];

/// Project export: `Name`.
pub const NAME: &[&str] = &["Name", "resourceName"];
/// Project export: `Proponent`.
pub const PROPONENT: &[&str] = &["Proponent", "proponent"];
/// Project export: `Project Type` (Verra's sectoral-scope name).
pub const PROJECT_TYPE: &[&str] = &["Project Type", "protocolCategory"];
/// Project export: `AFOLU Activities`.
pub const AFOLU: &[&str] = &["AFOLU Activities"];
/// Both exports: `Methodology`.
pub const METHODOLOGY: &[&str] = &["Methodology", "protocol"];
/// Project export: `Status`.
pub const STATUS: &[&str] = &["Status", "resourceStatus"];
/// Both exports: `Country/Area`.
pub const COUNTRY: &[&str] = &["Country/Area", "Country", "country"];
/// Project export: `Crediting Period Start Date`.
pub const CREDITING_START: &[&str] = &["Crediting Period Start Date"];
/// Project export: `Crediting Period End Date`.
pub const CREDITING_END: &[&str] = &["Crediting Period End Date"];

/// Columns without which a VCU export row means nothing.
pub const TRANSACTIONS_REQUIRED: [Column<'static>; 4] = [
    Column {
        name: "ID",
        accepted: ID,
    },
    Column {
        name: "Quantity Issued",
        accepted: QUANTITY,
    },
    Column {
        name: "Serial Number",
        accepted: SERIAL,
    },
    Column {
        name: "Retirement/Cancellation Date",
        accepted: RETIRE_DATE,
    },
];

/// Columns without which a project export row means nothing.
pub const PROJECTS_REQUIRED: [Column<'static>; 2] = [
    Column {
        name: "ID",
        accepted: ID,
    },
    Column {
        name: "Name",
        accepted: NAME,
    },
];
