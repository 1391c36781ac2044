//! Climate Action Reserve: the APX report CSVs (111 projects, 112 issued, 206 retired,
//! 308 canceled). Every APX row ends with a comma, hence the empty last column.

use super::serial::serial;
use crate::catalog::ProjectInfo;
use crate::ledger::CreditRow;

/// Report 111 header.
pub const PROJECTS_HEADER: &[&str] = &[
    "Project ID",
    "Compliance Program ID",
    "ARB ID",
    "WA ECO",
    "Cooperative/ Aggregate ID",
    "Project Developer",
    "Project Owner",
    "Project Name",
    "Offset Project Operator",
    "Authorized Project Designee",
    "Verification Body",
    "Project Type",
    "Status",
    "Compliance Program Status",
    "ARB Project Status",
    "WA ECO Project Status",
    "Project Site Location",
    "Project Site State",
    "Project Site Country",
    "Additional Certification(s)",
    "SDG Impact",
    "Project Notes",
    "Total Number of Offset Credits Registered ",
    "Project Listed Date",
    "Project Registered Date",
    "Documents",
    "Data",
    "Project Website",
    "",
];

/// Report 112 header.
pub const ISSUANCES_HEADER: &[&str] = &[
    "Date Issued",
    "Project ID",
    "Cooperative/ Aggregate ID",
    "Project Name",
    "Project Developer",
    "Project Owner",
    "Project Type",
    "Reduction/Removal",
    "Reversible/Non-Reversible",
    "Protocol and Version",
    "ARB Eligible",
    "WA ECO Eligible",
    "Eligible for CORSIA 2021-2023 Compliance Period",
    "Eligible for CORSIA 2024-2026 Compliance Period",
    "Corresponding Adjustment",
    "CCP Approved",
    "Crediting Period",
    "Vintage",
    "Total Offset Credits Issued",
    "Zero-Credit Reporting Period",
    "Offset Credits Currently in Reserve Buffer Pool",
    "Offset Credits Intended for Compliance Buffer Pool",
    "Offset Credits Converted to VCUs",
    "Canceled for Compliance",
    "Canceled",
    "Project Site Location",
    "Project Site State",
    "Project Site Country",
    "Activity Area Type",
    "Additional Certification(s)",
    "Verification Body",
    "Project Website",
    "Documents",
    "",
];

/// Report 206 header.
pub const RETIREMENTS_HEADER: &[&str] = &[
    "Vintage",
    "Offset Credit Serial Numbers",
    "Quantity of Offset Credits",
    "Status Effective",
    "Project ID",
    "Project Name",
    "Project Type",
    "Reduction/Removal",
    "Reversible/Non-Reversible",
    "Protocol and Version",
    "Project Site Location",
    "Project Site State",
    "Project Site Country",
    "Activity Area Type",
    "Additional Certification(s)",
    "Eligible for CORSIA 2021-2023 Compliance Period",
    "Eligible for CORSIA 2024-2026 Compliance Period",
    "Corresponding Adjustment",
    "CCP Approved",
    "Account Holder",
    "Retirement Reason",
    "Retirement Reason Details",
    "",
];

/// Report 308 header.
pub const CANCELLATIONS_HEADER: &[&str] = &[
    "Vintage",
    "Offset Credit Serial Numbers",
    "Quantity of Offset Credits",
    "Status Effective",
    "Project ID",
    "Project Name",
    "Project Type",
    "Reduction/Removal",
    "Reversible/Non-Reversible",
    "Protocol and Version",
    "Project Site Location",
    "Project Site State",
    "Project Site Country",
    "Additional Certification(s)",
    "Cancellation Reason",
    "Export Notes",
    "",
];

/// `MM/DD/YYYY`, zero padded, as CAR prints dates.
const CAR_DATE: &str = "%m/%d/%Y";

fn yes_no(b: bool) -> String {
    if b { "Yes" } else { "No" }.to_string()
}

fn protocol(project: &ProjectInfo) -> String {
    format!(
        "{} - {}",
        project.project_type.name, project.project_type.methodology
    )
}

fn location(project: &ProjectInfo) -> String {
    format!(
        "{} County, {}",
        project.name.split(' ').next().unwrap_or("Unknown"),
        project.country.state_name
    )
}

/// One row of report 111.
pub fn project_record(project: &ProjectInfo) -> Vec<String> {
    let arb = if project.arb_compliance {
        project.arb_project_id()
    } else {
        String::new()
    };
    vec![
        project.registry_id(),
        arb.clone(),
        arb,
        String::new(),
        String::new(),
        project.developer.clone(),
        project.developer.clone(),
        project.name.clone(),
        project.developer.clone(),
        String::new(),
        String::new(),
        project.project_type.name.to_string(),
        "Registered".to_string(),
        if project.arb_compliance {
            "Registered"
        } else {
            "Not ARB or WA ECO Eligible"
        }
        .to_string(),
        if project.arb_compliance {
            "Registered"
        } else {
            "Not ARB Eligible"
        }
        .to_string(),
        "Not WA Eligible".to_string(),
        location(project),
        project.country.state_name.to_string(),
        project.country.code.to_string(),
        String::new(),
        String::new(),
        String::new(),
        project.estimated_annual.to_string(),
        project.registered_on.format(CAR_DATE).to_string(),
        project.registered_on.format(CAR_DATE).to_string(),
        "View".to_string(),
        "View".to_string(),
        String::new(),
        String::new(),
    ]
}

/// One row of report 112 (issuances publish no serials).
pub fn issuance_record(row: &CreditRow, project: &ProjectInfo) -> Vec<String> {
    vec![
        row.issued_on.format(CAR_DATE).to_string(),
        project.registry_id(),
        String::new(),
        project.name.clone(),
        project.developer.clone(),
        project.developer.clone(),
        project.project_type.name.to_string(),
        "Reduction".to_string(),
        String::new(),
        protocol(project),
        yes_no(row.compliance),
        "No".to_string(),
        String::new(),
        String::new(),
        "No".to_string(),
        String::new(),
        String::new(),
        row.vintage().to_string(),
        row.quantity.to_string(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        location(project),
        project.country.state_name.to_string(),
        project.country.code.to_string(),
        String::new(),
        row.certification.to_string(),
        "Agri-Waste Technology, Inc.".to_string(),
        "none".to_string(),
        "View".to_string(),
        String::new(),
    ]
}

/// One row of report 206.
pub fn retirement_record(row: &CreditRow, project: &ProjectInfo) -> Vec<String> {
    vec![
        row.vintage().to_string(),
        serial(row, project),
        row.quantity.to_string(),
        row.event_on
            .map(|d| d.format(CAR_DATE).to_string())
            .unwrap_or_default(),
        project.registry_id(),
        project.name.clone(),
        project.project_type.name.to_string(),
        "Reduction".to_string(),
        String::new(),
        protocol(project),
        location(project),
        project.country.state_name.to_string(),
        project.country.code.to_string(),
        String::new(),
        row.certification.to_string(),
        String::new(),
        String::new(),
        "No".to_string(),
        String::new(),
        row.beneficiary.clone(),
        row.reason.clone(),
        row.details.clone(),
        String::new(),
    ]
}

/// One row of report 308.
pub fn cancellation_record(row: &CreditRow, project: &ProjectInfo) -> Vec<String> {
    vec![
        row.vintage().to_string(),
        serial(row, project),
        row.quantity.to_string(),
        row.event_on
            .map(|d| d.format(CAR_DATE).to_string())
            .unwrap_or_default(),
        project.registry_id(),
        project.name.clone(),
        project.project_type.name.to_string(),
        "Reduction".to_string(),
        String::new(),
        protocol(project),
        location(project),
        project.country.state_name.to_string(),
        project.country.code.to_string(),
        row.certification.to_string(),
        row.reason.clone(),
        row.details.clone(),
        String::new(),
    ]
}
