//! The CADT v1 model mapped onto carbonmesh's: units become credit records whose serial
//! ranges sit in the namespace of the registry that issued them, projects keep CADT's origin
//! and current-registry ids as cross-references, labels and locations carry over.

mod common;

use std::collections::BTreeMap;

use carbonmesh_connector::testkit::{self, assert_unique_keys, credits};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_cadt::{CadtConfig, CadtConnector};
use carbonmesh_model::{Project, ProjectStatus, RegistryId, TransactionType, UnitStatus};
use rust_decimal::Decimal;
use serde_json::Value;

use common::*;

fn connector() -> CadtConnector {
    CadtConnector::new(CadtConfig::new("http://127.0.0.1:9"), testkit::quick_http())
}

fn import(name: &str, body: &Value, feed: Feed) -> testkit::Imported {
    testkit::import_fixture(&connector(), name, body.to_string().as_bytes(), feed)
}

fn project_records(records: &[Record]) -> Vec<&Project> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Project(p) => Some(p),
            Record::Credit(_) => None,
        })
        .collect()
}

#[test]
fn units_become_credit_records_in_their_issuers_namespace() {
    let i = import("units.json", &paginated(1, 1, units()), Feed::Transactions);
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    assert_unique_keys("units.json", &i.records);
    let by_key: BTreeMap<_, _> = credits(&i.records)
        .into_iter()
        .map(|c| (c.record_key.as_str(), c))
        .collect();
    assert_eq!(by_key.len(), 6);
    let range = |k: &str| {
        let r = by_key[k].serial_range.as_ref().expect("range");
        (r.namespace.clone(), r.start, r.end)
    };
    // A Verra serial republished by the node stays in Verra's single counter...
    assert_eq!(range("unit:u-1"), ("verra".into(), 941467007, 941467431));
    // ...and so do bare numbers whose registry link is Verra's.
    assert_eq!(range("unit:u-2"), ("verra".into(), 941467432, 941468431));
    assert_eq!(
        range("unit:u-3"),
        (
            "gold-standard:GS1-1-UG-GS11236-16-2024-30307".into(),
            1,
            19149
        )
    );
    assert_eq!(range("unit:u-4"), ("cdm:RW-5".into(), 1463953, 1467609));
    // The organisation's own numbering is only unique for it and its prefix.
    assert_eq!(range("unit:u-5"), (format!("cadt:{ORG}:GOLA-"), 1, 500));
    assert_eq!(range("unit:u-6"), (format!("cadt:{ORG}:GOLA-"), 501, 750));
    for c in by_key.values() {
        let r = c.serial_range.as_ref().expect("range");
        assert_eq!(Decimal::from(r.quantity()), c.quantity, "{}", c.record_key);
        assert_eq!(c.registry, RegistryId::CADT);
    }

    let u1 = by_key["unit:u-1"];
    assert_eq!(u1.registry_project_id, VERRA_PROJECT);
    assert_eq!(u1.project_id(), format!("cadt:{VERRA_PROJECT}"));
    assert_eq!(u1.vintage, Some(2020));
    assert_eq!(
        u1.monitoring_period.as_ref().map(|p| (p.start, p.end)),
        Some(("2020-01-01".parse().ok(), "2020-12-31".parse().ok()))
    );
    assert_eq!(
        (
            u1.transaction_type.value,
            u1.status.value,
            u1.status.raw.as_str()
        ),
        (TransactionType::Issuance, UnitStatus::Active, "Held")
    );
    let kinds: Vec<_> = ["unit:u-2", "unit:u-3", "unit:u-4", "unit:u-6"]
        .iter()
        .map(|k| (by_key[k].transaction_type.value, by_key[k].status.value))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (TransactionType::Buffer, UnitStatus::Buffer),
            (TransactionType::Conversion, UnitStatus::Converted),
            (TransactionType::Cancellation, UnitStatus::Cancelled),
            (TransactionType::Retirement, UnitStatus::Retired),
        ]
    );
    let retired = by_key["unit:u-6"];
    assert_eq!(retired.beneficiary.as_deref(), Some("Acme Airlines"));
    assert!(
        retired
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("xch1"))
    );
    let note = retired.note.as_deref().unwrap_or_default();
    assert!(note.contains("Tokenized on Chia (a628c1"), "{note}");
    assert!(note.contains("CCB Gold (Certification)"), "{note}");
    assert!(
        note.contains("corresponding adjustment Unknown / Not Started"),
        "{note}"
    );
    assert_eq!(by_key["unit:u-1"].beneficiary, None);
}

#[test]
fn totals_per_project_vintage_and_type_match_the_units() {
    let data = units();
    let i = import(
        "units.json",
        &Value::Array(data.clone()),
        Feed::Transactions,
    );
    let mut expected: BTreeMap<(String, i64, &str), i64> = BTreeMap::new();
    for u in &data {
        let kind = match u["unitStatus"].as_str().expect("status") {
            "Held" => "issuance",
            "Buffer" => "buffer",
            "Exported" => "conversion",
            "Cancelled" => "cancellation",
            "Retired" => "retirement",
            other => panic!("{other}"),
        };
        *expected
            .entry((
                u["issuance"]["warehouseProjectId"]
                    .as_str()
                    .expect("project")
                    .to_owned(),
                u["vintageYear"].as_i64().expect("vintage"),
                kind,
            ))
            .or_default() += u["unitCount"].as_i64().expect("count");
    }
    let mut got: BTreeMap<(String, i64, &str), i64> = BTreeMap::new();
    for c in credits(&i.records) {
        *got.entry((
            c.registry_project_id.clone(),
            i64::from(c.vintage.expect("vintage")),
            c.transaction_type.value.as_str(),
        ))
        .or_default() += i64::try_from(c.quantity).expect("whole");
    }
    assert_eq!(got, expected);
}

#[test]
fn projects_keep_origin_and_current_ids_labels_and_locations() {
    let i = import(
        "projects.json",
        &paginated(1, 1, projects()),
        Feed::Projects,
    );
    assert!(i.rejected.is_empty(), "{:?}", i.rejected);
    let ps = project_records(&i.records);
    assert_eq!(ps.len(), 3);

    let gola = ps[0];
    assert_eq!(gola.id(), format!("cadt:{VERRA_PROJECT}"));
    assert_eq!(gola.name, "Gola REDD+ Project");
    assert_eq!(gola.country.as_deref(), Some("SL"));
    assert_eq!(gola.country_raw.as_deref(), Some("Sierra Leone"));
    assert_eq!(gola.methodology.as_deref(), Some("VM0007"));
    assert_eq!(
        gola.status.as_ref().map(|s| (s.value, s.raw.as_str())),
        Some((ProjectStatus::Registered, "Registered"))
    );
    let refs: Vec<_> = gola
        .cross_references
        .iter()
        .map(|x| (x.registry, x.id.as_str(), x.relation.as_str()))
        .collect();
    assert_eq!(
        refs,
        vec![
            (Some(RegistryId::VERRA), "VCS1340", "origin_project"),
            (
                Some(RegistryId::VERRA),
                "VCS1340",
                "current_registry_project"
            ),
            (Some(RegistryId::GOLD_STANDARD), "GS2922", "same_project"),
        ]
    );
    let loc = &gola.locations[0];
    assert_eq!(
        (loc.region.as_deref(), loc.latitude, loc.longitude),
        (Some("Eastern Province"), Some(7.6), Some(-10.9))
    );
    let labels: Vec<_> = gola
        .labels
        .iter()
        .map(|l| (l.kind.as_str(), l.value.as_str()))
        .collect();
    assert!(
        labels.contains(&("certification", "CCB Gold")),
        "{labels:?}"
    );
    assert!(labels.contains(&("co_benefit", "SDG 15 - Life on land")));
    assert!(labels.contains(&("rating", "BeZero: BBB")));
    assert!(labels.contains(&("tag", "Biodiversity")));
    // The estimation's crediting period and the label's, oldest first.
    assert_eq!(gola.crediting_periods.len(), 2);
    assert_eq!(gola.crediting_periods[0].start, "2012-08-01".parse().ok());
    assert_eq!(
        gola.registry_url.as_deref(),
        Some("https://registry.verra.org/app/projectDetail/VCS/1340")
    );

    // A project that moved from the CDM to the Article 6.4 mechanism keeps both ids.
    let poa = ps[2];
    assert_eq!(
        poa.status.as_ref().map(|s| s.value),
        Some(ProjectStatus::Transitioned)
    );
    let refs: Vec<_> = poa
        .cross_references
        .iter()
        .map(|x| (x.registry, x.id.as_str(), x.relation.as_str()))
        .collect();
    assert_eq!(
        refs,
        vec![
            (Some(RegistryId::CDM), "7014", "origin_project"),
            (None, "A6.4-0042", "current_registry_project"),
        ]
    );
    assert_eq!(poa.country.as_deref(), Some("RW"));
    assert!(
        poa.labels
            .iter()
            .any(|l| l.kind == "letter_of_authorization" && l.value == "Rwanda LoA 2024/17")
    );
    let gs = ps[1];
    assert_eq!(gs.cross_references[0].id, "GS11236");
    // A geographic identifier that is not a coordinate pair leaves the coordinates empty.
    assert_eq!(gs.locations[0].latitude, None);
}

#[test]
fn units_that_cannot_be_placed_are_rejected_with_their_reason() {
    let c = connector();
    let body = paginated(1, 1, bad_units()).to_string();
    let page = c
        .read_file(Feed::Transactions, "bad-units.json", body.as_bytes())
        .expect("reads");
    let why: BTreeMap<u64, _> = page
        .records
        .iter()
        .filter_map(|r| {
            c.normalize(r)
                .err()
                .map(|e| (r.line, (r.source.clone(), e)))
        })
        .collect();
    assert_eq!(why.len(), 3);
    assert!(why.values().all(|(source, _)| source == "bad-units.json"));
    assert_eq!(
        why[&1].1.field.as_deref(),
        Some("issuance.warehouseProjectId")
    );
    assert_eq!(why[&2].1.field.as_deref(), Some("unitBlockStart"));
    assert!(why[&2].1.reason.contains("A345"), "{}", why[&2].1);
    assert_eq!(why[&3].1.field.as_deref(), Some("unitCount"));
    assert!(why[&3].1.reason.contains("nine"), "{}", why[&3].1);
    assert_eq!(c.registry(), RegistryId::CADT);
}

#[test]
fn normalizing_is_deterministic() {
    let a = import("units.json", &paginated(1, 1, units()), Feed::Transactions);
    let b = import("units.json", &paginated(1, 1, units()), Feed::Transactions);
    assert_eq!(a.records, b.records);
    let p = import("projects.json", &Value::Array(projects()), Feed::Projects);
    let q = import("projects.json", &Value::Array(projects()), Feed::Projects);
    assert_eq!(p.records, q.records);
}

/// Pages saved from a node as the connector fetches them (`{page, pageCount, data}` from
/// `/v1/projects` and `/v1/units`, or the bare array a node answers without `page`), written
/// with the v1 members, import without `--kind` through a connector that names no node; a
/// saved response of another shape is refused with the reason.
#[test]
fn saved_node_pages_import_without_a_kind_and_without_a_node() {
    let c = CadtConnector::new(CadtConfig::files_only(), testkit::quick_http());
    let read = |name: &str, body: &Value, feed: Feed| {
        let bytes = serde_json::to_vec_pretty(body).expect("JSON");
        // `import` tells the kind from the first 64 KiB.
        assert_eq!(
            c.detect_feed(name, &bytes[..bytes.len().min(64 * 1024)]),
            Some(feed),
            "{name}"
        );
        let i = testkit::import_fixture(&c, name, &bytes, feed);
        assert!(
            i.page.unreadable.is_empty() && i.rejected.is_empty(),
            "{name}"
        );
        i.records
    };
    // A file saved by an editor that writes a byte-order mark reads the same.
    let with_mark = [
        b"\xEF\xBB\xBF".as_slice(),
        &serde_json::to_vec(&Value::Array(units())).expect("JSON"),
    ]
    .concat();
    let marked = testkit::import_fixture(&c, "units.json", &with_mark, Feed::Transactions);
    assert!(marked.page.unreadable.is_empty() && marked.rejected.is_empty());
    assert_eq!(credits(&marked.records).len(), 6);
    for body in [paginated(2, 2, units()), Value::Array(units())] {
        let records = read("units.json", &body, Feed::Transactions);
        let got: Vec<_> = credits(&records)
            .into_iter()
            .map(|c| {
                let r = c.serial_range.as_ref().expect("range");
                (
                    c.record_key.as_str(),
                    c.registry_project_id.as_str(),
                    i64::try_from(c.quantity).expect("whole"),
                    (r.namespace.clone(), r.start, r.end),
                )
            })
            .collect();
        assert_eq!(got.len(), 6);
        assert_eq!(
            got[0],
            (
                "unit:u-1",
                VERRA_PROJECT,
                425,
                ("verra".to_owned(), 941467007, 941467431)
            )
        );
        assert_eq!(
            got[2],
            (
                "unit:u-3",
                GS_PROJECT,
                19149,
                (
                    "gold-standard:GS1-1-UG-GS11236-16-2024-30307".to_owned(),
                    1,
                    19149
                )
            )
        );
    }
    let records = read(
        "projects.json",
        &paginated(1, 1, projects()),
        Feed::Projects,
    );
    let ids: Vec<_> = project_records(&records)
        .iter()
        .map(|p| p.registry_project_id.as_str())
        .collect();
    assert_eq!(ids, [VERRA_PROJECT, GS_PROJECT, CDM_PROJECT]);

    // A GreenTrace response names `projectName` too, but is no CAD Trust page.
    let other = serde_json::to_vec(&serde_json::json!({"datasets": {"projects": {
        "rows": [{"projectId": "ACR0885", "projectName": "Razorback IFM Project"}],
        "totalCount": 1}}}))
    .expect("JSON");
    let feed = c
        .detect_feed("projects.json", &other)
        .unwrap_or(Feed::Projects);
    let error = c
        .read_file(feed, "projects.json", &other)
        .expect_err("not a CAD Trust page");
    assert!(
        error.to_string().starts_with(
            "projects.json: not a saved CAD Trust response: a page of /v1/projects or /v1/units \
             is `{page, pageCount, data}`"
        ) && error.to_string().contains("the members `datasets`"),
        "{error}"
    );
    // A node's refusal saved in place of a page says so.
    let refusal = br#"{"message": "API key not found"}"#;
    let error = c
        .read_file(Feed::Transactions, "units.json", refusal)
        .expect_err("refusal");
    assert!(
        error
            .to_string()
            .contains("the node answered with a message: \"API key not found\""),
        "{error}"
    );
    // A Gold Standard page is neither list.
    let gs = br#"[{"id": "134202", "number_of_credits": 4552, "serial_number": "GS1-1-IN-GS817-4-2012-1303-93-4644"}]"#;
    assert_eq!(c.detect_feed("credits.json", gs), None);
}
