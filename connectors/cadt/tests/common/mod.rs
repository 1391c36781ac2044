//! CADT v1 records shaped as a node's REST API serves them (`GET /v1/projects`,
//! `GET /v1/units`), following the v1 field tables: projects embed their child records,
//! units their issuance and labels.

#![allow(dead_code)]

use serde_json::{Value, json};

pub const ORG: &str = "a807e453-6524-49df-a32d-785e56cf560e";
pub const VERRA_PROJECT: &str = "51ca9638-22b0-4e14-ae7d-b4e1d9b4e7a1";
pub const GS_PROJECT: &str = "9f0b8d3e-1c55-4d6e-9b0e-3c4a2b7e5f10";
pub const CDM_PROJECT: &str = "0d4b2f71-83a1-4c3c-a0a9-6f3e9e1c2b44";

fn issuance(id: &str, project: &str, start: &str, end: &str) -> Value {
    json!({
        "id": id, "orgUid": ORG, "warehouseProjectId": project,
        "startDate": format!("{start}T00:00:00.000Z"), "endDate": format!("{end}T00:00:00.000Z"),
        "verificationApproach": "Standard verification",
        "verificationReportDate": "2021-03-15T00:00:00.000Z",
        "verificationBody": "Earthood Services Private Limited",
        "timeStaged": 1646803200, "createdAt": "2022-03-09T05:20:00.000Z",
        "updatedAt": "2022-03-09T05:20:00.000Z"
    })
}

fn label(id: &str, project: &str, label: &str, kind: &str) -> Value {
    json!({
        "id": id, "orgUid": ORG, "warehouseProjectId": project,
        "label": label, "labelType": kind,
        "creditingPeriodStartDate": "2014-01-01T00:00:00.000Z",
        "creditingPeriodEndDate": "2023-12-31T00:00:00.000Z",
        "validityPeriodStartDate": "2022-01-01T00:00:00.000Z",
        "validityPeriodEndDate": "2026-12-31T00:00:00.000Z",
        "unitQuantity": 20000, "labelLink": "https://example.org/label"
    })
}

/// Three projects: a Verra REDD+ project, a Gold Standard one and a CDM project that moved to
/// the Article 6.4 mechanism (its current registry differs from its registry of origin).
pub fn projects() -> Vec<Value> {
    vec![
        json!({
            "warehouseProjectId": VERRA_PROJECT, "orgUid": ORG,
            "currentRegistry": "Verra", "projectId": "1340", "originProjectId": "VCS-1340",
            "registryOfOrigin": "Verra", "program": "VCS",
            "projectName": "Gola REDD+ Project",
            "projectLink": "https://registry.verra.org/app/projectDetail/VCS/1340",
            "projectDeveloper": "Gola Rainforest Conservation LG", "sector": "Agriculture; forestry and fishing",
            "projectType": "REDD+: Reduced Emissions from Deforestation and Degradation",
            "projectTags": "Biodiversity, Sustainable practices",
            "coveredByNDC": "Outside NDC", "ndcInformation": "", "projectStatus": "Registered",
            "projectStatusDate": "2015-06-01T00:00:00.000Z", "unitMetric": "tCO2e",
            "methodology": "VCS - VM0007", "methodology2": null,
            "validationBody": "SCS Global Services", "validationDate": "2015-05-01T00:00:00.000Z",
            "timeStaged": 1646803200,
            "projectLocations": [{
                "id": "loc-1", "warehouseProjectId": VERRA_PROJECT, "orgUid": ORG,
                "country": "Sierra Leone", "inCountryRegion": "Eastern Province",
                "geographicIdentifier": "7.6, -10.9", "fileId": null
            }],
            "labels": [label("lab-1", VERRA_PROJECT, "CCB Gold", "Certification")],
            "issuances": [issuance("iss-1", VERRA_PROJECT, "2020-01-01", "2020-12-31")],
            "coBenefits": [{"id": "cb-1", "warehouseProjectId": VERRA_PROJECT, "orgUid": ORG, "cobenefit": "SDG 15 - Life on land"}],
            "relatedProjects": [{"id": "rp-1", "warehouseProjectId": VERRA_PROJECT, "orgUid": ORG,
                "relatedProjectId": "GS2922", "relationshipType": "Same project", "registry": "Gold Standard"}],
            "projectRatings": [{"id": "rt-1", "warehouseProjectId": VERRA_PROJECT, "orgUid": ORG,
                "ratingType": "BeZero", "ratingRangeLowest": "D", "ratingRangeHighest": "AAA",
                "rating": "BBB", "ratingLink": "https://example.org/rating"}],
            "estimations": [{"id": "est-1", "warehouseProjectId": VERRA_PROJECT, "orgUid": ORG,
                "creditingPeriodStart": "2012-08-01T00:00:00.000Z",
                "creditingPeriodEnd": "2042-07-31T00:00:00.000Z", "unitCount": 500000}]
        }),
        json!({
            "warehouseProjectId": GS_PROJECT, "orgUid": ORG,
            "currentRegistry": "Gold Standard", "projectId": "11236", "originProjectId": "11236",
            "registryOfOrigin": "Gold Standard", "program": null,
            "projectName": "Efficient cookstoves in Uganda",
            "projectLink": "https://registry.goldstandard.org/projects/details/3311",
            "projectDeveloper": "UpEnergy", "sector": "Energy demand",
            "projectType": "Energy Demand", "coveredByNDC": "Inside NDC",
            "projectStatus": "Registered", "projectStatusDate": "2021-02-01T00:00:00.000Z",
            "unitMetric": "tCO2e", "methodology": "Technologies and Practices to Displace Decentralized Thermal Energy Consumption",
            "projectLocations": [{"id": "loc-2", "warehouseProjectId": GS_PROJECT, "orgUid": ORG,
                "country": "Uganda", "inCountryRegion": "Kampala", "geographicIdentifier": "UG-102"}],
            "labels": [label("lab-2", GS_PROJECT, "CORSIA eligible 2024-2026", "Endorsement")],
            "issuances": [issuance("iss-2", GS_PROJECT, "2024-01-01", "2024-06-30")],
            "coBenefits": [], "relatedProjects": [], "projectRatings": [], "estimations": []
        }),
        json!({
            "warehouseProjectId": CDM_PROJECT, "orgUid": ORG,
            "currentRegistry": "Article 6.4 Mechanism Registry", "projectId": "A6.4-0042",
            "originProjectId": "7014", "registryOfOrigin": "CDM Registry",
            "projectName": "Rwanda improved cookstoves PoA",
            "projectLink": "https://cdm.unfccc.int/ProgrammeOfActivities/poa_db/7014",
            "projectDeveloper": "DelAgua Health", "sector": "Energy demand",
            "projectType": "Energy Demand", "coveredByNDC": "Inside NDC",
            "projectStatus": "Transitioned", "projectStatusDate": "2024-11-30T00:00:00.000Z",
            "unitMetric": "tCO2e", "methodology": "CDM - AMS-II.G.",
            "projectLocations": [{"id": "loc-3", "warehouseProjectId": CDM_PROJECT, "orgUid": ORG,
                "country": "Rwanda", "inCountryRegion": "Kigali", "geographicIdentifier": "-1.94, 30.06"}],
            "labels": [label("lab-3", CDM_PROJECT, "Rwanda LoA 2024/17", "Letter of Authorization")],
            "issuances": [issuance("iss-3", CDM_PROJECT, "2016-01-01", "2016-12-31")]
        }),
    ]
}

fn unit(
    id: &str,
    issuance_of: Option<Value>,
    (start, end): (&str, &str),
    count: u64,
    vintage: i32,
    status: &str,
    link: &str,
) -> Value {
    let mut u = json!({
        "warehouseUnitId": id, "issuanceId": issuance_of.as_ref().map(|i| i["id"].clone()),
        "projectLocationId": null, "orgUid": ORG, "unitOwner": "Example Holdings Ltd",
        "countryJurisdictionOfOwner": "Singapore", "inCountryJurisdictionOfOwner": null,
        "serialNumberBlock": format!("{start}-{end}"), "unitBlockStart": start, "unitBlockEnd": end,
        "unitCount": count, "vintageYear": vintage, "unitType": "Reduction - nature",
        "marketplace": null, "marketplaceLink": null, "marketplaceIdentifier": null,
        "unitTags": null, "unitStatus": status, "unitStatusReason": null,
        "unitRegistryLink": link,
        "correspondingAdjustmentDeclaration": "Unknown", "correspondingAdjustmentStatus": "Not Started",
        "timeStaged": 1646803200, "createdAt": "2022-03-09T05:20:00.000Z", "updatedAt": "2022-03-09T05:20:00.000Z",
        "labels": []
    });
    if let Some(i) = issuance_of {
        u["issuance"] = i;
    }
    u
}

pub const VERRA_SERIAL: &str =
    "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1";
pub const GS_SERIAL: &str = "GS1-1-UG-GS11236-16-2024-30307-1-19149";

/// Six units: Verra blocks written as full serials and as bare numbers, a Gold Standard block,
/// Kyoto CERs, a CAD Trust block of the organisation's own numbering, and a retired, tokenized
/// part of it.
pub fn units() -> Vec<Value> {
    let verra = issuance("iss-1", VERRA_PROJECT, "2020-01-01", "2020-12-31");
    let gs = issuance("iss-2", GS_PROJECT, "2024-01-01", "2024-06-30");
    let cdm = issuance("iss-3", CDM_PROJECT, "2016-01-01", "2016-12-31");
    let verra_link = "https://registry.verra.org/app/projectDetail/VCS/1340";
    let mut retired = unit(
        "u-6",
        Some(verra.clone()),
        ("GOLA-000501", "GOLA-000750"),
        250,
        2020,
        "Retired",
        "https://cadt.example.org/units/u-6",
    );
    retired["unitOwner"] = json!("Acme Airlines");
    retired["unitStatusReason"] = json!("xch1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq");
    retired["marketplace"] = json!("Tokenized on Chia");
    retired["marketplaceIdentifier"] =
        json!("a628c1c2c6fcb74d53746157e438e108eab5c0bb3e5c80ff9b1910b3e4832913");
    retired["labels"] = json!([label("lab-1", VERRA_PROJECT, "CCB Gold", "Certification")]);
    vec![
        unit(
            "u-1",
            Some(verra.clone()),
            (VERRA_SERIAL, VERRA_SERIAL),
            425,
            2020,
            "Held",
            verra_link,
        ),
        unit(
            "u-2",
            Some(verra.clone()),
            ("941467432", "941468431"),
            1000,
            2020,
            "Buffer",
            verra_link,
        ),
        unit(
            "u-3",
            Some(gs),
            (GS_SERIAL, GS_SERIAL),
            19149,
            2024,
            "Exported",
            "https://registry.goldstandard.org/credit-blocks/details/30307",
        ),
        unit(
            "u-4",
            Some(cdm),
            ("RW-5-1463953-2-2-0-7014", "RW-5-1467609-2-2-0-7014"),
            3657,
            2016,
            "Cancelled",
            "https://cdm.unfccc.int/Registry/index.html",
        ),
        unit(
            "u-5",
            Some(verra),
            ("GOLA-000001", "GOLA-000500"),
            500,
            2020,
            "Held",
            "https://cadt.example.org/units/u-5",
        ),
        retired,
    ]
}

/// Units a node can hold but carbonmesh cannot place: no issuance (so no project), bounds
/// whose prefixes differ, and a count that is not a number.
pub fn bad_units() -> Vec<Value> {
    let verra = issuance("iss-1", VERRA_PROJECT, "2020-01-01", "2020-12-31");
    let mut no_count = unit(
        "b-3",
        Some(verra.clone()),
        ("X1", "X9"),
        9,
        2020,
        "Held",
        "",
    );
    no_count["unitCount"] = json!("nine");
    vec![
        unit("b-1", None, ("A1", "A9"), 9, 2020, "Held", ""),
        unit("b-2", Some(verra), ("A345", "B567"), 223, 2020, "Held", ""),
        no_count,
    ]
}

/// A node's paginated response.
pub fn paginated(page: u64, page_count: u64, data: Vec<Value>) -> Value {
    json!({ "page": page, "pageCount": page_count, "data": data })
}
