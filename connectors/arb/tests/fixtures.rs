//! The ARB issuance table imports through `read_file` + `normalize`, and what comes out agrees
//! with totals computed straight from the file's own columns.

use std::collections::BTreeMap;

use carbonmesh_connector::testkit::{self, Imported, assert_unique_keys, credits, dec};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_arb::{ArbConfig, ArbConnector};
use carbonmesh_model::{RegistryId, TransactionType};
use rust_decimal::Decimal;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/carb-arb/"
);

fn connector() -> ArbConnector {
    ArbConnector::new(ArbConfig::new("http://127.0.0.1:9"), testkit::quick_http())
}

fn fixture(name: &str) -> Vec<u8> {
    testkit::read_fixture(DIR, name)
}

fn import(name: &str, expected: Feed) -> Imported {
    testkit::import_fixture(&connector(), name, &fixture(name), expected)
}

type Totals = BTreeMap<(String, Option<i32>, &'static str), Decimal>;

fn totals_of(records: &[Record]) -> Totals {
    testkit::totals_by(credits(records), |c| {
        (
            c.registry_project_id.clone(),
            c.vintage,
            c.transaction_type.value.as_str(),
        )
    })
}

fn rows(name: &str) -> Vec<BTreeMap<String, String>> {
    testkit::csv_rows(&fixture(name), str::to_owned)
}

const TABLE: &str = "offsets-db-data_nc-arboc_issuance_sheet3.csv";

#[test]
fn the_issuance_table_imports_with_totals_matching_its_columns() {
    let i = import(TABLE, Feed::Issuances);
    assert!(i.page.unreadable.is_empty());
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_eq!(i.page.records.len(), 70);
    let projects = i
        .records
        .iter()
        .filter(|r| matches!(r, Record::Project(_)))
        .count();
    assert_eq!(projects, 70, "every row carries its project");
    assert_unique_keys(TABLE, &i.records);

    let retired = [
        "Buffer Pool Retired",
        "Retired for Intentional Reversal",
        "Retired Voluntarily",
        "Retired 1st Compliance Period (CA)",
        "Retired 2nd Compliance Period (CA)",
        "Retired 3rd Compliance Period (CA)",
        "Retired 4th Compliance Period (CA)",
        "Retired 5th Compliance Period (CA)",
        "Retired for Compliance in Quebec",
    ];
    let mut expected = Totals::new();
    let mut credit_records = 0;
    for row in rows(TABLE) {
        let project = row["CARB Project ID"].clone();
        let vintage = (!row["Vintage"].is_empty()).then(|| {
            dec(&row["Vintage"])
                .to_string()
                .parse::<i32>()
                .expect("year")
        });
        let mut put = |kind: &'static str, q: Decimal| {
            if !q.is_zero() || kind == "issuance" {
                *expected
                    .entry((project.clone(), vintage, kind))
                    .or_default() += q;
            }
        };
        if row["CARB Issuance ID"].is_empty() {
            // A reversal notice or a zero-credit period: only the reversal is a credit record.
            let reversal = dec(&row["Intentional Reversal"]).abs();
            put("cancellation", reversal);
            credit_records += usize::from(!reversal.is_zero());
            continue;
        }
        put("issuance", dec(&row["ARB Offset Credits Issued"]));
        put("buffer", dec(&row["Forest Buffer Account Contribution"]));
        put("cancellation", dec(&row["Invalidated or Canceled"]));
        let mut retired_total = Decimal::ZERO;
        for column in retired {
            retired_total += dec(&row[column]);
            credit_records += usize::from(!dec(&row[column]).is_zero());
        }
        put("retirement", retired_total);
        credit_records += 1
            + usize::from(!dec(&row["Forest Buffer Account Contribution"]).is_zero())
            + usize::from(!dec(&row["Invalidated or Canceled"]).is_zero());
    }
    assert_eq!(totals_of(&i.records), expected);
    assert_eq!(credits(&i.records).len(), credit_records);
    // The table publishes no serials.
    assert!(
        credits(&i.records)
            .iter()
            .all(|c| c.serial.is_none() && c.serial_range.is_none())
    );
}

#[test]
fn every_arb_project_points_at_its_offset_project_registry() {
    let i = import(TABLE, Feed::Issuances);
    for r in &i.records {
        let Record::Project(p) = r else { continue };
        assert_eq!(p.cross_references.len(), 1, "{}", p.registry_project_id);
        let x = &p.cross_references[0];
        assert_eq!(x.relation, "arb_offset_project");
        let expected = if x.id.starts_with("ACR") {
            RegistryId::ACR
        } else {
            RegistryId::CAR
        };
        assert_eq!(x.registry, Some(expected), "{}", x.id);
    }
    let first = credits(&i.records)[0];
    assert_eq!(first.record_key, "CAOD1007-A");
    assert_eq!(first.registry_project_id, "CAOD1007");
    assert_eq!(first.quantity, Decimal::from(79565));
    assert_eq!(first.vintage, Some(2024));
    assert_eq!(
        first.event_date.map(|d| d.to_string()).as_deref(),
        Some("2024-06-11")
    );
    assert!(
        first
            .note
            .as_deref()
            .is_some_and(|n| n.contains("OPR project ACR1007"))
    );
}

#[test]
fn opr_ids_map_to_registries() {
    use carbonmesh_connector_arb::opr_reference;
    let r = opr_reference("ACR0182");
    assert_eq!(
        (r.registry, r.id.as_str()),
        (Some(RegistryId::ACR), "ACR182")
    );
    let r = opr_reference("CAR997");
    assert_eq!(
        (r.registry, r.id.as_str()),
        (Some(RegistryId::CAR), "CAR997")
    );
    let r = opr_reference("1115");
    assert_eq!(
        (r.registry, r.id.as_str()),
        (Some(RegistryId::VERRA), "VCS1115")
    );
    let r = opr_reference("VCS 1115");
    assert_eq!(
        (r.registry, r.id.as_str()),
        (Some(RegistryId::VERRA), "VCS1115")
    );
    let r = opr_reference("GS42");
    assert_eq!((r.registry, r.id.as_str()), (None, "GS42"));
}

#[test]
fn a_reversal_notice_becomes_a_cancellation_of_the_reversed_amount() {
    let i = import(TABLE, Feed::Issuances);
    let reversal = credits(&i.records)
        .into_iter()
        .find(|c| c.record_key == "CAFR5012:RP4#intentional-reversal")
        .expect("the ACR182 reversal");
    assert_eq!(reversal.quantity, Decimal::from(27150));
    assert_eq!(
        reversal.transaction_type.value,
        TransactionType::Cancellation
    );
    assert_eq!(reversal.transaction_type.raw, "Intentional Reversal");
}

#[test]
fn a_row_with_a_bad_amount_is_rejected_naming_the_column() {
    let c = connector();
    let bytes = String::from_utf8(fixture(TABLE)).expect("utf-8");
    let bad = bytes.replacen("79565.0,,2024-06-11", "79x565,,2024-06-11", 1);
    let page = c
        .read_file(Feed::Issuances, "bad.csv", bad.as_bytes())
        .expect("reads");
    let rejection = c.normalize(&page.records[0]).expect_err("bad quantity");
    assert_eq!(
        rejection.field.as_deref(),
        Some("ARB Offset Credits Issued")
    );
    assert!(rejection.reason.contains("79x565"), "{rejection}");
}
