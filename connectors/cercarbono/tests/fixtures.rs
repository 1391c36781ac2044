//! Every Cercarbono sample file imports through `read_file` + `normalize`, and what comes out
//! agrees with totals computed straight from the files' own columns.

use std::collections::{BTreeMap, HashSet};

use carbonmesh_connector::testkit::{self, Imported, Totals, assert_unique_keys, credits};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_cercarbono::{CercarbonoConfig, CercarbonoConnector};
use carbonmesh_model::{
    CreditRecord, Project, ProjectStatus, RegistryId, TransactionType, UnitStatus,
};
use rust_decimal::Decimal;
use serde_json::Value;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/cercarbono/"
);
const ISSUANCES: &str = "offsets-db-data_issuances.csv";
const RETIREMENTS: &str = "offsets-db-data_retirements.csv";
const PROJECTS: &str = "offsets-db-data_projects-first12.csv";
const API_RETIREMENTS: &str = "rb-carbon-scraper_cercarbono-retirements.json";
const API_PROJECTS: &str = "rb-carbon-scraper_cercarbono-projects.json";
const DETAIL: &str = "rb-carbon-scraper_cercarbono-detail.json";
const DETAIL_CONVERTED: &str = "rb-carbon-scraper_cercarbono-detail-converted.json";

fn connector() -> CercarbonoConnector {
    CercarbonoConnector::new(
        CercarbonoConfig::new("http://127.0.0.1:9"),
        testkit::quick_http(),
    )
}

fn fixture(name: &str) -> Vec<u8> {
    testkit::read_fixture(DIR, name)
}

fn import(name: &str, expected: Feed) -> Imported {
    testkit::import_fixture(&connector(), name, &fixture(name), expected)
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

fn totals_of(credits: &[&CreditRecord]) -> Totals {
    testkit::totals_by(credits.iter().copied(), |c| {
        (
            c.registry_project_id.clone(),
            c.vintage.expect("vintage"),
            c.transaction_type.value.as_str(),
        )
    })
}

fn rows(name: &str) -> Vec<BTreeMap<String, String>> {
    testkit::csv_rows(&fixture(name), str::to_owned)
}

/// `CDC-7` for `CDC_7_…`, `CDC-106` for `BCR2CDC_106_…`: the public code the serial names.
fn code_of(serial: &str) -> String {
    let mut tokens = serial.split('_');
    let head = tokens.next().expect("head");
    let standard = head.rsplit('2').next().expect("standard");
    format!("{standard}-{}", tokens.next().expect("project"))
}

fn dec(v: &str) -> Decimal {
    v.trim().parse::<Decimal>().expect("number").normalize()
}

#[test]
fn every_fixture_file_imports() {
    for (name, feed) in [
        (ISSUANCES, Feed::Issuances),
        (RETIREMENTS, Feed::Retirements),
        (PROJECTS, Feed::Projects),
        (API_RETIREMENTS, Feed::Retirements),
        (API_PROJECTS, Feed::Projects),
        (DETAIL, Feed::Projects),
        (DETAIL_CONVERTED, Feed::Projects),
    ] {
        let i = import(name, feed);
        assert!(
            i.page.unreadable.is_empty(),
            "{name}: {:?}",
            i.page.unreadable
        );
        assert!(i.rejected.is_empty(), "{name}: {:?}", i.rejected);
        assert!(!i.records.is_empty(), "{name}");
        assert_eq!(i.records.len(), i.page.records.len(), "{name}");
        assert_unique_keys(name, &i.records);
        for r in &i.records {
            let ok = match r {
                Record::Project(p) => p.validate(),
                Record::Credit(c) => c.validate(),
            };
            assert!(ok.is_ok(), "{name}: {ok:?}");
        }
    }
}

#[test]
fn issued_batches_keep_their_range_and_totals() {
    let i = import(ISSUANCES, Feed::Issuances);
    let credits = credits(&i.records);
    let rows = rows(ISSUANCES);
    assert_eq!(credits.len(), rows.len());
    let mut expected = Totals::new();
    for row in &rows {
        let kind = if row["is_buffer"] == "True" {
            "buffer"
        } else {
            "issuance"
        };
        *expected
            .entry((
                code_of(&row["serial"]),
                row["year"].parse().expect("year"),
                kind,
            ))
            .or_default() += dec(&row["issued_quantity"]);
    }
    assert_eq!(totals_of(&credits), expected);
    for (c, row) in credits.iter().zip(&rows) {
        // Every batch keeps its serial and the range 1..=quantity in its own namespace.
        assert_eq!(c.serial.as_deref(), Some(row["serial"].as_str()));
        let range = c.serial_range.as_ref().expect("range");
        assert_eq!(range.namespace, format!("cercarbono:{}", row["serial"]));
        assert_eq!((range.start, Decimal::from(range.end)), (1, c.quantity));
        let buffer = row["is_buffer"] == "True";
        assert_eq!(
            c.status.value == UnitStatus::Buffer,
            buffer,
            "{}",
            row["serial"]
        );
        assert_eq!(
            c.transaction_type.raw,
            format!("is_buffer={}", row["is_buffer"])
        );
    }
    let first = credits[0];
    assert_eq!(first.record_key, "issuance:CDC_1_1_1_321_14_1");
    assert_eq!(first.registry_project_id, "CDC-1");
    assert_eq!(first.vintage, Some(2015));
    assert_eq!(
        first.monitoring_period.as_ref().map(|p| (p.start, p.end)),
        Some(("2010-01-01".parse().ok(), "2018-09-30".parse().ok()))
    );
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2019-03-07")
    );
    assert!(
        first
            .note
            .as_deref()
            .is_some_and(|n| n.contains("Colombian Carbon Tax (ICC)")),
        "{:?}",
        first.note
    );
    // A revised batch: its revision is noted, its buffer twin is a buffer record.
    let revised = credits
        .iter()
        .find(|c| c.serial.as_deref() == Some("CDC_4_1_1_321_14_R1_XX_CO_1_2_BFC_2018"))
        .expect("revised buffer batch");
    assert_eq!(revised.transaction_type.value, TransactionType::Buffer);
    assert!(
        revised
            .note
            .as_deref()
            .is_some_and(|n| n.contains("revision R1"))
    );
}

#[test]
fn retirement_positions_become_ranges_inside_their_batch() {
    let i = import(RETIREMENTS, Feed::Retirements);
    let credits = credits(&i.records);
    let rows = rows(RETIREMENTS);
    assert_eq!(credits.len(), rows.len());
    let mut expected = Totals::new();
    for row in &rows {
        *expected
            .entry((
                code_of(&row["serial"]),
                row["vintage"].parse().expect("vintage"),
                "retirement",
            ))
            .or_default() += dec(&row["quantity"]);
    }
    assert_eq!(totals_of(&credits), expected);
    for (c, row) in credits.iter().zip(&rows) {
        let range = c
            .serial_range
            .as_ref()
            .expect("every block keeps its range");
        assert_eq!(range.namespace, format!("cercarbono:{}", row["serial"]));
        assert_eq!(range.start.to_string(), row["from"]);
        assert_eq!(range.end.to_string(), row["to"]);
        // `to − from + 1 = quantity` on every row of the sample.
        assert_eq!(Decimal::from(range.quantity()), c.quantity);
        assert_eq!(c.status.value, UnitStatus::Retired);
        assert_eq!(
            c.reason.as_deref(),
            Some(row["certificate_destination"].as_str())
        );
    }
    let first = credits[0];
    assert_eq!(
        first.record_key,
        "retirement:CDC_1_1_1_321_14_1_2009@2022-02-24T20:20:59:546"
    );
    assert_eq!(first.beneficiary.as_deref(), Some("Reciclene S.A.S"));
    // The 2019 batches count positions from 0, as published.
    let early = credits
        .iter()
        .find(|c| c.serial.as_deref() == Some("CDC_2_1_1_321_14_1"))
        .expect("CDC-2");
    let r = early.serial_range.as_ref().expect("range");
    assert_eq!((r.start, r.end), (0, 9515));
    // "Not public" end users fall back to the passive subject.
    assert_eq!(early.beneficiary.as_deref(), Some("PRIMAX COLOMBIA S.A."));
}

#[test]
fn api_retirements_total_and_link_converted_batches() {
    let i = import(API_RETIREMENTS, Feed::Retirements);
    let credits = credits(&i.records);
    let body: Value = serde_json::from_slice(&fixture(API_RETIREMENTS)).expect("json");
    let items = body["retirements"].as_array().expect("array");
    assert_eq!(credits.len(), items.len());
    let mut expected = Totals::new();
    for item in items {
        assert_eq!(item["is_kg"], 0);
        let serial = item["serial"].as_str().expect("serial");
        let year: i32 = item["vintage"].as_str().expect("vintage")[..4]
            .parse()
            .expect("year");
        *expected
            .entry((code_of(serial), year, "retirement"))
            .or_default() += Decimal::from(item["quantity"].as_i64().expect("quantity"));
    }
    assert_eq!(totals_of(&credits), expected);
    // The analytics ledger publishes no positions: the batch is named, no range is invented.
    assert!(credits.iter().all(|c| c.serial_range.is_none()));

    let converted: Vec<_> = credits
        .iter()
        .filter(|c| {
            c.serial
                .as_deref()
                .is_some_and(|s| s.starts_with("BCR2CDC_"))
        })
        .collect();
    assert_eq!(converted.len(), 6);
    for c in &converted {
        assert_eq!(c.registry_project_id, "CDC-106");
        assert!(
            c.note
                .as_deref()
                .is_some_and(|n| n.contains("migrated from BioCarbon Registry")),
            "{:?}",
            c.note
        );
    }
    // The biodiversity standard's project: internal id 224, public code CDB-1.
    assert!(credits.iter().any(|c| c.registry_project_id == "CDB-1"));
    // The same retirement in the CSV download and in the API ledger is one record.
    let csv = import(RETIREMENTS, Feed::Retirements);
    let csv_keys: HashSet<_> = testkit::credits(&csv.records)
        .into_iter()
        .map(|c| c.record_key.clone())
        .collect();
    let shared = credits
        .iter()
        .filter(|c| csv_keys.contains(&c.record_key))
        .count();
    assert!(shared >= 5, "{shared} keys shared with the CSV download");
}

#[test]
fn converted_projects_link_to_biocarbon() {
    for name in [API_PROJECTS, DETAIL_CONVERTED] {
        let i = import(name, Feed::Projects);
        let p = projects(&i.records)
            .into_iter()
            .find(|p| p.registry_project_id == "CDC-106")
            .expect("CDC-106");
        assert_eq!(p.id(), "cercarbono:CDC-106");
        let x = p.cross_references.first().expect("cross-reference");
        assert_eq!(x.registry, Some(RegistryId::BIOCARBON));
        assert_eq!(x.relation, "converted_from");
        assert_eq!(x.id, "https://biocarbonregistry.com/en/project/?id=24");
        assert!(!p.name.contains('\t'), "{}", p.name);
    }
    let detail = import(DETAIL, Feed::Projects);
    let p = projects(&detail.records)[0];
    assert!(p.cross_references.is_empty());
}

#[test]
fn project_lists_and_details_map_onto_the_model() {
    let i = import(API_PROJECTS, Feed::Projects);
    let ps = projects(&i.records);
    assert_eq!(ps.len(), 5);
    // The public code, not the internal id 274.
    let vinaqua = ps[0];
    assert_eq!(vinaqua.registry_project_id, "CDC-271");
    assert_eq!(vinaqua.country.as_deref(), Some("ZA"));
    assert_eq!(
        vinaqua.registry_url.as_deref(),
        Some("https://www.ecoregistry.io/projects/274")
    );
    assert_eq!(
        vinaqua.status.as_ref().map(|s| (s.value, s.raw.as_str())),
        Some((ProjectStatus::Registered, "Verification"))
    );
    assert_eq!(vinaqua.methodology.as_deref(), Some("AMS-III.H"));

    let d = import(DETAIL, Feed::Projects);
    let p = projects(&d.records)[0];
    assert_eq!(p.registry_project_id, "CDC-1");
    assert_eq!(p.country.as_deref(), Some("CO"));
    assert_eq!(p.crediting_periods.len(), 1);
    assert_eq!(
        p.locations[0].region.as_deref(),
        Some("Planeta Rica, Cordoba")
    );
    assert!(p.locations[0].latitude.is_some());

    let csv = import(PROJECTS, Feed::Projects);
    let ps = projects(&csv.records);
    assert_eq!(ps.len(), rows(PROJECTS).len());
    let ids: HashSet<_> = ps.iter().map(|p| p.registry_project_id.as_str()).collect();
    assert_eq!(ids.len(), ps.len());
    assert!(ps.iter().all(|p| p.country.as_deref() == Some("CO")));
    assert_eq!(ps[0].methodology.as_deref(), Some("AR-ACM0003"));
}

#[test]
fn bad_rows_are_rejected_naming_file_line_field_and_reason() {
    let c = connector();
    let text = String::from_utf8(fixture(RETIREMENTS)).expect("utf-8");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Line 2: a quantity that is not a number. Line 3: a serial of no known layout.
    // Line 4: positions that run backwards. Line 5: a date that cannot exist.
    lines[1] = lines[1].replacen(",546,", ",54x6,", 1);
    lines[2] = lines[2].replacen("CDC_1_1_1_321_14_1_2009", "XYZ_1_2009", 1);
    lines[3] = lines[3].replacen(",1216,1283,", ",1283,1216,", 1);
    lines[4] = lines[4].replacen("2020-01-24 08:58:34", "2020-13-45 08:58:34", 1);
    let bad = lines.join("\n") + "\n";
    let page = c
        .read_file(Feed::Retirements, "bad.csv", bad.as_bytes())
        .expect("reads");
    let mut why = BTreeMap::new();
    for raw in &page.records {
        if let Err(r) = c.normalize(raw) {
            assert_eq!(raw.source, "bad.csv");
            why.insert(raw.line, r);
        }
    }
    assert_eq!(why.len(), 4, "{why:?}");
    assert_eq!(c.registry(), RegistryId::CERCARBONO);
    assert_eq!(why[&2].field.as_deref(), Some("quantity"));
    assert!(why[&2].reason.contains("54x6"), "{}", why[&2]);
    assert_eq!(why[&3].field.as_deref(), Some("serial"));
    assert!(why[&3].reason.contains("XYZ_1_2009"), "{}", why[&3]);
    assert_eq!(why[&4].field.as_deref(), Some("from"));
    assert!(why[&4].reason.contains("1283-1216"), "{}", why[&4]);
    assert_eq!(why[&5].field.as_deref(), Some("date"));
    assert!(why[&5].reason.contains("2020-13-45"), "{}", why[&5]);

    // An issued batch whose serial says buffer but whose flag says otherwise.
    let text = String::from_utf8(fixture(ISSUANCES)).expect("utf-8");
    let bad = text.replacen(
        "CDC_1_1_1_321_14_1_2008_BF,226,2023-04-14T15:56:47.000Z,2008,True",
        "CDC_1_1_1_321_14_1_2008_BF,226,2023-04-14T15:56:47.000Z,2008,False",
        1,
    );
    let page = c
        .read_file(Feed::Issuances, "bad.csv", bad.as_bytes())
        .expect("reads");
    let rejected: Vec<_> = page
        .records
        .iter()
        .filter_map(|r| c.normalize(r).err().map(|e| (r.line, e)))
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, 5);
    assert_eq!(rejected[0].1.field.as_deref(), Some("is_buffer"));
}

#[test]
fn normalizing_is_deterministic_across_connectors() {
    for (name, feed) in [
        (ISSUANCES, Feed::Issuances),
        (API_RETIREMENTS, Feed::Retirements),
    ] {
        let a = import(name, feed).records;
        let b = import(name, feed).records;
        assert_eq!(a, b, "{name}");
    }
}

/// A response saved from `analytics/projects`, which the connector fetches for the issued
/// batches (every project with its `serials[]`), written with the members of the flattened
/// export and real serial rows, is told from its first bytes and read into one credit record
/// per batch; a project without batches gives none. Saved responses of another shape are
/// refused with the reason.
#[test]
fn a_saved_analytics_projects_response_imports_its_batches_without_a_kind() {
    let c = connector();
    let serial =
        |serial: &str, quantity: u64, date: &str, year: i32, buffer: bool, period: &str| {
            serde_json::json!({
                "verification": 1, "serial": serial, "issued_quantity": quantity,
                "issuance_date": date, "year": year, "is_buffer": buffer,
                "vintage_of_credits": period, "global_goals": [],
                "elegible": [{"description": "Voluntary compensation", "code": "CV"}],
            })
        };
    let project = |id: u32, name: &str, serials: Vec<Value>| {
        serde_json::json!({
            "id": id, "code": format!("CDC-{id}"), "is_public": true,
            "owner": "Agroporvanda S.A.S", "developer": "Forestry Consulting Group S.A.S.",
            "validator": "ICONTEC", "verifier": "ICONTEC", "credits_type": "Carbon offsets",
            "name": name, "description": "", "standard": "Cercarbono",
            "sector": [{"id": 14, "description": "Land use (AFOLU)"}],
            "evaluation_criteria": "PROTOCOL CVCC V1.1",
            "quantification_method": "CDM - AR-ACM0003", "stage": "Certified",
            "locations": [{"city": "Planeta Rica", "country": "Colombia", "region": "Cordoba"}],
            "serials": serials, "annualEstimated": 0,
        })
    };
    let saved = serde_json::to_vec_pretty(&serde_json::json!({"project": [
        // Listed first, with no batch yet: the kind is still told from the project members.
        project(271, "Vinaqua WWTP Carbon Project", vec![]),
        project(1, "Carbono Agroporvanda", vec![
            serial("CDC_1_1_1_321_14_1", 62740, "2019-03-07T18:33:46.000Z", 2015, false,
                   "2010-01-01 / 2018-09-30"),
            serial("CDC_1_1_1_321_14_1_2008", 1283, "2020-01-23T21:05:02.000Z", 2008, false,
                   "2008-01-16 / 2008-12-31"),
            serial("CDC_1_1_1_321_14_1_2008_BF", 226, "2023-04-14T15:56:47.000Z", 2008, true,
                   "2008-01-16 / 2008-12-31"),
        ]),
    ]}))
    .expect("JSON");
    let name = "analytics-projects.json";
    assert_eq!(
        c.detect_feed(name, &saved[..saved.len().min(64 * 1024)]),
        Some(Feed::Issuances)
    );
    let i = testkit::import_fixture(&c, name, &saved, Feed::Issuances);
    assert!(
        i.page.unreadable.is_empty() && i.rejected.is_empty(),
        "{:?}",
        i.rejected
    );
    let got: Vec<_> = credits(&i.records)
        .into_iter()
        .map(|b| {
            let r = b.serial_range.as_ref().expect("range");
            (
                b.record_key.as_str(),
                b.registry_project_id.as_str(),
                b.transaction_type.value,
                b.quantity,
                b.vintage,
                (r.namespace.as_str(), r.start, r.end),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "issuance:CDC_1_1_1_321_14_1",
                "CDC-1",
                TransactionType::Issuance,
                Decimal::from(62740),
                Some(2015),
                ("cercarbono:CDC_1_1_1_321_14_1", 1, 62740)
            ),
            (
                "issuance:CDC_1_1_1_321_14_1_2008",
                "CDC-1",
                TransactionType::Issuance,
                Decimal::from(1283),
                Some(2008),
                ("cercarbono:CDC_1_1_1_321_14_1_2008", 1, 1283)
            ),
            (
                "buffer:CDC_1_1_1_321_14_1_2008_BF",
                "CDC-1",
                TransactionType::Buffer,
                Decimal::from(226),
                Some(2008),
                ("cercarbono:CDC_1_1_1_321_14_1_2008_BF", 1, 226)
            ),
        ]
    );

    // The same response read as the retirement ledger, and a GreenTrace response read as
    // issuances, are refused naming what they hold.
    let error = c
        .read_file(Feed::Retirements, name, &saved)
        .expect_err("no retirements");
    assert!(
        error
            .to_string()
            .contains("in a `retirements` array; the object has [\"project\"]"),
        "{error}"
    );
    let other = br#"{"datasets": {"issuedCredits": {"rows": [], "totalCount": 0}}}"#;
    assert_eq!(c.detect_feed("issued.json", other), None);
    let error = c
        .read_file(Feed::Issuances, "issued.json", other)
        .expect_err("not EcoRegistry");
    assert!(
        error
            .to_string()
            .contains("in a `project` array; the object has [\"datasets\"]"),
        "{error}"
    );
}
