//! Every ART fixture file imports through `read_file` + `normalize`, and what comes out agrees
//! with totals computed straight from the files' own columns, read here with the plain `csv`
//! crate.

use std::collections::{BTreeMap, HashSet};

use carbonmesh_connector::testkit::{
    self, Imported, Totals, assert_unique_keys, credits, dec, totals_of,
};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_art::{ArtConfig, ArtConnector, canonical_program_id};
use carbonmesh_model::{ProjectStatus, RegistryId, TransactionType, UnitStatus};
use rust_decimal::Decimal;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/art-trees/"
);

const ISSUANCES: &str = "offsets-db-data_issuances.csv";
const RETIREMENTS: &str = "offsets-db-data_retirements.csv";
const CANCELLATIONS: &str = "offsets-db-data_cancellations.csv";
const PROJECTS: &str = "offsets-db-data_projects.csv";

fn connector() -> ArtConnector {
    ArtConnector::new(ArtConfig::new("http://127.0.0.1:9"), testkit::quick_http())
}

fn fixture(name: &str) -> Vec<u8> {
    testkit::read_fixture(DIR, name)
}

fn import(name: &str, expected: Feed) -> Imported {
    testkit::import_fixture(&connector(), name, &fixture(name), expected)
}

/// The file read with the plain `csv` crate, as maps from trimmed header to field.
fn rows(name: &str) -> Vec<BTreeMap<String, String>> {
    testkit::csv_rows(&fixture(name), |h| {
        h.split_whitespace().collect::<Vec<_>>().join(" ")
    })
}

fn add(t: &mut Totals, row: &BTreeMap<String, String>, kind: &'static str, q: Decimal) {
    if q.is_zero() && kind != "issuance" {
        return;
    }
    let vintage: i32 = row["Vintage"].parse().expect("vintage");
    *t.entry((row["Program ID"].clone(), vintage, kind))
        .or_default() += q;
}

fn clean(i: &Imported, name: &str) {
    assert!(
        i.page.unreadable.is_empty(),
        "{name}: {:?}",
        i.page.unreadable
    );
    assert!(i.rejected.is_empty(), "{name}: {:?}", i.rejected);
}

#[test]
fn issuances_import_as_verified_credits_plus_buffer_deposits() {
    let i = import(ISSUANCES, Feed::Issuances);
    clean(&i, ISSUANCES);
    assert_eq!(i.page.records.len(), 11);
    // 11 issuances; the 8 Guyana (ART102) vintages each deposited credits in the buffer, the
    // FCPF programs deposited none.
    assert_eq!(i.records.len(), 19);
    assert_unique_keys(ISSUANCES, &i.records);

    let mut expected = Totals::new();
    for row in rows(ISSUANCES) {
        add(
            &mut expected,
            &row,
            "issuance",
            dec(&row["Credits Verified"]),
        );
        add(
            &mut expected,
            &row,
            "buffer",
            dec(&row["Credits Deposited in Buffer"]),
        );
        // The export's own arithmetic: verified plus buffer is the programme's total.
        assert_eq!(
            dec(&row["Credits Verified"]) + dec(&row["Credits Deposited in Buffer"]),
            dec(&row["Total Emission Reductions/Removals"])
        );
    }
    assert_eq!(totals_of(&i.records), expected);

    let civ = credits(&i.records)
        .into_iter()
        .find(|c| c.registry_project_id == "ART130" && c.vintage == Some(2023))
        .expect("Côte d'Ivoire 2023");
    assert_eq!(civ.record_key, "issued:ART130:2023:2026-03-09:109796");
    assert_eq!(civ.quantity, Decimal::from(109_796));
    assert_eq!(civ.transaction_type.value, TransactionType::Issuance);
    assert_eq!(
        civ.note.as_deref(),
        Some("Total Emission Reductions/Removals: 109796; CORSIA Eligible: No")
    );
    let guyana_buffer = credits(&i.records)
        .into_iter()
        .find(|c| c.record_key == "issued:ART102:2023:2025-12-21:9085923#buffer")
        .expect("Guyana 2023 buffer");
    assert_eq!(guyana_buffer.quantity, Decimal::from(535_461));
    assert_eq!(guyana_buffer.status.value, UnitStatus::Buffer);
    assert_eq!(guyana_buffer.status.raw, "Credits Deposited in Buffer");
}

/// Every block keeps its serial as published and its integer range, whose size is the
/// quantity the row states.
fn check_serials(records: &[Record]) {
    for c in credits(records) {
        let serial = c.serial.as_deref().expect("serial");
        let range = c
            .serial_range
            .as_ref()
            .unwrap_or_else(|| panic!("{serial} has no range"));
        assert_eq!(
            Decimal::from(range.end - range.start + 1),
            c.quantity,
            "{serial}"
        );
        let (prefix, tail) = serial.rsplit_once('-').expect("prefix");
        assert_eq!(range.namespace, format!("art:{prefix}"));
        assert_eq!(tail, format!("{} to {}", range.start, range.end));
        let program = prefix.split('-').nth(2).expect("program number");
        assert_eq!(c.registry_project_id, format!("ART{program}"));
    }
}

#[test]
fn retirements_keep_every_serial_block_art_and_fcpf() {
    let i = import(RETIREMENTS, Feed::Retirements);
    clean(&i, RETIREMENTS);
    assert_eq!(i.records.len(), 8);
    assert_unique_keys(RETIREMENTS, &i.records);
    check_serials(&i.records);
    let mut expected = Totals::new();
    for row in rows(RETIREMENTS) {
        add(
            &mut expected,
            &row,
            "retirement",
            dec(&row["Quantity of Credits"]),
        );
    }
    assert_eq!(totals_of(&i.records), expected);

    let namespaces: HashSet<_> = credits(&i.records)
        .iter()
        .map(|c| c.serial_range.as_ref().expect("range").namespace.clone())
        .collect();
    assert!(namespaces.contains("art:FCPF-CI-130-2023-20"));
    assert!(namespaces.contains("art:ART-GY-102-2016-9"));

    let first = credits(&i.records)[0];
    assert_eq!(first.record_key, "retired:FCPF-CI-130-2023-20-1 to 46404");
    assert_eq!(
        first.account.as_deref(),
        Some("Emergent Forest Finance Accelerator")
    );
    assert_eq!(
        first.beneficiary.as_deref(),
        Some("Emergent retiring on behalf of Chanel")
    );
    assert_eq!(
        first.reason.as_deref(),
        Some("Contribution Towards Corporate Climate Pledge AND Host Country NDC")
    );
    assert!(
        first
            .note
            .as_deref()
            .is_some_and(|n| n.contains("Côte d’Ivoire’s NDC"))
    );
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2026-04-08")
    );
    // Two blocks of one Guyana batch, split by a later retirement, are adjacent and disjoint.
    let hess: Vec<_> = credits(&i.records)
        .into_iter()
        .filter_map(|c| c.serial_range.as_ref())
        .filter(|r| r.namespace == "art:ART-GY-102-2016-9")
        .collect();
    assert_eq!(hess.len(), 2);
    assert_eq!(hess[0].overlap(hess[1]), None);
    assert_eq!(hess[0].end + 1, hess[1].start);
}

#[test]
fn corsia_cancellations_keep_their_serials_and_airlines() {
    let i = import(CANCELLATIONS, Feed::Cancellations);
    clean(&i, CANCELLATIONS);
    assert_eq!(i.records.len(), 3);
    assert_unique_keys(CANCELLATIONS, &i.records);
    check_serials(&i.records);
    let mut expected = Totals::new();
    for row in rows(CANCELLATIONS) {
        add(
            &mut expected,
            &row,
            "cancellation",
            dec(&row["Quantity of Credits"]),
        );
    }
    assert_eq!(totals_of(&i.records), expected);
    for c in credits(&i.records) {
        assert_eq!(c.transaction_type.value, TransactionType::Cancellation);
        assert_eq!(c.transaction_type.raw, "CORSIA Compliance");
        assert_eq!(c.status.value, UnitStatus::Cancelled);
        assert!(c.record_key.starts_with("cancelled:ART-GY-102-2021-11-"));
    }
    assert_eq!(
        credits(&i.records)[0].note.as_deref(),
        Some("ALL NIPPON AIRWAYS CO., LTD, PHASE 1")
    );
}

#[test]
fn programs_import_with_countries_and_crediting_programs() {
    let i = import(PROJECTS, Feed::Projects);
    clean(&i, PROJECTS);
    assert_eq!(i.records.len(), 28);
    let mut ids = HashSet::new();
    let projects: Vec<_> = i
        .records
        .iter()
        .map(|r| match r {
            Record::Project(p) => p,
            Record::Credit(_) => panic!("a programs export yields projects"),
        })
        .collect();
    for p in &projects {
        assert!(ids.insert(p.id()), "{}", p.id());
        assert!(p.id().starts_with("art:ART"));
        assert!(p.country.is_some(), "{}: {:?}", p.id(), p.country_raw);
        assert!(p.status.is_some());
    }
    let find = |id: &str| {
        *projects
            .iter()
            .find(|p| p.registry_project_id == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let guyana = find("ART102");
    assert_eq!(guyana.id(), "art:ART102");
    assert_eq!(guyana.country.as_deref(), Some("GY"));
    assert_eq!(
        guyana.status.as_ref().map(|s| (s.value, s.raw.as_str())),
        Some((ProjectStatus::Registered, "Registered"))
    );
    let civ = find("ART130");
    assert_eq!(civ.country.as_deref(), Some("CI"));
    assert_eq!(civ.country_raw.as_deref(), Some("COTE D'IVOIRE"));
    assert_eq!(civ.labels[0].value, "FCPF");
    assert_eq!(
        civ.crediting_periods[0]
            .start
            .map(|d| d.to_string())
            .as_deref(),
        Some("2019-01-01")
    );
    assert_eq!(
        civ.locations[0].region.as_deref(),
        Some("Cavally, Nawa, San Pédro, Guémon and Gboklè")
    );
    assert_eq!(find("ART112").country.as_deref(), Some("CD"));
    assert_eq!(find("ART107").country.as_deref(), Some("VN"));
    assert_eq!(find("ART123").labels[0].value, "ART");
}

#[test]
fn program_ids_are_canonical() {
    assert_eq!(canonical_program_id("ART102").as_deref(), Some("ART102"));
    assert_eq!(canonical_program_id("art0130").as_deref(), Some("ART130"));
    assert_eq!(canonical_program_id("126").as_deref(), Some("ART126"));
    assert_eq!(canonical_program_id("ACR102"), None);
    assert_eq!(canonical_program_id("ART"), None);
}

/// What the store keeps of a rejected row: registry, file, line, field and reason.
type Kept = (RegistryId, String, u64, Option<String>, String);

#[test]
fn bad_rows_are_rejected_with_file_line_field_and_reason_and_the_rest_imports() {
    let c = connector();
    let text = String::from_utf8(fixture(RETIREMENTS)).expect("utf-8");
    // Line 7: a range that ends before it starts. Line 8: a quantity that is not a number.
    // Line 9: a program id of another registry.
    let bad = text
        .replacen(
            "ART-GY-102-2019-3-2500001 to 2600000,100000",
            "ART-GY-102-2019-3-2600000 to 2500001,100000",
            1,
        )
        .replacen(
            "ART-GY-102-2016-9-1 to 1400,1400,",
            "ART-GY-102-2016-9-1 to 1400,14x0,",
            1,
        )
        .replacen(
            "ART-GY-102-2016-9-1401 to 1408,8,07/12/2023,Yes,,,ART102,",
            "ART-GY-102-2016-9-1401 to 1408,8,07/12/2023,Yes,,,ACR102,",
            1,
        );
    let source = "art-retirements-edited.csv";
    let page = c
        .read_file(Feed::Retirements, source, bad.as_bytes())
        .expect("the file reads");
    assert_eq!(page.records.len(), 8);
    let mut kept: Vec<Kept> = Vec::new();
    let mut imported = 0;
    for raw in &page.records {
        match c.normalize(raw) {
            Ok(records) => imported += records.len(),
            Err(e) => kept.push((
                c.registry(),
                raw.source.clone(),
                raw.line,
                e.field,
                e.reason,
            )),
        }
    }
    assert_eq!(imported, 5);
    assert_eq!(kept.len(), 3, "{kept:?}");
    let (registry, file, line, field, reason) = &kept[0];
    assert_eq!(
        (*registry, file.as_str(), *line),
        (RegistryId::ART, source, 7)
    );
    assert_eq!(field.as_deref(), Some("Credit Serial Numbers"));
    assert!(reason.contains("2600000 to 2500001"), "{reason}");
    let (_, _, line, field, reason) = &kept[1];
    assert_eq!(*line, 8);
    assert_eq!(field.as_deref(), Some("Quantity of Credits"));
    assert!(reason.contains("14x0"), "{reason}");
    let (_, _, line, field, reason) = &kept[2];
    assert_eq!(*line, 9);
    assert_eq!(field.as_deref(), Some("Program ID"));
    assert!(reason.contains("ACR102"), "{reason}");
}

#[test]
fn normalizing_twice_gives_the_same_records() {
    let c = connector();
    for (name, feed) in [
        (ISSUANCES, Feed::Issuances),
        (RETIREMENTS, Feed::Retirements),
        (CANCELLATIONS, Feed::Cancellations),
        (PROJECTS, Feed::Projects),
    ] {
        let run = || -> Vec<_> {
            c.read_file(feed, name, &fixture(name))
                .expect("reads")
                .records
                .iter()
                .map(|r| c.normalize(r))
                .collect()
        };
        assert_eq!(run(), run(), "{name}");
    }
}

/// A GreenTrace holding row of ART's tenant, in the shape of the ACR tenant's rows, yields the
/// same key as the APX export's row for the same block.
#[test]
fn a_greentrace_holding_and_the_apx_row_of_one_block_share_a_key() {
    let c = connector();
    let body = serde_json::json!({"datasets": {"retiredCredits": {"rows": [{
        "holdingSerialNumber": "ART-GY-102-2016-9-1401 to 1408",
        "holdingStatus": "RETIRED",
        "holdingQuantity": 8,
        "projectReferenceId": "ART102",
        "vintage": "2016",
        "registryAccountName": "Hess Climate Initiative LLC",
        "retirementDate": "2023-07-12",
        "retirementReasonDisplayName": "Contribution Towards Corporate Climate Pledge AND Host Country NDC",
        "retirementPurpose": "1408 for employee travel 2022"
    }], "totalCount": 1}}});
    let bytes = serde_json::to_vec(&body).expect("json");
    assert_eq!(
        c.detect_feed("retired.json", &bytes),
        Some(Feed::Retirements)
    );
    let page = c
        .read_file(Feed::Retirements, "retired.json", &bytes)
        .expect("reads");
    let json = c.normalize(&page.records[0]).expect("normalizes");
    let apx = import(RETIREMENTS, Feed::Retirements);
    let (Record::Credit(from_json), Some(from_apx)) = (
        &json[0],
        credits(&apx.records)
            .into_iter()
            .find(|c| c.serial.as_deref() == Some("ART-GY-102-2016-9-1401 to 1408")),
    ) else {
        panic!("both sources yield the block")
    };
    assert_eq!(from_json.record_key, from_apx.record_key);
    assert_eq!(from_json.serial_range, from_apx.serial_range);
    assert_eq!(from_json.quantity, from_apx.quantity);
    assert_eq!(from_json.event_date, from_apx.event_date);
}

/// One GreenTrace `holding-summaries` row with the members `../shared/docs/registries.md`
/// lists (those of ACR's tenant; ART's answers in the same envelope), for the block `serial`.
fn holding_row(status: Option<&str>, serial: &str, program: &str) -> serde_json::Value {
    let (prefix, range) = serial.rsplit_once('-').expect("range");
    let (start, end) = range.split_once(" to ").expect("to");
    let quantity = end.parse::<u64>().expect("end") - start.parse::<u64>().expect("start") + 1;
    let vintage = prefix.split('-').nth(3).expect("vintage");
    let retired = status == Some("RETIRED");
    let cancelled = status == Some("CANCELED");
    let mut row = serde_json::json!({
        "holdingKey": format!("H-{start}"), "holdingSerialNumber": serial,
        "holdingStatus": status, "holdingStatusEffectiveTimestamp": "2026-03-09T16:16:10.000000-04:00",
        "holdingQuantity": quantity, "isEscrowed": false, "isReserve": false, "isTokenized": false,
        "isSequestered": false, "projectKey": "P2423ART0001", "projectReferenceId": program,
        "projectName": "Guyana ART program", "projectSiteLocationState": null,
        "projectSiteLocationCountry": &prefix[prefix.find('-').expect("cc") + 1..][..2],
        "projectTypeName": "Forest Carbon", "projectTypeCode": "FC",
        "developerProfileName": "Government of Guyana",
        "accountHolderProfileName": "Government of Guyana",
        "registryAccountName": "Government of Guyana", "registryAccountType": "PROFILE",
        "issuanceKey": "I3323ART0001", "issuanceVintageStartDate": format!("{vintage}-01-01"),
        "vintage": vintage, "issuanceDate": "2026-03-09", "issuanceQuantity": 7_000_000,
        "registryCode": "ART", "hostCountryLetterOfAuthorization": null,
        "correspondingAdjustment": null, "corsiaDoubleClaimingCompensation": null,
        "corsiaEligible": true, "bufferPool": null, "registryLabels": [], "arbEligible": false,
        "ecologyEligible": false, "creditLink": null,
    });
    let events = serde_json::json!({
        "cancellationKey": cancelled.then_some("C-1"),
        "cancellationDate": cancelled.then_some("2026-06-29"),
        "cancellationReason": cancelled.then_some("CORSIA_COMPLIANCE"),
        "cancellationReasonDisplayName": cancelled.then_some("CORSIA Compliance"),
        "cancellationOnBehalfOfName": cancelled.then_some("JetBlue Airways"),
        "retirementKey": retired.then_some("R-1"),
        "retirementDate": retired.then_some("2026-07-20"),
        "retirementReason": retired.then_some("ENVIRONMENTAL_BENEFIT"),
        "retirementReasonDisplayName": retired.then_some("Environmental Benefit"),
        "retirementPurpose": retired.then_some("Employee travel 2025"),
        "retirementOnBehalfOfName": retired.then_some("Hess Corporation"),
    });
    if let (Some(row), serde_json::Value::Object(events)) = (row.as_object_mut(), events) {
        row.extend(events);
    }
    row
}

/// Responses saved from ART's GreenTrace tenant as the connector fetches them
/// (`{"datasets":{"<key>":{"rows":[…],"totalCount":n}}}`), for projects and for each holding
/// status, are told apart from their first bytes and read into programs and blocks; a response
/// of another shape is refused with the reason.
#[test]
fn saved_greentrace_responses_import_without_a_kind() {
    let c = connector();
    let saved = |key: &str, rows: Vec<serde_json::Value>| {
        let total = rows.len();
        serde_json::to_vec_pretty(&serde_json::json!({
            "datasets": {key: {"rows": rows, "totalCount": total}}
        }))
        .expect("JSON")
    };
    let read = |name: &str, bytes: &[u8], feed: Feed| {
        // `import` tells the kind from the first 64 KiB.
        let head = &bytes[..bytes.len().min(64 * 1024)];
        assert_eq!(c.detect_feed(name, head), Some(feed), "{name}");
        let i = testkit::import_fixture(&c, name, bytes, feed);
        clean(&i, name);
        i.records
    };

    let project = serde_json::json!({
        "details": {"type": "link", "method": "GET", "params": [], "label": "Guyana ART program",
                    "url": "/art/projects/registry/ART_REGISTRY/project/P2423ART0001"},
        "projectId": "ART0102", "projectKey": "P2423ART0001", "projectName": "Guyana ART program",
        "projectStatus": "REGISTERED",
        "projectMethodology": "ART - The REDD+ Environmental Excellence Standard (TREES)",
        "projectType": "Forest Carbon", "projectDeveloper": "Government of Guyana",
        "creditingProgram": "ART - The REDD+ Environmental Excellence Standard (TREES)",
        "country": "GY", "issuedCredits": 33_470_000,
    });
    let records = read(
        "projects.json",
        &saved("projects", vec![project]),
        Feed::Projects,
    );
    let Record::Project(p) = &records[0] else {
        panic!("a program")
    };
    assert_eq!(
        (p.registry_project_id.as_str(), p.country.as_deref()),
        ("ART102", Some("GY"))
    );
    assert!(p.labels.iter().any(|l| l.value == "ART"), "{:?}", p.labels);
    assert_eq!(
        p.registry_url.as_deref(),
        Some("https://greentrace.ice.com/art/projects/registry/ART_REGISTRY/project/P2423ART0001")
    );

    let guyana = "ART-GY-102-2021-11-2759599 to 2760598";
    let fcpf = "FCPF-CI-130-2023-20-1 to 46404";
    for (key, status, feed, kind) in [
        (
            "issuedCredits",
            None,
            Feed::Issuances,
            TransactionType::Issuance,
        ),
        (
            "retiredCredits",
            Some("RETIRED"),
            Feed::Retirements,
            TransactionType::Retirement,
        ),
        (
            "cancelledCredits",
            Some("CANCELED"),
            Feed::Cancellations,
            TransactionType::Cancellation,
        ),
    ] {
        let rows = vec![
            holding_row(status, guyana, "ART0102"),
            holding_row(status, fcpf, "ART130"),
        ];
        let name = format!("{key}.json");
        let records = read(&name, &saved(key, rows), feed);
        assert_unique_keys(&name, &records);
        let got: Vec<_> = credits(&records)
            .into_iter()
            .map(|b| {
                let r = b.serial_range.as_ref().expect("range");
                assert_eq!(b.transaction_type.value, kind, "{name}");
                (
                    b.registry_project_id.as_str(),
                    b.quantity,
                    b.serial.as_deref(),
                    (r.namespace.as_str(), r.start, r.end),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "ART102",
                    Decimal::from(1000),
                    Some(guyana),
                    ("art:ART-GY-102-2021-11", 2_759_599, 2_760_598)
                ),
                (
                    "ART130",
                    Decimal::from(46404),
                    Some(fcpf),
                    ("art:FCPF-CI-130-2023-20", 1, 46404)
                ),
            ],
            "{name}"
        );
    }

    // The projects response read as retirements, and a Gold Standard page, are refused.
    let projects = saved("projects", vec![serde_json::json!({"projectId": "ART102"})]);
    let error = c
        .read_file(Feed::Retirements, "projects.json", &projects)
        .expect_err("no retirements");
    assert!(
        error.to_string().contains(
            "no `datasets.retiredCredits` member, which holds the retirements rows: the response \
             holds `projects`"
        ),
        "{error}"
    );
    let other = br#"[{"id": "134202", "serial_number": "GS1-1-IN-GS817-4-2012-1303-93-4644"}]"#;
    assert_eq!(c.detect_feed("credits.json", other), None);
    let error = c
        .read_file(Feed::Retirements, "credits.json", other)
        .expect_err("not GreenTrace");
    assert!(
        error
            .to_string()
            .starts_with("credits.json: not a GreenTrace response"),
        "{error}"
    );
}
