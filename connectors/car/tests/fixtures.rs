//! Every CAR fixture file imports through `read_file` + `normalize`, and what comes out agrees
//! with totals computed straight from the files' own columns.

use std::collections::{BTreeMap, HashSet};

use carbonmesh_connector::testkit::{
    self, Imported, Totals, assert_unique_keys, credits, dec, totals_of,
};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_car::{CarConfig, CarConnector};
use carbonmesh_model::TransactionType;
use rust_decimal::Decimal;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/climate-action-reserve/"
);

fn connector() -> CarConnector {
    CarConnector::new(CarConfig::new("http://127.0.0.1:9"), testkit::quick_http())
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

fn add(t: &mut Totals, row: &BTreeMap<String, String>, kind: &'static str, q: Decimal) {
    if q.is_zero() && kind != "issuance" {
        return;
    }
    let vintage: i32 = row["Vintage"].parse().expect("vintage");
    *t.entry((row["Project ID"].clone(), vintage, kind))
        .or_default() += q;
}

#[test]
fn issuances_import_with_buffer_and_conversion_records() {
    let name = "offsets-db-data_issuances.csv";
    let i = import(name, Feed::Issuances);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.page.records.len(), 70);
    // 70 issuances, 24 reserve-buffer and 4 compliance-buffer contributions.
    assert_eq!(i.records.len(), 98);
    assert_unique_keys(name, &i.records);

    let mut expected = Totals::new();
    for row in rows(name) {
        add(
            &mut expected,
            &row,
            "issuance",
            dec(&row["Total Offset Credits Issued"]),
        );
        let buffer = dec(&row["Offset Credits Currently in Reserve Buffer Pool"])
            + dec(&row["Offset Credits Intended for Compliance Buffer Pool"]);
        add(&mut expected, &row, "buffer", buffer);
        add(
            &mut expected,
            &row,
            "conversion",
            dec(&row["Offset Credits Converted to VCUs"]),
        );
    }
    assert_eq!(totals_of(&i.records), expected);

    // Rows of one project, vintage and day with different quantities stay apart.
    let laguna: Vec<_> = credits(&i.records)
        .into_iter()
        .filter(|c| {
            c.registry_project_id == "CAR1568"
                && c.transaction_type.value == TransactionType::Issuance
        })
        .collect();
    assert_eq!(laguna.len(), 2);
    // Canceled for Compliance is noted, not counted (the cancellation export has the serials).
    let eagle = credits(&i.records)
        .into_iter()
        .find(|c| c.registry_project_id == "CAR2056")
        .expect("CAR2056");
    assert_eq!(
        eagle.note.as_deref(),
        Some("Canceled for Compliance: 260294")
    );
}

fn check_serials(records: &[Record], mismatches: &[&str]) {
    for c in credits(records) {
        let range = c
            .serial_range
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no range", c.record_key));
        let count = Decimal::from(range.end - range.start + 1);
        if mismatches.contains(&c.record_key.as_str()) {
            assert_ne!(count, c.quantity);
        } else {
            assert_eq!(count, c.quantity, "{}", c.record_key);
        }
        assert!(
            range.namespace.starts_with("car:CAR-"),
            "{}",
            range.namespace
        );
    }
}

#[test]
fn retirements_keep_every_serial_block() {
    let name = "offsets-db-data_retirements.csv";
    let i = import(name, Feed::Retirements);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.records.len(), 70);
    assert_unique_keys(name, &i.records);
    check_serials(&i.records, &[]);
    let mut expected = Totals::new();
    for row in rows(name) {
        add(
            &mut expected,
            &row,
            "retirement",
            dec(&row["Quantity of Offset Credits"]),
        );
    }
    assert_eq!(totals_of(&i.records), expected);
    let first = credits(&i.records)[0];
    assert_eq!(
        first.serial.as_deref(),
        Some("CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000")
    );
    assert_eq!(
        first.account.as_deref(),
        Some("ClimeCo Corp MCK NAP2, LLC.")
    );
    assert_eq!(first.reason.as_deref(), Some("On Behalf of Third Party"));
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2025-10-27")
    );
}

#[test]
fn cancellations_to_arb_and_wa_eco_are_conversions() {
    let name = "offsets-db-data_cancellations.csv";
    let i = import(name, Feed::Cancellations);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.records.len(), 35);
    assert_unique_keys(name, &i.records);
    check_serials(&i.records, &[]);
    let mut expected = Totals::new();
    for row in rows(name) {
        let kind = match row["Cancellation Reason"].as_str() {
            "ARB" | "WA ECO" => "conversion",
            _ => "cancellation",
        };
        add(
            &mut expected,
            &row,
            kind,
            dec(&row["Quantity of Offset Credits"]),
        );
    }
    assert_eq!(totals_of(&i.records), expected);
    for c in credits(&i.records) {
        assert_eq!(c.transaction_type.value, TransactionType::Conversion);
        assert!(["ARB", "WA ECO"].contains(&c.transaction_type.raw.as_str()));
        assert!(c.record_key.starts_with("cancelled:CAR-ROC-"));
    }
}

#[test]
fn both_project_export_shapes_import_with_compliance_cross_references() {
    for (name, count) in [
        ("offsets-db-data_projects.csv", 35),
        ("rb-carbon-scraper_car-projects.csv", 60),
    ] {
        let i = import(name, Feed::Projects);
        assert!(i.page.unreadable.is_empty(), "{name}");
        assert!(i.rejected.is_empty(), "{name}: {:?}", i.rejected);
        assert_eq!(i.records.len(), count, "{name}");
        let mut ids = HashSet::new();
        for r in &i.records {
            let Record::Project(p) = r else {
                panic!("{name}: a project export yields projects")
            };
            assert!(ids.insert(p.registry_project_id.clone()), "{name}");
            assert!(p.status.is_some());
        }
        let fire = i
            .records
            .iter()
            .find_map(|r| match r {
                Record::Project(p) if p.registry_project_id == "CAR1957" => Some(p),
                _ => None,
            })
            .expect("CAR1957");
        assert_eq!(fire.cross_references.len(), 1, "{name}");
        assert_eq!(fire.cross_references[0].id, "CAFR6957");
        assert_eq!(
            fire.cross_references[0].registry,
            Some(carbonmesh_model::RegistryId::ARB)
        );
        assert_eq!(fire.country.as_deref(), Some("US"));
    }
}

/// Modelled on the real broken rows: CAR quotes every field but does not double an embedded
/// quote, and ends every row with a comma.
#[test]
fn broken_quoting_and_trailing_commas_are_recovered() {
    let csv = concat!(
        "\"Vintage\",\"Offset Credit Serial Numbers\",\"Quantity of Offset Credits\",\"Status Effective\",\"Project ID\",\"Project Name\",\"Account Holder\",\"Retirement Reason\",\"Retirement Reason Details\",\n",
        "\"2025\",\"CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000\",\"5000\",\"10/27/2025\",\"CAR1335\",\"Coffeyville NAP2\",\"ClimeCo LLC\",\"On Behalf of Third Party\",\"On behalf of \"We Are Neutral, Inc.\"\",\n",
        "\"2021\",\"CAR-1-MX-1428-42-993-YC-2021-10043-1 to 1264\",\"1264\",\"01/21/2026\",\"CAR1428\",\"Ejido\",\"INTEGRADORA AC\",\"Environmental Benefit\",\"\"Retirement of Offsets, from CARBIOIN project\"\",\n",
        "\"2025\",\"CAR-1-US-1335-31-983-KS-2025-9659-43177 to 43276\",\"100\",\"02/12/2026\",\"CAR1335\",\"Coffeyville NAP2\",\"ACT Commodities BV\",\"On Behalf of Third Party\",\"For BFS Europe\",\n",
        "\"2025\",\"CAR-1-US-1335-31-983-KS-2025-9659-43277 to 43376\",\"100\",\"13/45/2026\",\"CAR1335\",\"Coffeyville NAP2\",\"ACT\",\"On Behalf of Third Party\",\"x\",\"y\",\"z\",\n",
        "\"2025\",\"CAR-1-US-1335-31-983-KS-2025-9659-43377 to 43476\",\"100\",\"02/12/2026\",\"CAR1335\",\"Coffeyville NAP2\",\"ACT\",\"On Behalf of Third Party\",\"last\",\n",
    );
    let c = connector();
    let page = c
        .read_file(Feed::Retirements, "broken.csv", csv.as_bytes())
        .expect("the file reads");
    // Rows 2, 3 recovered; row 5 has two extra non-empty fields and cannot be fitted.
    assert_eq!(page.records.len(), 4);
    assert_eq!(page.unreadable.len(), 1);
    let (bad, why) = &page.unreadable[0];
    assert_eq!(bad.line, 5);
    assert!(
        why.reason.contains("12 fields where the header has 10"),
        "{why}"
    );
    let out: Vec<_> = page
        .records
        .iter()
        .map(|r| c.normalize(r).expect("normalizes"))
        .collect();
    let Record::Credit(neutral) = &out[0][0] else {
        panic!("credit")
    };
    assert_eq!(
        neutral.note.as_deref(),
        Some("On behalf of \"We Are Neutral, Inc.\"")
    );
    assert_eq!(neutral.quantity, Decimal::from(5000));
    let Record::Credit(carbioin) = &out[1][0] else {
        panic!("credit")
    };
    assert_eq!(
        carbioin.note.as_deref(),
        Some("\"Retirement of Offsets, from CARBIOIN project\"")
    );
    assert_eq!(page.records[3].line, 6);

    // A row that fits the header but holds an impossible date is rejected, naming the field.
    let bad_date = csv.replace("\"x\",\"y\",\"z\",", "\"x\",");
    let page = c
        .read_file(Feed::Retirements, "broken.csv", bad_date.as_bytes())
        .expect("the file reads");
    assert_eq!(page.records.len(), 5);
    let rejection = c.normalize(&page.records[3]).expect_err("13/45/2026");
    assert_eq!(rejection.field.as_deref(), Some("Status Effective"));
    assert!(rejection.reason.contains("13/45/2026"), "{rejection}");
}
