//! BioCarbon Registry on Global CarbonTrace: projects, issuance blocks (`carbon-credits`),
//! retirements (`retreats`) and per-project cancellations.

use serde_json::{Value, json};

use super::serial::serial;
use crate::catalog::ProjectInfo;
use crate::ledger::CreditRow;

fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The project's public code (`BCR-CO-12-14-001`); records name projects by their number.
fn code(project: &ProjectInfo) -> String {
    format!("BCR-{}-{}-14-001", project.country.code, project.number)
}

/// A project of `/api/ghg/projects`.
pub fn project_entity(project: &ProjectInfo) -> Value {
    json!({
        "id": project.number,
        "project_id": code(project),
        "project_name": project.name,
        "country": project.country.name,
        "country_iso": project.country.code,
        "quantification_period_start": day(project.registered_on),
        "quantification_period_end": day(project.registered_on + chrono::Days::new(3652)),
        "created_at": format!("{} 06:08:49", day(project.registered_on)),
        "holder_name": project.developer,
        "ovv": "Aenor Colombia S.A.S.",
        "verified_reductions": project.estimated_annual.to_string(),
        "type_project_name": project.project_type.name,
        "sector_name": project.project_type.name,
        "methodologies": [{"id": 1, "code": project.project_type.methodology,
                           "pivot": {"version": "1"}}],
        "status": "Registered",
        "holder": {"id": project.index + 1, "holder": project.developer},
    })
}

/// `299564` → `"299,564"`, as the API writes amounts.
fn amount(n: u64) -> String {
    super::thousands(n)
}

/// An issuance block of `/api/ghg/carbon-credits`.
pub fn block_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    json!({
        "amount": amount(row.quantity),
        "active": "0",
        "outof": row.quantity,
        "dropouts": "0",
        "serial": serial(row, project),
        "initial_vintage": day(row.vintage_start),
        "final_vintage": day(row.vintage_end),
        "destination": "Impuesto",
        "credits_destination_id": row.batch,
        "year": row.vintage_end.format("%Y").to_string(),
        "created_at": day(row.issued_on),
        "date_issue": day(row.issued_on),
        "initiative_id": project.number,
        "project_id": code(project),
        "country": project.country.code,
        "holder": project.developer,
        "holder_name": project.developer,
        "sold": amount(row.quantity),
    })
}

/// A retirement of `/api/ghg/retreats`: the block's prefix with the retired sub-range.
pub fn retirement_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    let on = row.event_on.unwrap_or(row.issued_on);
    json!({
        "reason": row.reason,
        "to_name": project.developer,
        "nit_to_name": "900233015-5",
        "final_user": row.beneficiary,
        "final_user_nit": null,
        "destination": "tax",
        "serial": serial(row, project),
        "created_at": on.format("%d/%m/%Y").to_string(),
        "initial_serial": row.start,
        "final_serial": row.end,
        "sold": amount(row.quantity),
        "market": "voluntary",
        "passive_user": null,
        "nit_passive_user": null,
        "initiative_id": project.number,
        "project_name": project.name,
        "holder": project.developer,
        "data_visibility": "public",
    })
}

/// A cancellation of `/api/ghg/carbon-credits/project/{id}/cancellations` (no project member:
/// the URL names it).
pub fn cancellation_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    json!({
        "serial": serial(row, project),
        "amount": amount(row.quantity),
        "year": row.vintage_end.format("%Y").to_string(),
        "initial_vintage": day(row.vintage_start),
        "final_vintage": day(row.vintage_end),
        "cancellation_date": day(row.event_on.unwrap_or(row.issued_on)),
    })
}
