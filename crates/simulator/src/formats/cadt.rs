//! A CAD Trust node's v1 REST API: projects with their embedded child records, units with
//! their issuance. Units are the organisation's own blocks (`CMS-B000017-000000001`), scoped
//! by its `orgUid`.

use carbonmesh_model::RegistryId;
use serde_json::{Value, json};

use super::serial::{CADT_ORG_UID, cadt_bound, serial, uuid};
use crate::catalog::ProjectInfo;
use crate::ledger::{CreditRow, UnitState};

const UNIT: u64 = 4;
const ISSUANCE: u64 = 5;
const LOCATION: u64 = 6;

fn instant(d: chrono::NaiveDate) -> String {
    format!("{}T00:00:00.000Z", d.format("%Y-%m-%d"))
}

fn registry_name(project: &ProjectInfo) -> String {
    format!("{} National Registry", project.country.name)
}

/// A project of `/v1/projects`.
pub fn project_entity(project: &ProjectInfo) -> Value {
    let id = project.registry_id();
    json!({
        "warehouseProjectId": id,
        "orgUid": CADT_ORG_UID,
        "currentRegistry": registry_name(project),
        "projectId": format!("NR-{}", project.number),
        "originProjectId": format!("NR-{}", project.number),
        "registryOfOrigin": registry_name(project),
        "program": null,
        "projectName": project.name,
        "projectLink": format!("https://cadt.example.org/projects/{id}"),
        "projectDeveloper": project.developer,
        "sector": project.project_type.name,
        "projectType": project.project_type.name,
        "projectTags": null,
        "coveredByNDC": "Inside NDC",
        "ndcInformation": "",
        "projectStatus": "Registered",
        "projectStatusDate": instant(project.registered_on),
        "unitMetric": "tCO2e",
        "methodology": project.project_type.methodology,
        "methodology2": null,
        "validationBody": "SCS Global Services",
        "validationDate": instant(project.registered_on),
        "timeStaged": 1_646_803_200,
        "projectLocations": [{
            "id": uuid(LOCATION, project.number, 0),
            "warehouseProjectId": id,
            "orgUid": CADT_ORG_UID,
            "country": project.country.name,
            "inCountryRegion": project.country.state_name,
            "geographicIdentifier": format!("{}.5, {}.25", project.number % 60, project.number % 120),
            "fileId": null,
        }],
        "labels": [],
        "issuances": [],
        "coBenefits": [],
        "relatedProjects": [],
        "projectRatings": [],
        "estimations": [],
    })
}

/// Where a unit block is kept: the node itself, or the registry whose units it mirrors
/// (which is how a reader knows whose numbers its bounds are).
fn unit_link(row: &CreditRow, unit_id: &str) -> String {
    match row.mirrors {
        Some(RegistryId::VERRA) => "https://registry.verra.org/app/search/VCS/VCUs".to_string(),
        _ => format!("https://cadt.example.org/units/{unit_id}"),
    }
}

/// A unit block of `/v1/units` in its current state, with its issuance embedded.
pub fn unit_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    let unit_id = uuid(UNIT, row.batch, row.start);
    let issuance_id = uuid(ISSUANCE, row.batch, 0);
    let status = match row.state {
        UnitState::Retired => "Retired",
        UnitState::Cancelled => "Cancelled",
        _ => "Held",
    };
    let (owner, reason) = match row.state {
        UnitState::Retired => (row.beneficiary.clone(), Value::from(row.reason.clone())),
        UnitState::Cancelled => (project.developer.clone(), Value::from(row.reason.clone())),
        _ => (project.developer.clone(), Value::Null),
    };
    json!({
        "warehouseUnitId": unit_id,
        "issuanceId": issuance_id,
        "projectLocationId": null,
        "orgUid": CADT_ORG_UID,
        "unitOwner": owner,
        "countryJurisdictionOfOwner": project.country.name,
        "inCountryJurisdictionOfOwner": null,
        "serialNumberBlock": serial(row, project),
        "unitBlockStart": cadt_bound(row, row.start),
        "unitBlockEnd": cadt_bound(row, row.end),
        "unitCount": row.quantity,
        "vintageYear": row.vintage(),
        "unitType": "Reduction - nature",
        "marketplace": null,
        "marketplaceLink": null,
        "marketplaceIdentifier": null,
        "unitTags": null,
        "unitStatus": status,
        "unitStatusReason": reason,
        "unitRegistryLink": unit_link(row, &unit_id),
        "correspondingAdjustmentDeclaration": "Unknown",
        "correspondingAdjustmentStatus": "Not Started",
        "timeStaged": 1_646_803_200,
        "createdAt": instant(row.issued_on),
        "updatedAt": instant(row.event_on.unwrap_or(row.issued_on)),
        "labels": [],
        "issuance": {
            "id": issuance_id,
            "orgUid": CADT_ORG_UID,
            "warehouseProjectId": project.registry_id(),
            "startDate": instant(row.vintage_start),
            "endDate": instant(row.vintage_end),
            "verificationApproach": "Standard verification",
            "verificationReportDate": instant(row.issued_on),
            "verificationBody": "Earthood Services Private Limited",
            "timeStaged": 1_646_803_200,
            "createdAt": instant(row.issued_on),
            "updatedAt": instant(row.issued_on),
        },
    })
}
