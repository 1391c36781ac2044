//! Cercarbono on EcoRegistry's front-end API: the standard's project list, issued batches
//! (`serials[]` per project of `analytics/projects`) and the retirement ledger.

use serde_json::{Value, json};

use super::serial::serial;
use crate::catalog::ProjectInfo;
use crate::ledger::CreditRow;

fn methodology(project: &ProjectInfo) -> String {
    format!(
        "CDM - {}: {}",
        project.project_type.methodology, project.project_type.name
    )
}

/// A project of `public-by-standard/cercarbono-co2`.
pub fn project_entity(project: &ProjectInfo) -> Value {
    json!({
        "id": project.number,
        "name": project.name,
        "code": project.registry_id(),
        "projectStage": "Verification",
        "projectStageId": 3,
        "standard": "Carbono",
        "verifier": "Carbon Check",
        "vintage": [],
        "sectorsText": project.project_type.name,
        "protocols": [{"description": "CVCC 4.5"}],
        "methodology": [{"methodologyId": project.project_type.code,
                         "description": methodology(project),
                         "type_avoidance_removals": "Avoidance", "type_mechanism": ""}],
        "sectors": [{"shortName": "CR", "description": project.project_type.name}],
        "location": [project.country.name],
        "locationText": project.country.name,
        "developer": project.developer,
        "convertedFromLink": null,
        "projectsGlobalGoal": [],
        "serials": "",
        "eligibles": [{"description": "Voluntary compensation"}],
        "ratedBy": [],
        "insurances": [],
        "tonAvailable": false,
        "dmrv": [],
    })
}

/// One issued batch (an element of a project's `serials`).
pub fn batch_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    json!({
        "verification": 1,
        "serial": serial(row, project),
        "issued_quantity": row.quantity,
        "issuance_date": format!("{}T18:33:46.000Z", row.issued_on.format("%Y-%m-%d")),
        "year": row.vintage(),
        "is_buffer": false,
        "vintage_of_credits": format!(
            "{} / {}",
            row.vintage_start.format("%Y-%m-%d"),
            row.vintage_end.format("%Y-%m-%d")
        ),
        "global_goals": [],
        "elegible": [{"description": "Voluntary compensation", "code": "CV"}],
    })
}

/// A project of `analytics/projects` with its issued batches.
pub fn analytics_project(project: &ProjectInfo, batches: Vec<Value>) -> Value {
    json!({
        "id": project.number,
        "code": project.registry_id(),
        "name": project.name,
        "standard": "Carbono",
        "stage": "Certified",
        "locations": [],
        "serials": batches,
    })
}

/// A retirement of `get-retirements`: the batch named, no positions.
pub fn retirement_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    let on = row.event_on.unwrap_or(row.issued_on);
    let second = row.start % 86_400;
    json!({
        "id": row.batch * 4 + row.start % 4,
        "project_id": project.number,
        "serial": serial(row, project),
        "quantity": row.quantity,
        "date": format!(
            "{}T{:02}:{:02}:{:02}.000Z",
            on.format("%Y-%m-%d"),
            second / 3600,
            second / 60 % 60,
            second % 60
        ),
        "vintage": row.vintage_end.format("%Y-%m-%d").to_string(),
        "is_kg": 0,
        "final_user": row.beneficiary,
        "country_final_user": project.country.name,
        "reason_using": {"id": 2, "description": "Voluntary compensation"},
        "methodologies": [{"id": 1, "description": methodology(project)}],
        "sectors": [{"id": 1, "description": project.project_type.name}],
    })
}
