//! ACR and ART (tenants of one API): rows of ICE GreenTrace `holding-summaries/results` and
//! `project-summaries/results`.

use carbonmesh_model::RegistryId;
use serde_json::{Value, json};

use super::entity;
use super::serial::serial;
use crate::catalog::ProjectInfo;
use crate::ledger::{CreditRow, UnitState};

const HOLDING_KEYS: &[&str] = &[
    "holdingKey",
    "holdingSerialNumber",
    "holdingStatus",
    "holdingStatusEffectiveTimestamp",
    "holdingQuantity",
    "isEscrowed",
    "isReserve",
    "isTokenized",
    "isSequestered",
    "projectKey",
    "projectReferenceId",
    "projectName",
    "projectIsPublic",
    "projectSiteLocationName",
    "projectSiteLocationState",
    "projectSiteLocationCountry",
    "projectTypeName",
    "projectTypeCode",
    "developerProfileKey",
    "developerProfileName",
    "accountHolderProfileKey",
    "accountHolderProfileName",
    "registryAccountKey",
    "registryAccountName",
    "registryAccountType",
    "issuanceKey",
    "issuanceVintageStartDate",
    "vintage",
    "issuanceDate",
    "issuanceQuantity",
    "cancellationKey",
    "cancellationDate",
    "cancellationReason",
    "cancellationReasonDisplayName",
    "cancellationReasonDescription",
    "cancellationOnBehalfOfName",
    "retirementKey",
    "retirementDate",
    "retirementReason",
    "retirementReasonDisplayName",
    "retirementReasonDescription",
    "retirementPurpose",
    "retirementOnBehalfOfName",
    "registryCode",
    "hostCountryLetterOfAuthorization",
    "correspondingAdjustment",
    "corsiaDoubleClaimingCompensation",
    "corsiaEligible",
    "corsiaPending",
    "bufferPool",
    "registryLabels",
    "arbEligible",
    "ecologyEligible",
    "creditLink",
    "projectLink",
    "developerLink",
];

const PROJECT_KEYS: &[&str] = &[
    "details",
    "developerLink",
    "projectId",
    "projectKey",
    "projectName",
    "projectStatus",
    "projectMethodology",
    "projectType",
    "projectDeveloper",
    "projectDeveloperProfileKey",
    "creditingProgram",
    "country",
    "issuedCredits",
    "projectExtensionMap",
];

/// GreenTrace keys are 12 upper-case alphanumerics with a one-letter kind prefix.
fn key(prefix: char, n: u64) -> String {
    format!("{prefix}{:011X}", n)
}

/// `ACR0885`: GreenTrace zero-pads ACR project ids; serials do not. ART programs are `ART102`.
fn reference_id(project: &ProjectInfo) -> String {
    match project.registry {
        RegistryId::ART => format!("ART{}", project.number),
        _ => format!("ACR{:04}", project.number),
    }
}

/// The GreenTrace tenant publishing `project`, and its registry code.
fn tenant(project: &ProjectInfo) -> (&'static str, &'static str) {
    match project.registry {
        RegistryId::ART => ("ART_REGISTRY", "ART"),
        _ => ("ACR_REGISTRY", "ACR"),
    }
}

/// The front-end path segment of a tenant (`/acr/…`, `/art/…`).
fn site(project: &ProjectInfo) -> &'static str {
    match project.registry {
        RegistryId::ART => "art",
        _ => "acr",
    }
}

fn developer_key(project: &ProjectInfo) -> String {
    format!(
        "{}:PROJECT_DEVELOPER",
        4_003_497_000_000_000_000_u64 + project.index
    )
}

fn link(url: String, label: &str) -> Value {
    json!({ "type": "link", "url": url, "method": "GET", "params": [], "label": label })
}

/// The GreenTrace reason code and display name of a cancellation reason.
fn cancellation_reason(reason: &str) -> (&'static str, &'static str) {
    if reason.contains("Ecology") {
        ("CONVERT_TO_ECOLOGY", "Convert to Ecology Offset Credits")
    } else {
        ("CONVERT_TO_ARB", "Convert to ARB Offset Credits")
    }
}

/// A holding row (issued, retired or cancelled).
pub fn holding_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    let serial = serial(row, project);
    let holding = key('H', row.batch * 4096 + row.start % 4096);
    let project_key = key('P', project.index);
    let status = match row.state {
        UnitState::Retired => Value::from("RETIRED"),
        UnitState::Cancelled => Value::from("CANCELED"),
        _ => Value::Null,
    };
    let event = row
        .event_on
        .map(|d| format!("{}T13:10:35.393107-04:00", d.format("%Y-%m-%d")));
    let day = row.event_on.map(|d| d.format("%Y-%m-%d").to_string());
    let mut values = vec![
        ("holdingKey", json!(holding)),
        ("holdingSerialNumber", json!(serial)),
        ("holdingStatus", status),
        ("holdingStatusEffectiveTimestamp", json!(event)),
        ("holdingQuantity", json!(row.quantity)),
        ("isEscrowed", json!(false)),
        ("isReserve", json!(false)),
        ("isTokenized", json!(false)),
        ("isSequestered", json!(false)),
        ("projectKey", json!(project_key)),
        ("projectReferenceId", json!(reference_id(project))),
        ("projectName", json!(project.name)),
        ("projectIsPublic", json!(true)),
        (
            "projectSiteLocationState",
            json!(project.country.state_name),
        ),
        ("projectSiteLocationCountry", json!(project.country.code)),
        ("projectTypeName", json!(project.project_type.name)),
        ("projectTypeCode", json!(project.project_type.arb_family)),
        ("developerProfileKey", json!(developer_key(project))),
        ("developerProfileName", json!(project.developer)),
        ("issuanceKey", json!(key('I', row.batch))),
        (
            "issuanceVintageStartDate",
            json!(row.vintage_start.format("%Y-%m-%d").to_string()),
        ),
        ("vintage", json!(row.vintage().to_string())),
        (
            "issuanceDate",
            json!(row.issued_on.format("%Y-%m-%d").to_string()),
        ),
        ("issuanceQuantity", json!(row.block_quantity)),
        ("registryCode", json!(tenant(project).1)),
        ("bufferPool", json!(0)),
        (
            "arbEligible",
            json!(if row.compliance { "Yes" } else { "No" }),
        ),
        ("ecologyEligible", json!("No")),
        (
            "creditLink",
            link(
                format!(
                    "/{}/credits/registry/{}/credit/{holding}",
                    site(project),
                    tenant(project).0
                ),
                &serial,
            ),
        ),
        (
            "projectLink",
            link(
                format!(
                    "/{}/projects/registry/{}/project/{project_key}",
                    site(project),
                    tenant(project).0
                ),
                &project.name,
            ),
        ),
        (
            "developerLink",
            link(
                format!("/{}/developer/{}", site(project), developer_key(project)),
                &project.developer,
            ),
        ),
    ];
    match row.state {
        UnitState::Retired => values.extend([
            ("accountHolderProfileName", json!(project.developer)),
            ("registryAccountName", json!(row.beneficiary)),
            ("registryAccountType", json!("PROFILE")),
            (
                "retirementKey",
                json!(key('R', row.batch * 4096 + row.start % 4096)),
            ),
            ("retirementDate", json!(day)),
            ("retirementReason", json!("ENVIRONMENTAL_BENEFIT")),
            ("retirementReasonDisplayName", json!(row.reason)),
            (
                "retirementReasonDescription",
                json!("Retirement for environmental benefit purposes"),
            ),
            ("retirementPurpose", json!(row.details)),
            ("retirementOnBehalfOfName", json!(row.beneficiary)),
        ]),
        UnitState::Cancelled => {
            let (code, display) = cancellation_reason(&row.reason);
            values.extend([
                ("accountHolderProfileName", json!(project.developer)),
                ("registryAccountType", json!("PROFILE")),
                (
                    "cancellationKey",
                    json!(key('C', row.batch * 4096 + row.start % 4096)),
                ),
                ("cancellationDate", json!(day)),
                ("cancellationReason", json!(code)),
                ("cancellationReasonDisplayName", json!(display)),
                ("cancellationReasonDescription", json!(row.reason)),
            ]);
        }
        _ => {}
    }
    entity(HOLDING_KEYS, values)
}

/// A project-summaries row.
pub fn project_entity(project: &ProjectInfo) -> Value {
    let project_key = key('P', project.index);
    let mut extension = json!({
        "timingOfPublicDisplay": "LISTING",
        "lastProjectStateChanged": format!("{}T00:00:00.000Z", project.registered_on.format("%Y-%m-%d")),
        "lastProjectStatusChanged": format!("{}T00:00:00.000Z", project.registered_on.format("%Y-%m-%d")),
        "conservationEasement": "false",
        "conservationEasementStateOrJurisdiction": null,
    });
    if project.arb_compliance
        && let Some(map) = extension.as_object_mut()
    {
        map.insert(
            "complianceProjectId".to_string(),
            json!(project.arb_project_id()),
        );
    }
    entity(
        PROJECT_KEYS,
        vec![
            (
                "details",
                link(
                    format!(
                        "/{}/projects/registry/{}/project/{project_key}",
                        site(project),
                        tenant(project).0
                    ),
                    &project.name,
                ),
            ),
            (
                "developerLink",
                link(
                    format!("/{}/developer/{}", site(project), developer_key(project)),
                    &project.developer,
                ),
            ),
            ("projectId", json!(reference_id(project))),
            ("projectKey", json!(project_key)),
            ("projectName", json!(project.name)),
            ("projectStatus", json!("ACTIVE")),
            (
                "projectMethodology",
                json!(project.project_type.methodology),
            ),
            ("projectType", json!(project.project_type.name)),
            ("projectDeveloper", json!(project.developer)),
            ("projectDeveloperProfileKey", json!(developer_key(project))),
            (
                "creditingProgram",
                json!(match project.registry {
                    RegistryId::ART => "ART TREES",
                    _ if project.arb_compliance => "California Air Resources Board",
                    _ => "ACR",
                }),
            ),
            ("country", json!(project.country.code)),
            ("issuedCredits", json!(project.estimated_annual)),
            ("projectExtensionMap", extension),
        ],
    )
}
