//! California ARB Offset Credit Issuance Table, sheet 3, as CSV. Numbers are written as the
//! spreadsheet conversion writes them (`2024.0`, `79565.0`).

use carbonmesh_model::RegistryId;

use crate::dataset::ArbRow;

/// Sheet 3 header.
pub const ISSUANCES_HEADER: &[&str] = &[
    "CARB Project ID",
    "OPR Project ID",
    "Reporting Period",
    "Project Type",
    "Early Action/ Compliance",
    "Reporting Period Start Date",
    "Reporting Period End Date",
    "Vintage",
    "ARB Offset Credits Issued",
    "Forest Buffer Account Contribution",
    "Issuance Date",
    "Invalidation Timeframe",
    "Date Invalidation Period Reduced",
    "Start of Invalidation Timeframe",
    "Offset Project Name",
    "Offset Project Operator",
    "Verification Body",
    "State",
    "Provides DEBS",
    "Section 95989(b) Documentation, if applicable",
    "Project Documentation",
    "Intentional Reversal",
    "Unintentional Reversal",
    "CARB Issuance ID",
    "Invalidated or Canceled",
    "Buffer Pool Retired",
    "Retired for Intentional Reversal",
    "Retired Voluntarily",
    "Retired 1st Compliance Period (CA)",
    "Retired 2nd Compliance Period (CA)",
    "Retired 3rd Compliance Period (CA)",
    "Retired 4th Compliance Period (CA)",
    "Retired 5th Compliance Period (CA)",
    "Retired for Compliance in Quebec",
    "Comment",
];

/// The ARB table's project-type code for a family.
fn type_code(family: &str) -> &'static str {
    match family {
        "OD" => "ODS",
        "MM" => "MMC",
        "FR" => "US Forest",
        _ => "Livestock",
    }
}

/// The id the ARB table gives the offset project registry's project: `ACR1007`, `CAR2111`,
/// or a bare Verra number.
fn opr_project_id(row: &ArbRow) -> String {
    match row.source_registry {
        RegistryId::VERRA => row.project.number.to_string(),
        _ => row.project.registry_id(),
    }
}

fn project_page(row: &ArbRow) -> String {
    match row.source_registry {
        RegistryId::ACR => format!(
            "https://acr2.apx.com/mymodule/reg/prjView.asp?id1={}",
            row.project.number
        ),
        RegistryId::CAR => format!(
            "https://thereserve2.apx.com/mymodule/reg/prjView.asp?id1={}",
            row.project.number
        ),
        _ => format!(
            "https://registry.verra.org/app/projectDetail/VCS/{}",
            row.project.number
        ),
    }
}

/// One row of sheet 3.
pub fn issuance_record(row: &ArbRow) -> Vec<String> {
    let zero = "0.0".to_string();
    vec![
        row.project.arb_project_id(),
        opr_project_id(row),
        "1".to_string(),
        type_code(row.project.project_type.arb_family).to_string(),
        "COP".to_string(),
        row.period_start.format("%Y-%m-%d").to_string(),
        row.period_end.format("%Y-%m-%d").to_string(),
        format!("{}.0", row.vintage),
        format!("{}.0", row.quantity),
        String::new(),
        row.issued_on.format("%Y-%m-%d").to_string(),
        "8 years".to_string(),
        String::new(),
        row.period_end.format("%Y-%m-%d").to_string(),
        row.project.name.clone(),
        row.project.developer.clone(),
        "Agri-Waste Technology, Inc.".to_string(),
        row.project.country.state_code.to_string(),
        "NO DEBS".to_string(),
        "–".to_string(),
        project_page(row),
        String::new(),
        String::new(),
        row.issuance_id.clone(),
        zero.clone(),
        String::new(),
        zero.clone(),
        zero.clone(),
        zero.clone(),
        zero.clone(),
        zero.clone(),
        zero.clone(),
        zero.clone(),
        zero,
        String::new(),
    ]
}
