//! Every BioCarbon fixture file imports through `read_file` + `normalize`, and what comes out
//! agrees with totals and ranges computed straight from the files' own JSON.

use std::collections::BTreeMap;
use std::str::FromStr;

use carbonmesh_connector::testkit::{
    self, Imported, Totals, assert_unique_keys, credits, totals_of,
};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_biocarbon::{BiocarbonConfig, BiocarbonConnector};
use carbonmesh_model::{CreditRecord, Project, ProjectStatus, TransactionType, UnitStatus};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/biocarbon/"
);
const BLOCKS: &str = "rb-carbon-scraper_biocarbon-carbon-credits.json";
const RETREATS: &str = "rb-carbon-scraper_biocarbon-retreats-page1.json";
const CANCELLATIONS: &str = "rb-carbon-scraper_biocarbon-cancellations.json";
const PROJECTS: &str = "rb-carbon-scraper_biocarbon-projects-page1.json";

fn connector() -> BiocarbonConnector {
    BiocarbonConnector::new(
        BiocarbonConfig::new("http://127.0.0.1:9"),
        testkit::quick_http(),
    )
}

fn fixture(name: &str) -> Vec<u8> {
    testkit::read_fixture(DIR, name)
}

fn import(name: &str, expected: Feed) -> Imported {
    testkit::import_fixture(&connector(), name, &fixture(name), expected)
}

fn raw_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixture JSON")
}

fn data(name: &str) -> Vec<Value> {
    raw_json(name)["data"].as_array().expect("data").clone()
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

/// A quantity as the API writes it: `"299,564"`, `"0"` or a number.
fn amount(v: &Value) -> Decimal {
    let s = match v {
        Value::String(s) => s.replace(',', ""),
        other => other.to_string(),
    };
    Decimal::from_str(&s).expect("quantity")
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `start`/`end` fields of a serial, and the prefix before them.
fn serial_parts(serial: &str) -> (String, u64, u64) {
    let (prefix, end) = serial.rsplit_once('-').expect("end");
    let (prefix, start) = prefix.rsplit_once('-').expect("start");
    (
        prefix.to_owned(),
        start.parse().expect("start"),
        end.parse().expect("end"),
    )
}

fn check_range(c: &CreditRecord, serial: &str, start: u64, end: u64) {
    assert_eq!(c.serial.as_deref(), Some(serial));
    let range = c.serial_range.as_ref().expect("range");
    let (prefix, _, _) = serial_parts(serial);
    assert_eq!(range.namespace, format!("biocarbon:{prefix}"));
    assert_eq!((range.start, range.end), (start, end), "{serial}");
}

#[test]
fn issuance_blocks_import_whole_with_their_ranges() {
    let i = import(BLOCKS, Feed::Issuances);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    let items = data(BLOCKS);
    assert_eq!(credits(&i.records).len(), 144);
    assert_unique_keys(BLOCKS, &i.records);

    // Totals straight from the JSON: `destination` Impuesto is an issuance, Reserva and
    // reserved are reserve blocks; the vintage is `year`, else the year of `final_vintage`.
    let mut expected = Totals::new();
    for b in &items {
        let kind = match b["destination"].as_str() {
            Some("Impuesto") => "issuance",
            Some("Reserva" | "reserved") => "buffer",
            other => panic!("destination {other:?}"),
        };
        let year = match &b["year"] {
            Value::Null => b["final_vintage"].as_str().expect("final")[..4].to_owned(),
            y => text(y),
        };
        *expected
            .entry((text(&b["initiative_id"]), year.parse().expect("year"), kind))
            .or_default() += amount(&b["amount"]);
    }
    assert_eq!(totals_of(&i.records), expected);

    for (c, b) in credits(&i.records).into_iter().zip(&items) {
        let serial = b["serial"].as_str().expect("serial");
        let (_, start, end) = serial_parts(serial);
        check_range(c, serial, start, end);
        assert_eq!(c.record_key, format!("carbon-credit:{serial}"));
        // Quantity = end − start + 1 on every block of the sample.
        assert_eq!(Decimal::from(end - start + 1), c.quantity, "{serial}");
        assert_eq!(c.transaction_type.raw, text(&b["destination"]));
    }
    let first = credits(&i.records)[0];
    assert_eq!(first.quantity, Decimal::from(299_564));
    assert_eq!(first.transaction_type.value, TransactionType::Issuance);
    assert_eq!(first.status.value, UnitStatus::Active);
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2026-05-13")
    );
    assert!(
        credits(&i.records)
            .iter()
            .filter(|c| c.transaction_type.value == TransactionType::Buffer)
            .all(|c| c.status.value == UnitStatus::Buffer)
    );
}

#[test]
fn the_project_comes_from_the_record_never_from_the_serial() {
    let blocks = import(BLOCKS, Feed::Issuances);
    let listed = import(PROJECTS, Feed::Projects);
    // Blocks of BCR-CO-319-14-001 (internal number 35) carry serials `BCR-CO-259-14-005-…`.
    let project = projects(&listed.records)
        .into_iter()
        .find(|p| p.registry_project_id == "35")
        .expect("project 35");
    assert!(
        project
            .labels
            .iter()
            .any(|l| l.kind == "project_code" && l.value == "BCR-CO-319-14-001")
    );
    let of_35: Vec<_> = credits(&blocks.records)
        .into_iter()
        .filter(|c| {
            c.serial
                .as_deref()
                .is_some_and(|s| s.starts_with("BCR-CO-259-14-005-"))
        })
        .collect();
    assert!(!of_35.is_empty());
    assert!(of_35.iter().all(|c| c.project_id() == "biocarbon:35"));
    assert!(of_35.iter().all(|c| {
        c.note
            .as_deref()
            .is_some_and(|n| n.contains("project code: BCR-CO-319-14-001"))
    }));
    // Every record of every feed names its project by the internal number, as stated.
    for (name, feed) in [
        (BLOCKS, Feed::Issuances),
        (RETREATS, Feed::Retirements),
        (CANCELLATIONS, Feed::Cancellations),
    ] {
        let i = import(name, feed);
        assert!(
            credits(&i.records)
                .iter()
                .all(|c| c.registry_project_id.bytes().all(|b| b.is_ascii_digit()))
        );
    }
}

#[test]
fn retirements_import_whole_as_sub_ranges() {
    let i = import(RETREATS, Feed::Retirements);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    let items = data(RETREATS);
    assert_eq!(credits(&i.records).len(), items.len());
    assert_unique_keys(RETREATS, &i.records);

    // The vintage of a retirement is the serial's `YYMM` end year.
    let mut expected = Totals::new();
    for r in &items {
        let serial = r["serial"].as_str().expect("serial");
        let yymm = serial.split('-').nth(7).expect("vintage end");
        *expected
            .entry((
                text(&r["initiative_id"]),
                2000 + yymm[..2].parse::<i32>().expect("year"),
                "retirement",
            ))
            .or_default() += amount(&r["sold"]);
    }
    assert_eq!(totals_of(&i.records), expected);

    for (c, r) in credits(&i.records).into_iter().zip(&items) {
        let serial = r["serial"].as_str().expect("serial");
        let start = r["initial_serial"].as_u64().expect("initial");
        let end = r["final_serial"].as_u64().expect("final");
        check_range(c, serial, start, end);
        assert_eq!(Decimal::from(end - start + 1), c.quantity, "{serial}");
        assert_eq!(c.status.value, UnitStatus::Retired);
    }
    let first = credits(&i.records)[0];
    assert_eq!(first.registry_project_id, "20");
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2026-08-03"),
        "created_at is DD/MM/YYYY"
    );
    assert_eq!(
        first.account.as_deref(),
        Some("Enterprise Management Services S.A.S.")
    );
    let fuel = credits(&i.records)
        .into_iter()
        .find(|c| c.beneficiary.is_some())
        .expect("a retirement for a final user");
    assert_eq!(fuel.account.as_deref(), Some("TERPEL S.A."));
}

#[test]
fn cancellations_import_whole_per_project() {
    let i = import(CANCELLATIONS, Feed::Cancellations);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    let mut expected = Totals::new();
    let mut count = 0;
    for (project, response) in raw_json(CANCELLATIONS).as_object().expect("object") {
        for c in response["data"].as_array().expect("data") {
            count += 1;
            *expected
                .entry((
                    project.clone(),
                    text(&c["year"]).parse().expect("year"),
                    "cancellation",
                ))
                .or_default() += amount(&c["amount"]);
        }
    }
    assert_eq!(count, 3);
    assert_eq!(credits(&i.records).len(), count);
    assert_unique_keys(CANCELLATIONS, &i.records);
    assert_eq!(totals_of(&i.records), expected);
    let ati = credits(&i.records)
        .into_iter()
        .find(|c| c.registry_project_id == "9")
        .expect("project 9");
    check_range(
        ati,
        "PCR-CO-ATI-14-001-2-1012-1712-0080283-0554328",
        80_283,
        554_328,
    );
    assert_eq!(ati.quantity, Decimal::from(474_046));
    assert_eq!(ati.status.value, UnitStatus::Cancelled);
    assert_eq!(
        ati.event_date.map(|d| d.to_string()).as_deref(),
        Some("2019-11-06")
    );
}

#[test]
fn projects_import_and_the_impossible_one_is_kept_as_rejected() {
    let i = import(PROJECTS, Feed::Projects);
    assert!(i.page.unreadable.is_empty());
    let items = data(PROJECTS);
    // Project 116 states a quantification period from 2045 to 2019.
    assert_eq!(i.rejected.len(), 1, "{:?}", i.rejected);
    let (line, why) = &i.rejected[0];
    assert_eq!(*line, 1);
    assert_eq!(items[0]["id"], 116);
    assert_eq!(why.field.as_deref(), Some("crediting_periods[0]"));
    assert!(
        why.reason.contains("2019-01-07") && why.reason.contains("2045-01-09"),
        "{why}"
    );
    let raw = &i.page.records[0];
    assert_eq!(raw.location(), format!("{PROJECTS}:1"));

    let projects = projects(&i.records);
    assert_eq!(projects.len(), items.len() - 1);
    let turkey = projects
        .iter()
        .find(|p| p.registry_project_id == "85")
        .expect("project 85");
    assert_eq!(turkey.country.as_deref(), Some("TR"));
    assert_eq!(turkey.country_raw.as_deref(), Some("Turquía"));
    assert_eq!(turkey.methodology.as_deref(), Some("CDM ACM0002"));
    let p35 = projects
        .iter()
        .find(|p| p.registry_project_id == "35")
        .expect("project 35");
    assert_eq!(
        p35.status.as_ref().map(|s| (s.value, s.raw.as_str())),
        Some((ProjectStatus::Registered, "Registered"))
    );
    assert_eq!(p35.methodology.as_deref(), Some("BCR BCR0002"));
}

#[test]
fn fractional_and_separated_quantities_stay_exact() {
    let c = connector();
    let mut block = data(BLOCKS)[0].clone();
    block["amount"] = json!("1,234.567");
    let body = json!({"data": [block]}).to_string();
    let page = c
        .read_file(Feed::Issuances, "f.json", body.as_bytes())
        .expect("reads");
    let records = c.normalize(&page.records[0]).expect("normalizes");
    assert_eq!(credits(&records)[0].quantity, Decimal::new(1_234_567, 3));
}

#[test]
fn bad_records_are_rejected_naming_field_and_value() {
    let c = connector();
    let good = data(RETREATS)[0].clone();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut r = good.clone();
        f(&mut r);
        r
    };
    let items = vec![
        good.clone(),
        with(&|r| r["initiative_id"] = Value::Null),
        with(&|r| r["serial"] = json!("BCR-CO-259-14-002-2-2413-2409-0043804-0043903")),
        // Positions outside the serial's range.
        with(&|r| r["final_serial"] = json!(43904)),
        with(&|r| r["created_at"] = json!("31/02/2026")),
        with(&|r| r["sold"] = json!("1,00")),
        with(&|r| r["initiative_id"] = json!("BCR-CO-319-14-004")),
    ];
    let body = json!({"current_page": 1, "data": items, "total": 7}).to_string();
    let page = c
        .read_file(Feed::Retirements, "bad.json", body.as_bytes())
        .expect("reads");
    let mut why = BTreeMap::new();
    for raw in &page.records {
        if let Err(e) = c.normalize(raw) {
            why.insert(
                raw.line,
                (e.field.clone().unwrap_or_default(), e.to_string()),
            );
        }
    }
    assert_eq!(why.len(), 6, "{why:?}");
    assert_eq!(why[&2].0, "initiative_id");
    assert_eq!(why[&3].0, "serial");
    assert!(why[&3].1.contains("2413"), "{:?}", why[&3]);
    assert_eq!(why[&4].0, "serial");
    assert!(why[&4].1.contains("43904"), "{:?}", why[&4]);
    assert_eq!(why[&5].0, "created_at");
    assert!(why[&5].1.contains("31/02/2026"), "{:?}", why[&5]);
    assert_eq!(why[&6].0, "sold");
    assert!(why[&6].1.contains("1,00"), "{:?}", why[&6]);
    assert_eq!(why[&7].0, "initiative_id");
    assert!(why[&7].1.contains("BCR-CO-319-14-004"), "{:?}", why[&7]);
}

#[test]
fn an_error_saved_as_a_page_is_not_a_file_of_records() {
    let c = connector();
    let body = br#"{"status":403,"data":[],"message":"Forbidden"}"#;
    let error = c
        .read_file(Feed::Issuances, "refused.json", body)
        .expect_err("refused");
    assert!(error.to_string().contains("403"), "{error}");
    // One project's error inside a saved cancellations object is kept, the rest read.
    let body = json!({
        "9": {"status": 200, "data": data_of(CANCELLATIONS, "9")},
        "12": {"status": 403, "data": []}
    })
    .to_string();
    let page = c
        .read_file(Feed::Cancellations, "c.json", body.as_bytes())
        .expect("reads");
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.unreadable.len(), 1);
    assert!(page.unreadable[0].1.reason.contains("project 12"));
}

fn data_of(name: &str, key: &str) -> Value {
    raw_json(name)[key]["data"].clone()
}
