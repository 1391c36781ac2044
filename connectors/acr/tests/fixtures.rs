//! Every ACR fixture file imports through `read_file` + `normalize`, and what comes out agrees
//! with totals computed straight from the files' own columns.

use std::collections::BTreeMap;

use carbonmesh_connector::testkit::{
    self, Imported, Totals, assert_unique_keys, credits, dec, totals_of,
};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_acr::{AcrConfig, AcrConnector};
use carbonmesh_model::TransactionType;
use rust_decimal::Decimal;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/american-carbon-registry/"
);

fn connector() -> AcrConnector {
    AcrConnector::new(AcrConfig::new("http://127.0.0.1:9"), testkit::quick_http())
}

fn fixture(name: &str) -> Vec<u8> {
    testkit::read_fixture(DIR, name)
}

fn import(name: &str, expected: Feed) -> Imported {
    testkit::import_fixture(&connector(), name, &fixture(name), expected)
}

/// The file read with the plain `csv` crate (the fixture files are well-quoted), as maps.
fn rows(name: &str) -> Vec<BTreeMap<String, String>> {
    testkit::csv_rows(&fixture(name), |h| h.trim().to_owned())
}

/// `ACR0885` and `ACR885` are one project: the number, unpadded.
fn unpadded(id: &str) -> String {
    let n: u64 = id.trim_start_matches("ACR").parse().expect("ACR id");
    format!("ACR{n}")
}

fn add(t: &mut Totals, project: &str, vintage: &str, kind: &'static str, q: Decimal) {
    if q.is_zero() && kind != "issuance" {
        return;
    }
    let vintage: i32 = vintage.parse().expect("vintage");
    *t.entry((unpadded(project), vintage, kind)).or_default() += q;
}

fn json_rows(name: &str, key: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("JSON");
    v["datasets"][key]["rows"].as_array().expect("rows").clone()
}

fn check_serials(records: &[Record]) {
    for c in credits(records) {
        if c.serial.is_none() {
            continue;
        }
        let range = c
            .serial_range
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no range", c.record_key));
        assert_eq!(
            Decimal::from(range.end - range.start + 1),
            c.quantity,
            "{}",
            c.record_key
        );
        assert!(
            range.namespace.starts_with("acr:ACR-"),
            "{}",
            range.namespace
        );
        // The serial's project number is the record's project.
        let number = c
            .serial
            .as_deref()
            .and_then(|s| s.split('-').nth(2))
            .expect("project");
        assert_eq!(format!("ACR{number}"), c.registry_project_id);
    }
}

#[test]
fn legacy_issuances_yield_issuance_and_buffer_records() {
    let name = "offsets-db-data_issuances.csv";
    let i = import(name, Feed::Issuances);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.page.records.len(), 70);
    // 70 issuances, 9 issued-to-buffer and 9 transferred-to-buffer records.
    assert_eq!(i.records.len(), 88);
    assert_unique_keys(name, &i.records);
    let mut expected = Totals::new();
    for row in rows(name) {
        let (p, v) = (&row["Project ID"], &row["Vintage"]);
        add(
            &mut expected,
            p,
            v,
            "issuance",
            dec(&row["Total Credits Issued"]),
        );
        let buffer = dec(&row["Credits Issued to Buffer Pool"])
            + dec(&row["Credits Transferred to Buffer Pool"]);
        add(&mut expected, p, v, "buffer", buffer);
    }
    assert_eq!(totals_of(&i.records), expected);
    let first = credits(&i.records)[0];
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2026-03-24")
    );
    let period = first.monitoring_period.as_ref().expect("reporting period");
    assert!(period.start.is_some() && period.end.is_some());
}

#[test]
fn legacy_retirements_keep_every_serial_block() {
    let name = "offsets-db-data_retirements.csv";
    let i = import(name, Feed::Retirements);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.records.len(), 70);
    assert_unique_keys(name, &i.records);
    check_serials(&i.records);
    let mut expected = Totals::new();
    for row in rows(name) {
        add(
            &mut expected,
            &row["Project ID"],
            &row["Vintage"],
            "retirement",
            dec(&row["Quantity of Credits"]),
        );
    }
    assert_eq!(totals_of(&i.records), expected);
    for c in credits(&i.records) {
        assert!(c.beneficiary.is_some() && c.reason.is_some() && c.event_date.is_some());
    }
}

#[test]
fn legacy_cancellations_are_mostly_conversions() {
    let name = "offsets-db-data_cancellations.csv";
    let i = import(name, Feed::Cancellations);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.records.len(), 35);
    assert_unique_keys(name, &i.records);
    check_serials(&i.records);
    let mut expected = Totals::new();
    for row in rows(name) {
        // Read through the double-spaced header as published.
        assert!(!row["Status Effective  (GMT)"].is_empty());
        let kind = if row["Cancellation Type"].starts_with("Convert to") {
            "conversion"
        } else {
            "cancellation"
        };
        add(
            &mut expected,
            &row["Project ID"],
            &row["Vintage"],
            kind,
            dec(&row["Quantity of Credits"]),
        );
    }
    assert_eq!(totals_of(&i.records), expected);
    for c in credits(&i.records) {
        assert!(c.event_date.is_some(), "{}", c.record_key);
        if c.transaction_type.value == TransactionType::Conversion {
            assert!(c.transaction_type.raw.starts_with("Convert to"));
        }
    }
}

#[test]
fn legacy_projects_link_to_their_compliance_ids() {
    let name = "offsets-db-data_projects.csv";
    let i = import(name, Feed::Projects);
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.records.len(), 35);
    let p = i
        .records
        .iter()
        .find_map(|r| match r {
            Record::Project(p) if p.registry_project_id == "ACR1007" => Some(p),
            _ => None,
        })
        .expect("ACR1007");
    assert_eq!(p.cross_references[0].id, "CAOD1007");
    assert_eq!(
        p.cross_references[0].registry,
        Some(carbonmesh_model::RegistryId::ARB)
    );
    assert!(p.status.is_some());
    assert!(!p.crediting_periods.is_empty());
}

#[test]
fn greentrace_holdings_import_for_every_status() {
    for (name, feed, key, count) in [
        (
            "rb-carbon-scraper_acr-issuances.json",
            Feed::Issuances,
            "issuedCredits",
            31,
        ),
        (
            "rb-carbon-scraper_acr-retirements.json",
            Feed::Retirements,
            "retiredCredits",
            21,
        ),
        (
            "rb-carbon-scraper_acr-cancellations.json",
            Feed::Cancellations,
            "cancelledCredits",
            7,
        ),
    ] {
        let i = import(name, feed);
        assert!(i.rejected.is_empty(), "{name}: {:?}", i.rejected);
        assert_eq!(i.records.len(), count, "{name}");
        assert_unique_keys(name, &i.records);
        check_serials(&i.records);
        let mut expected = Totals::new();
        for row in json_rows(name, key) {
            let kind = match feed {
                Feed::Issuances => "issuance",
                Feed::Retirements => "retirement",
                _ if row["cancellationReasonDisplayName"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("Convert to")) =>
                {
                    "conversion"
                }
                _ => "cancellation",
            };
            let q = Decimal::from(row["holdingQuantity"].as_u64().expect("quantity"));
            add(
                &mut expected,
                row["projectReferenceId"].as_str().expect("id"),
                row["vintage"].as_str().expect("vintage"),
                kind,
                q,
            );
        }
        assert_eq!(totals_of(&i.records), expected, "{name}");
    }
    // The reversal compensation paid from the buffer.
    let i = import(
        "rb-carbon-scraper_acr-cancellations.json",
        Feed::Cancellations,
    );
    let reversal = credits(&i.records)[0];
    assert_eq!(reversal.registry_project_id, "ACR628");
    assert_eq!(
        reversal.transaction_type.value,
        TransactionType::Cancellation
    );
    assert_eq!(
        reversal.transaction_type.raw,
        "Compensation for Intentional Reversal"
    );
    assert_eq!(
        reversal.note.as_deref(),
        Some("paid from the buffer pool (Risk Mitigation Registry Account (Canceled Holdings))")
    );
}

#[test]
fn greentrace_projects_use_the_unpadded_id() {
    let name = "rb-carbon-scraper_acr-projects.json";
    let i = import(name, Feed::Projects);
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.records.len(), 12);
    let Record::Project(p) = &i.records[0] else {
        panic!("project")
    };
    assert_eq!(p.registry_project_id, "ACR885");
    assert_eq!(p.id(), "acr:ACR885");
    assert_eq!(p.status.as_ref().map(|s| s.raw.as_str()), Some("ACTIVE"));
    assert_eq!(
        p.registry_url.as_deref(),
        Some("https://greentrace.ice.com/acr/projects/registry/ACR_REGISTRY/project/P2323C9VXD25")
    );
}

/// The same retirement read from the legacy CSV and from GreenTrace has one key.
#[test]
fn keys_agree_across_sources() {
    let c = connector();
    let csv = concat!(
        "fiid,Credit Serial Numbers,Vintage,Quantity of Credits,Account Holder,Status Effective (GMT),Retired on Behalf of,Retirement Reason,Purpose of Retirement,Project ID,\n",
        "885,ACR-US-885-2024-3072-119446 to 130668,2024,11223,FM,7/20/2026 1:00:00 PM,FM,Environmental Benefit,x,ACR885,\n",
    );
    let page = c
        .read_file(Feed::Retirements, "r.csv", csv.as_bytes())
        .expect("csv");
    let from_csv = c.normalize(&page.records[0]).expect("ok");
    let json = fixture("rb-carbon-scraper_acr-retirements.json");
    let page = c
        .read_file(Feed::Retirements, "r.json", &json)
        .expect("json");
    let from_json = c.normalize(&page.records[0]).expect("ok");
    let key = |r: &[Record]| match &r[0] {
        Record::Credit(c) => c.record_key.clone(),
        Record::Project(_) => String::new(),
    };
    assert_eq!(key(&from_csv), key(&from_json));
    assert_eq!(
        key(&from_csv),
        "retired:ACR-US-885-2024-3072-119446 to 130668"
    );
}

/// Every saved GreenTrace response is told from its first bytes however it was written
/// (indented as captured, or on one line), and a saved response of another shape is refused
/// with the reason instead of being read as an empty or CSV file.
#[test]
fn saved_greentrace_responses_are_told_apart_and_other_shapes_refused() {
    let c = connector();
    for (name, feed) in [
        ("rb-carbon-scraper_acr-projects.json", Feed::Projects),
        ("rb-carbon-scraper_acr-issuances.json", Feed::Issuances),
        ("rb-carbon-scraper_acr-retirements.json", Feed::Retirements),
        (
            "rb-carbon-scraper_acr-cancellations.json",
            Feed::Cancellations,
        ),
    ] {
        let value: serde_json::Value = serde_json::from_slice(&fixture(name)).expect("JSON");
        let compact = serde_json::to_vec(&value).expect("JSON");
        // `import` tells the kind from the first 64 KiB.
        let head = &compact[..compact.len().min(64 * 1024)];
        assert_eq!(c.detect_feed(name, head), Some(feed), "{name}");
        let page = c.read_file(feed, name, &compact).expect("reads");
        assert_eq!(page.records.len(), import(name, feed).page.records.len());
    }

    // A project-summaries response read as retirements names what it holds.
    let projects = fixture("rb-carbon-scraper_acr-projects.json");
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
    // A Gold Standard credits page is JSON, but no GreenTrace response.
    let other = br#"[{"id": "134202", "serial_number": "GS1-1-IN-GS817-4-2012-1303-93-4644"}]"#;
    assert_eq!(c.detect_feed("credits.json", other), None);
    let error = c
        .read_file(Feed::Retirements, "credits.json", other)
        .expect_err("not GreenTrace");
    assert!(
        error
            .to_string()
            .starts_with("credits.json: not a GreenTrace response: no `datasets` object"),
        "{error}"
    );
}
