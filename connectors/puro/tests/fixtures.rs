//! Every Puro.earth fixture file imports through `read_file` + `normalize`, and what comes out
//! agrees with totals and ranges computed straight from the files' own JSON.

use std::collections::BTreeMap;
use std::str::FromStr;

use carbonmesh_connector::testkit::{self, Imported, assert_unique_keys, credits};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_puro::{PuroConfig, PuroConnector};
use carbonmesh_model::{CreditRecord, Project, TransactionType, UnitStatus};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/puro-earth/"
);
const ISSUANCES: &str = "rb-carbon-scraper_puro-issuances.json";
const RETIREMENTS: &str = "rb-carbon-scraper_puro-retirements.json";
const PROJECTS: &str = "rb-carbon-scraper_puro-projects.json";

fn connector() -> PuroConnector {
    PuroConnector::new(PuroConfig::new("http://127.0.0.1:9"), testkit::quick_http())
}

fn fixture(name: &str) -> Vec<u8> {
    testkit::read_fixture(DIR, name)
}

fn import(name: &str, expected: Feed) -> Imported {
    testkit::import_fixture(&connector(), name, &fixture(name), expected)
}

fn json(name: &str) -> Vec<Value> {
    match serde_json::from_slice(&fixture(name)) {
        Ok(Value::Array(items)) => items,
        other => panic!("{name} is not a JSON array: {other:?}"),
    }
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

type Totals = BTreeMap<(String, i32, String), Decimal>;

fn totals_of(records: &[Record]) -> Totals {
    testkit::totals_by(credits(records), |c| {
        (
            c.registry_project_id.clone(),
            c.vintage.expect("vintage"),
            c.transaction_type.value.as_str().to_owned(),
        )
    })
}

fn number(v: &Value) -> Decimal {
    Decimal::from_str(&v.to_string()).expect("a number")
}

/// Totals per (facility, vintage, transaction type) from the raw JSON, with each
/// transaction's stated volume checked against its bundles.
fn json_totals(items: &[Value]) -> Totals {
    let mut t = Totals::new();
    for tx in items {
        let kind = tx["type"].as_str().expect("type").to_ascii_lowercase();
        let bundles = tx["bundles"].as_array().expect("bundles");
        let sum: Decimal = bundles.iter().map(|b| number(&b["volume"])).sum();
        assert_eq!(sum, number(&tx["volume"]), "{}", tx["id"]);
        for b in bundles {
            let key = (
                b["productionFacilityCode"]
                    .as_str()
                    .expect("facility")
                    .to_owned(),
                i32::try_from(b["vintage"].as_i64().expect("vintage")).expect("year"),
                kind.clone(),
            );
            *t.entry(key).or_default() += number(&b["volume"]);
        }
    }
    t
}

/// Every bundle of the JSON is one credit record keyed `<transaction id>/<bundle id>`, holding
/// the bundle's certificates as its serial and `_start`/`_end` as its integer range (the last 12
/// digits of a legacy 30-digit number, whose 18-digit prefix moves into the namespace).
fn check_every_bundle(items: &[Value], records: &[Record]) -> (usize, usize) {
    let by_key: BTreeMap<&str, &CreditRecord> = credits(records)
        .into_iter()
        .map(|c| (c.record_key.as_str(), c))
        .collect();
    let (mut current, mut legacy) = (0, 0);
    for tx in items {
        for b in tx["bundles"].as_array().expect("bundles") {
            let key = format!(
                "{}/{}",
                tx["id"].as_str().expect("id"),
                b["id"].as_str().expect("bundle id")
            );
            let c = by_key
                .get(key.as_str())
                .unwrap_or_else(|| panic!("no record {key}"));
            assert_eq!(c.serial.as_deref(), b["certificates"].as_str(), "{key}");
            assert_eq!(c.quantity, number(&b["volume"]), "{key}");
            let range = c.serial_range.as_ref().expect("range");
            let (start, end) = (
                b["_start"].as_str().expect("_start"),
                b["_end"].as_str().expect("_end"),
            );
            if start.len() == 30 {
                legacy += 1;
                assert_eq!(range.namespace, format!("puro:legacy:{}", &start[..18]));
                assert_eq!(range.start, start[18..].parse::<u64>().expect("counter"));
                assert_eq!(range.end, end[18..].parse::<u64>().expect("counter"));
            } else {
                current += 1;
                assert_eq!(
                    range.namespace,
                    format!("puro:{}", b["issuanceId"].as_str().expect("issuance"))
                );
                assert_eq!(range.start, start.parse::<u64>().expect("start"));
                assert_eq!(range.end, end.parse::<u64>().expect("end"));
            }
            assert_eq!(Decimal::from(range.quantity()), c.quantity, "{key}");
            assert_eq!(
                c.registry_project_id,
                b["productionFacilityCode"].as_str().expect("facility")
            );
        }
    }
    assert_eq!(by_key.len(), current + legacy, "one record per bundle");
    (current, legacy)
}

#[test]
fn retirements_import_whole_one_record_per_bundle() {
    let i = import(RETIREMENTS, Feed::Retirements);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    let items = json(RETIREMENTS);
    assert_eq!(i.page.records.len(), items.len());
    assert_eq!(credits(&i.records).len(), 57);
    assert_unique_keys(RETIREMENTS, &i.records);
    assert_eq!(totals_of(&i.records), json_totals(&items));
    // Both layouts of the sample are kept with their ranges.
    assert_eq!(check_every_bundle(&items, &i.records), (16, 41));

    let first = credits(&i.records)[0];
    assert_eq!(first.transaction_type.value, TransactionType::Retirement);
    assert_eq!(first.transaction_type.raw, "Retirement");
    assert_eq!(first.status.value, UnitStatus::Retired);
    assert_eq!(first.registry_project_id, "517437");
    assert_eq!(first.project_id(), "puro:517437");
    assert_eq!(first.account.as_deref(), Some("Watershed Technology Inc"));
    assert_eq!(first.beneficiary.as_deref(), Some("Figma, Inc"));
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2026-05-07")
    );
    let period = first.monitoring_period.as_ref().expect("production period");
    assert_eq!(
        period.start.map(|d| d.to_string()).as_deref(),
        Some("2025-10-01")
    );
    assert!(
        first
            .note
            .as_deref()
            .is_some_and(|n| n.contains("usage: OTHER") && n.contains("2025-01-01 to 2025-12-31"))
    );

    // A retirement drawing on six bundles yields six records sharing its transaction id.
    let six = items
        .iter()
        .find(|t| t["bundles"].as_array().is_some_and(|b| b.len() == 6))
        .expect("a six-bundle retirement");
    let id = six["id"].as_str().expect("id");
    let drawn = credits(&i.records)
        .into_iter()
        .filter(|c| c.record_key.starts_with(&format!("{id}/")))
        .count();
    assert_eq!(drawn, 6);

    // A hidden beneficiary is said so, not invented.
    let hidden = credits(&i.records)
        .into_iter()
        .find(|c| {
            c.note
                .as_deref()
                .is_some_and(|n| n.contains("hidden until 2027-02-05"))
        })
        .expect("a hidden beneficiary");
    assert_eq!(hidden.beneficiary, None);
}

#[test]
fn issuances_import_whole() {
    let i = import(ISSUANCES, Feed::Issuances);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    let items = json(ISSUANCES);
    assert_eq!(credits(&i.records).len(), 11);
    assert_unique_keys(ISSUANCES, &i.records);
    assert_eq!(totals_of(&i.records), json_totals(&items));
    assert_eq!(check_every_bundle(&items, &i.records), (7, 4));
    let first = credits(&i.records)[0];
    assert_eq!(first.transaction_type.value, TransactionType::Issuance);
    assert_eq!(first.status.value, UnitStatus::Active);
    assert_eq!(first.quantity, Decimal::from(3001));
    assert_eq!(
        first.note.as_deref(),
        Some("audit body: Energy Link Services Pty Ltd")
    );
}

#[test]
fn projects_import_whole() {
    let i = import(PROJECTS, Feed::Projects);
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    let projects = projects(&i.records);
    let items = json(PROJECTS);
    assert_eq!(projects.len(), items.len());
    for (p, item) in projects.iter().zip(&items) {
        assert_eq!(p.registry_project_id, item["code"].as_str().expect("code"));
        assert_eq!(p.country_raw.as_deref(), item["countryCode"].as_str());
        assert!(p.country.is_some(), "{}", p.registry_project_id);
    }
    let first = projects[0];
    assert_eq!(first.id(), "puro:181856");
    assert_eq!(first.methodology.as_deref(), Some("Puro C01000000"));
    assert_eq!(
        first.project_type.as_deref(),
        Some("Wooden Building Elements")
    );
    assert_eq!(first.developer.as_deref(), Some("Carbonapp"));
    assert!(
        first
            .labels
            .iter()
            .any(|l| l.kind == "gsrn" && l.value == "643002406801000503")
    );
    // `NA` is Namibia, not a missing value.
    let namibia = projects
        .iter()
        .find(|p| p.registry_project_id == "583695")
        .expect("project 583695");
    assert_eq!(namibia.country.as_deref(), Some("NA"));
    let located = projects
        .iter()
        .find(|p| p.registry_project_id == "861867")
        .expect("project 861867");
    assert_eq!(located.locations[0].latitude, Some(28.0295));
    // Every facility the retirements draw on with a project in the sample is one project id.
    let retired = import(RETIREMENTS, Feed::Retirements);
    let ids: Vec<&str> = projects
        .iter()
        .map(|p| p.registry_project_id.as_str())
        .collect();
    assert!(
        credits(&retired.records)
            .iter()
            .all(|c| ids.contains(&c.registry_project_id.as_str()))
    );
}

/// The page as the registry serves it: the records inside `self.__next_f.push` chunks.
fn html_page(items: &[Value]) -> String {
    let stream = format!("1:[\"$\",\"main\",null,{}]\n", json!({ "data": items }));
    let chars: Vec<char> = stream.chars().collect();
    let mut html =
        String::from("<!DOCTYPE html><html><body><script>self.__next_f.push([0])</script>");
    for chunk in chars.chunks(700) {
        let chunk: String = chunk.iter().collect();
        html.push_str(&format!(
            "<script>self.__next_f.push({})</script>",
            json!([1, chunk])
        ));
    }
    html.push_str("</body></html>");
    html
}

#[test]
fn the_saved_page_reads_like_the_extracted_json() {
    let c = connector();
    let items = json(RETIREMENTS);
    let page = html_page(&items);
    assert_eq!(
        c.detect_feed("puro-retirements.html", &page.as_bytes()[..4096]),
        Some(Feed::Retirements)
    );
    let from_html = c
        .read_file(Feed::Retirements, "r.html", page.as_bytes())
        .expect("page reads");
    let from_json = c
        .read_file(Feed::Retirements, "r.html", &fixture(RETIREMENTS))
        .expect("json reads");
    assert_eq!(from_html, from_json);
}

#[test]
fn normalizing_is_deterministic_across_runs() {
    let c = connector();
    let once = import(RETIREMENTS, Feed::Retirements).records;
    let page = c
        .read_file(Feed::Retirements, RETIREMENTS, &fixture(RETIREMENTS))
        .expect("reads");
    let again: Vec<Record> = page
        .records
        .iter()
        .flat_map(|r| c.normalize(r).expect("normalizes"))
        .collect();
    assert_eq!(once, again);
}

#[test]
fn fractional_volumes_stay_exact() {
    let c = connector();
    let mut tx = json(RETIREMENTS)
        .into_iter()
        .find(|t| t["bundles"].as_array().is_some_and(|b| b.len() == 2))
        .expect("a two-bundle retirement");
    // 0.1 + 0.2 is not 0.3 in binary floating point; in the registry's decimal it is.
    tx["bundles"][0]["volume"] = json!(0.1);
    tx["bundles"][1]["volume"] = json!(0.2);
    tx["volume"] = json!(0.3);
    let body = Value::Array(vec![tx]).to_string();
    let page = c
        .read_file(Feed::Retirements, "fractional.json", body.as_bytes())
        .expect("reads");
    let records = c.normalize(&page.records[0]).expect("normalizes");
    let q: Vec<Decimal> = credits(&records).iter().map(|c| c.quantity).collect();
    assert_eq!(q, vec![Decimal::new(1, 1), Decimal::new(2, 1)]);
    assert_eq!(q.iter().sum::<Decimal>(), Decimal::new(3, 1));
}

#[test]
fn bad_transactions_are_rejected_naming_field_and_value() {
    let c = connector();
    let good = json(ISSUANCES)[0].clone();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut t = good.clone();
        f(&mut t);
        t
    };
    let items = vec![
        good.clone(),
        // The serial names another facility than the bundle.
        with(&|t| t["bundles"][0]["productionFacilityCode"] = json!("181856")),
        // Not a certificate range.
        with(&|t| {
            t["bundles"][0]["certificates"] = json!("PURO_PR_CORC100+_US_517437_2026_x_1-3001")
        }),
        // The bundles do not add up to the transaction.
        with(&|t| t["volume"] = json!(3002)),
        // No bundles at all.
        with(&|t| t["bundles"] = json!([])),
        // A date that cannot exist.
        with(&|t| t["completedOn"] = json!("2026-02-30T10:00:00Z")),
        // `_start`/`_end` that contradict the certificates.
        with(&|t| t["bundles"][0]["_end"] = json!("3000")),
        json!("not an object"),
    ];
    let body = Value::Array(items).to_string();
    let page = c
        .read_file(Feed::Issuances, "bad.json", body.as_bytes())
        .expect("reads");
    assert_eq!(page.unreadable.len(), 1);
    assert_eq!(page.unreadable[0].0.line, 8);
    assert_eq!(page.unreadable[0].0.location(), "bad.json:8");
    let mut why = BTreeMap::new();
    for raw in &page.records {
        if let Err(e) = c.normalize(raw) {
            why.insert(raw.line, (e.field.unwrap_or_default(), e.reason));
        }
    }
    assert_eq!(why.len(), 6, "{why:?}");
    assert_eq!(why[&2].0, "bundles[0].certificates");
    assert!(
        why[&2].1.contains("facility 517437") && why[&2].1.contains("181856"),
        "{:?}",
        why[&2]
    );
    assert_eq!(why[&3].0, "bundles[0].certificates");
    assert!(why[&3].1.contains("_x_1-3001"), "{:?}", why[&3]);
    assert_eq!(why[&4].0, "volume");
    assert!(
        why[&4].1.contains("3002") && why[&4].1.contains("3001"),
        "{:?}",
        why[&4]
    );
    assert_eq!(why[&5].0, "bundles");
    assert_eq!(why[&6].0, "completedOn");
    assert!(why[&6].1.contains("2026-02-30"), "{:?}", why[&6]);
    assert_eq!(why[&7].0, "bundles[0]._start");
}

#[test]
fn withdrawal_labels_set_the_status() {
    let c = connector();
    let mut tx = json(ISSUANCES)[0].clone();
    tx["transactionLabels"] = json!(["FULLY_WITHDRAWN"]);
    let body = Value::Array(vec![tx]).to_string();
    let page = c
        .read_file(Feed::Issuances, "w.json", body.as_bytes())
        .expect("reads");
    let records = c.normalize(&page.records[0]).expect("normalizes");
    let credit = credits(&records)[0];
    assert_eq!(credit.status.value, UnitStatus::Withdrawn);
    assert_eq!(credit.status.raw, "FULLY_WITHDRAWN");
    assert_eq!(credit.transaction_type.value, TransactionType::Issuance);
}
