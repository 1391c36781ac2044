//! Every Gold Standard sample file read and normalized, with totals checked against the
//! files' own columns.

use std::collections::{BTreeMap, HashSet};

use carbonmesh_connector::{Connector, Feed, HttpClient, HttpPolicy, Record};
use carbonmesh_connector_gold_standard::{GoldStandardConfig, GoldStandardConnector};
use carbonmesh_model::{CreditRecord, Project, ProjectStatus, TransactionType, UnitStatus};
use rust_decimal::Decimal;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/gold-standard/"
);
const ISSUANCES: &str = "offsets-db-data_issuances.csv";
const RETIREMENTS: &str = "offsets-db-data_retirements.csv";
const PROJECTS: &str = "offsets-db-data_projects.csv";
const API_CREDITS: &str = "rb-carbon-scraper_gs-credits.json";
const API_PROJECTS: &str = "rb-carbon-scraper_gs-projects.json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{DIR}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path} is missing: {e}"))
}

fn connector() -> GoldStandardConnector {
    let http = HttpClient::new(HttpPolicy::default()).expect("http client");
    GoldStandardConnector::new(GoldStandardConfig::default(), http)
}

struct Import {
    records: Vec<Record>,
    rejected: Vec<(u64, String)>,
}

fn import_bytes(c: &GoldStandardConnector, feed: Feed, name: &str, bytes: &[u8]) -> Import {
    let page = c.read_file(feed, name, bytes).expect("file reads");
    let mut rejected: Vec<(u64, String)> = page
        .unreadable
        .iter()
        .map(|(r, why)| (r.line, why.to_string()))
        .collect();
    let mut records = Vec::new();
    for raw in &page.records {
        let first = c.normalize(raw);
        // Pure: the same raw record always normalizes the same way.
        assert_eq!(first, c.normalize(raw), "{}", raw.location());
        match first {
            Ok(r) => records.extend(r),
            Err(why) => rejected.push((raw.line, why.to_string())),
        }
    }
    Import { records, rejected }
}

fn import(c: &GoldStandardConnector, name: &str) -> (Feed, Import) {
    let bytes = fixture(name);
    let feed = c.detect_feed(name, &bytes).expect("kind detected");
    (feed, import_bytes(c, feed, name, &bytes))
}

fn credits(records: &[Record]) -> Vec<&CreditRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Credit(c) => Some(c),
            Record::Project(_) => None,
        })
        .collect()
}

fn projects(records: &[Record]) -> Vec<&Project> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Project(p) => Some(p),
            Record::Credit(_) => None,
        })
        .collect()
}

/// Keys unique, and every block's range as large as its stated quantity.
fn check_blocks(credits: &[&CreditRecord]) {
    let mut seen = HashSet::new();
    for c in credits {
        assert!(seen.insert(&c.record_key), "duplicate key {}", c.record_key);
        let range = c.serial_range.as_ref().expect("serial range");
        assert_eq!(
            Decimal::from(range.quantity()),
            c.quantity,
            "{}",
            c.record_key
        );
        assert!(c.registry_project_id.starts_with("GS"));
    }
}

/// Totals per (project, vintage, transaction type) straight from a credit export's columns.
fn csv_totals(name: &str) -> BTreeMap<(String, i32, String), i64> {
    let bytes = fixture(name);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().expect("header").clone();
    let at = |n: &str| headers.iter().position(|h| h == n).expect("column");
    let (gsid, vintage, status, qty) = (
        at("GSID"),
        at("Vintage"),
        at("Credit Status"),
        at("Quantity"),
    );
    let mut totals = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("row");
        let kind = match &row[status] {
            "Issued" => "issuance",
            "Retired" => "retirement",
            "Canceled" => "cancellation",
            other => panic!("status {other}"),
        };
        let key = (
            format!("GS{}", &row[gsid]),
            row[vintage].parse().expect("vintage"),
            kind.to_owned(),
        );
        *totals.entry(key).or_default() += row[qty].parse::<i64>().expect("quantity");
    }
    totals
}

fn record_totals(credits: &[&CreditRecord]) -> BTreeMap<(String, i32, String), i64> {
    let mut totals = BTreeMap::new();
    for c in credits {
        let key = (
            c.registry_project_id.clone(),
            c.vintage.expect("vintage"),
            c.transaction_type.value.as_str().to_owned(),
        );
        *totals.entry(key).or_default() += i64::try_from(c.quantity).expect("whole");
    }
    totals
}

#[test]
fn issuance_export_imports_whole() {
    let c = connector();
    let (feed, imported) = import(&c, ISSUANCES);
    assert_eq!(feed, Feed::Issuances);
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let credits = credits(&imported.records);
    assert_eq!(credits.len(), 70);
    check_blocks(&credits);
    assert_eq!(record_totals(&credits), csv_totals(ISSUANCES));
    let first = credits[0];
    assert_eq!(first.registry_project_id, "GS11236");
    assert_eq!(first.transaction_type.value, TransactionType::Issuance);
    assert_eq!(first.status.value, UnitStatus::Active);
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2026-04-13")
    );
    assert_eq!(
        first.serial_range.as_ref().map(|r| r.namespace.as_str()),
        Some("gold-standard:GS1-1-UG-GS11236-16-2024-30307")
    );
}

#[test]
fn retirement_export_imports_whole() {
    let c = connector();
    let (feed, imported) = import(&c, RETIREMENTS);
    assert_eq!(feed, Feed::Retirements);
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let credits = credits(&imported.records);
    assert_eq!(credits.len(), 70);
    check_blocks(&credits);
    assert_eq!(record_totals(&credits), csv_totals(RETIREMENTS));
    let cancelled: Vec<_> = credits
        .iter()
        .filter(|c| c.transaction_type.value == TransactionType::Cancellation)
        .collect();
    assert_eq!(cancelled.len(), 3);
    assert!(
        cancelled
            .iter()
            .all(|c| c.status.value == UnitStatus::Cancelled
                && c.transaction_type.raw == "Canceled"
                && c.event_date.is_none())
    );
    let first = credits[0];
    assert_eq!(first.transaction_type.value, TransactionType::Retirement);
    assert_eq!(first.beneficiary.as_deref(), Some("Hilti Corporation"));
    assert_eq!(first.reason.as_deref(), Some("Voluntary"));
    // The note's embedded newline is folded, the text kept.
    assert!(
        first
            .note
            .as_deref()
            .is_some_and(|n| n.starts_with("Retirement on behalf of Hilti") && !n.contains('\n'))
    );
}

#[test]
fn project_export_imports_whole() {
    let c = connector();
    let (feed, imported) = import(&c, PROJECTS);
    assert_eq!(feed, Feed::Projects);
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let projects = projects(&imported.records);
    let expected = csv::Reader::from_reader(fixture(PROJECTS).as_slice())
        .records()
        .count();
    assert_eq!(projects.len(), expected);
    let ids: HashSet<_> = projects.iter().map(|p| &p.registry_project_id).collect();
    assert_eq!(ids.len(), projects.len());
    let first = projects[0];
    assert_eq!(first.registry_project_id, "GS23574");
    assert_eq!(first.country.as_deref(), Some("HT"));
    assert!(
        first
            .cross_references
            .iter()
            .any(|x| x.id == "GS12856" || x.relation == "programme_of_activities")
    );
    assert!(
        projects
            .iter()
            .all(|p| p.country_raw.is_none() || p.country.is_some())
    );
}

#[test]
fn api_credits_keep_every_sub_range() {
    let c = connector();
    let (feed, imported) = import(&c, API_CREDITS);
    assert_eq!(feed, Feed::Transactions);
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let credits = credits(&imported.records);
    assert_eq!(credits.len(), 8);
    check_blocks(&credits);

    // Batch 1302 is published as three sub-ranges: three blocks, none overlapping.
    let batch: Vec<_> = credits
        .iter()
        .filter_map(|c| c.serial_range.as_ref())
        .filter(|r| r.namespace == "gold-standard:GS1-1-IN-GS716-4-2011-1302")
        .collect();
    assert_eq!(batch.len(), 3);
    let mut spans: Vec<_> = batch.iter().map(|r| (r.start, r.end)).collect();
    spans.sort();
    assert_eq!(spans, vec![(5360, 5399), (5400, 5400), (5401, 15564)]);

    // Totals per (project, vintage, status) straight from the JSON.
    let items: serde_json::Value = serde_json::from_slice(&fixture(API_CREDITS)).expect("json");
    let mut expected: BTreeMap<(String, i32, String), i64> = BTreeMap::new();
    for item in items.as_array().expect("array") {
        let kind = match item["status"].as_str() {
            Some("ISSUED") => "issuance",
            Some("RETIRED") => "retirement",
            other => panic!("status {other:?}"),
        };
        let key = (
            format!("GS{}", item["project"]["sustaincert_id"]),
            item["vintage"]
                .as_str()
                .expect("vintage")
                .parse()
                .expect("year"),
            kind.to_owned(),
        );
        *expected.entry(key).or_default() += item["number_of_credits"].as_i64().expect("n");
    }
    assert_eq!(record_totals(&credits), expected);
}

#[test]
fn api_projects_import_whole() {
    let c = connector();
    let (feed, imported) = import(&c, API_PROJECTS);
    assert_eq!(feed, Feed::Projects);
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let projects = projects(&imported.records);
    assert_eq!(projects.len(), 5);
    let first = projects[0];
    // The name carries the parent programme's number; the id is `sustaincert_id`.
    assert_eq!(first.registry_project_id, "GS23718");
    assert_eq!(first.country.as_deref(), Some("MZ"));
    assert_eq!(
        first.status.as_ref().map(|s| s.value),
        Some(ProjectStatus::Listed)
    );
    assert!(first.cross_references.iter().any(|x| x.id == "GS23711"));
}

#[test]
fn cdm_cers_keep_their_kyoto_range() {
    let c = connector();
    let header = "Vintage,Credit Status,Quantity,GSID,Product Type,Issuance Date,Serial Number\n";
    let row = "2012,Issued,3657,4823,CER,2026-03-01T10:00:00.5,RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014\n";
    let imported = import_bytes(
        &c,
        Feed::Issuances,
        "cer.csv",
        format!("{header}{row}").as_bytes(),
    );
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let cer = credits(&imported.records)[0].clone();
    assert_eq!(cer.registry_project_id, "GS4823");
    let range = cer.serial_range.expect("range");
    assert_eq!(range.namespace, "cdm:RW-5");
    assert_eq!((range.start, range.end), (1463953, 1467609));
    assert_eq!(Decimal::from(range.quantity()), cer.quantity);
}

#[test]
fn bad_rows_are_rejected_naming_field_and_value() {
    let c = connector();
    let header = "Vintage,Credit Status,Quantity,GSID,Issuance Date,Serial Number\n";
    let serial = "GS1-1-UG-GS11236-16-2024-30307-1-19149";
    let body = format!(
        "{header}\
         2024,Issued,19x,11236,2026-04-13,{serial}\n\
         2024,Issued,19149,999,2026-04-13,{serial}\n\
         2024,Issued,19149,11236,2026-13-45,{serial}\n\
         2024,Issued,19149,11236,2026-04-13,GS1-1-UG-GS11236-16-2024-30307-9-1\n\
         2024,Issued,19000,11236,2026-04-13,{serial}\n"
    );
    let imported = import_bytes(&c, Feed::Issuances, "bad.csv", body.as_bytes());
    let why: BTreeMap<u64, String> = imported.rejected.into_iter().collect();
    assert!(
        why[&2].contains("`Quantity`") && why[&2].contains("19x"),
        "{}",
        why[&2]
    );
    assert!(why[&3].contains("GS999"), "{}", why[&3]);
    assert!(
        why[&4].contains("`Issuance Date`") && why[&4].contains("2026-13-45"),
        "{}",
        why[&4]
    );
    assert!(why[&5].contains("`Serial Number`"), "{}", why[&5]);
    // A count that differs from the quantity is kept for the matcher to report.
    assert_eq!(why.len(), 4);
    assert_eq!(credits(&imported.records).len(), 1);
}

/// Pages saved from the public API as the connector fetches them (`/credits` and `/projects`
/// answer a bare JSON array), written with the keys `../shared/docs/registries.md` documents,
/// are told apart from their first bytes and read into blocks and projects; a saved response
/// of another shape is refused with the reason.
#[test]
fn saved_api_pages_import_without_a_kind() {
    let c = connector();
    let credit = |id: &str, status: &str, serial: &str, (start, end): (u64, u64), gsid: u64| {
        let batch: u64 = serial.split('-').nth(6).expect("batch").parse().expect("n");
        serde_json::json!({
            "id": id,
            "number_of_credits": end - start + 1,
            "starting_credit_number": start,
            "ending_credit_number": end,
            "batch_number": batch,
            "serial_number": serial,
            "certified_date": "2013-10-08",
            "monitoring_period_start_date": "2012-01-01",
            "monitoring_period_end_date": "2012-12-31",
            "status": status,
            "vintage": serial.split('-').nth(5).expect("vintage"),
            "is_transferable": status == "ISSUED",
            "is_retirable": status == "ISSUED",
            "is_convertable": false,
            "is_cancelable": false,
            "is_corsia_eligible": false,
            "note": if status == "RETIRED" { serde_json::json!("VER purchased") } else { serde_json::Value::Null },
            "project": {"id": "1158", "name": "Arakalagudu Biodigester Project II",
                        "sustaincert_id": gsid, "carbon_stream": "VER", "country_code": "IN",
                        "programme_of_activities": "Standalone"},
            "product": {"name": "Verified Emission Reduction", "abbreviation": "VER"},
            "labels": ["EMISSION_REDUCTION"],
        })
    };
    let credits_page = serde_json::json!([
        credit(
            "134202",
            "RETIRED",
            "GS1-1-IN-GS817-4-2012-1303-93-4644",
            (93, 4644),
            817
        ),
        credit(
            "134203",
            "ISSUED",
            "GS1-1-IN-GS817-4-2012-1303-4645-5000",
            (4645, 5000),
            817
        ),
    ]);
    let projects_page = serde_json::json!([{
        "id": "5672",
        "name": "GS23711- Mozambique Off Grid Electrification VPA1",
        "status": "LISTED",
        "gsf_standards_version": "Gold Standard for the Global Goals",
        "estimated_annual_credits": 9000,
        "crediting_period_start_date": "2026-06-26",
        "crediting_period_end_date": "2031-06-25",
        "methodology": null,
        "type": "Other",
        "size": "Micro Scale",
        "sustaincert_id": 23718,
        "sustaincert_url": "https://assurance-platform.goldstandard.org/project-documents/GS23718",
        "project_developer": "Anthesis B.V.",
        "carbon_stream": "GS_VER",
        "country": "Mozambique",
        "country_code": "MZ",
        "state": null,
        "labels": [],
        "sustainable_development_goals": [{"name": "Goal 13: Climate Action"}],
    }]);
    // As saved from a browser: indented, read from its first 64 KiB as `import` does.
    let saved = |value: &serde_json::Value| serde_json::to_vec_pretty(value).expect("JSON");
    let detect =
        |name: &str, bytes: &[u8]| c.detect_feed(name, &bytes[..bytes.len().min(64 * 1024)]);

    let bytes = saved(&credits_page);
    assert_eq!(detect("page.json", &bytes), Some(Feed::Transactions));
    let imported = import_bytes(&c, Feed::Transactions, "page.json", &bytes);
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let blocks = credits(&imported.records);
    check_blocks(&blocks);
    let got: Vec<_> = blocks
        .iter()
        .map(|b| {
            let r = b.serial_range.as_ref().expect("range");
            (
                b.record_key.as_str(),
                b.registry_project_id.as_str(),
                b.transaction_type.value,
                i64::try_from(b.quantity).expect("whole"),
                r.namespace.as_str(),
                (r.start, r.end),
            )
        })
        .collect();
    let batch = "gold-standard:GS1-1-IN-GS817-4-2012-1303";
    assert_eq!(
        got,
        [
            (
                "credit:134202",
                "GS817",
                TransactionType::Retirement,
                4552,
                batch,
                (93, 4644)
            ),
            (
                "credit:134203",
                "GS817",
                TransactionType::Issuance,
                356,
                batch,
                (4645, 5000)
            ),
        ]
    );
    assert_eq!(blocks[0].note.as_deref(), Some("VER purchased"));
    assert_eq!(blocks[1].vintage, Some(2012));

    let bytes = saved(&projects_page);
    assert_eq!(detect("page.json", &bytes), Some(Feed::Projects));
    let imported = import_bytes(&c, Feed::Projects, "page.json", &bytes);
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let projects = projects(&imported.records);
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].registry_project_id, "GS23718");
    assert_eq!(projects[0].country.as_deref(), Some("MZ"));
    assert_eq!(
        projects[0].registry_url.as_deref(),
        Some("https://registry.goldstandard.org/projects/details/5672")
    );

    // A saved response of another API (a CAD Trust page of units) is none of these: its kind
    // cannot be told, and read as credits it is refused, naming what it holds.
    let other = saved(&serde_json::json!({"page": 1, "pageCount": 1, "data": [
        {"warehouseUnitId": "u-1", "unitBlockStart": "A1", "unitBlockEnd": "A9", "unitCount": 9}
    ]}));
    assert_eq!(detect("units.json", &other), None);
    let error = c
        .read_file(Feed::Transactions, "units.json", &other)
        .expect_err("not a Gold Standard page");
    let message = error.to_string();
    assert!(
        message.starts_with("units.json: not a saved Gold Standard API response")
            && message.contains("`data`, `page`, `pageCount`"),
        "{message}"
    );
}
