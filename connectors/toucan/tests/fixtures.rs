//! Toucan's records through `read_file` + `normalize`: the real TCO2 token the Toucan SDK
//! prints, and subgraph responses of batches and retirements in the shape Toucan's subgraph
//! returns (the entity and field names of its schema), built around real Verra serials read
//! from the Verra sample.

use carbonmesh_connector::testkit::{self, Imported, assert_unique_keys, credits};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_toucan::{REGISTRY, ToucanConfig, ToucanConnector};
use carbonmesh_connector_verra::{VerraConfig, VerraConnector};
use carbonmesh_model::{CreditRecord, RegistryId, TransactionType, UnitStatus};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/"
);
const TOKEN: &str = "toucan-sdk_README_tco2-token-example.json";
const VERRA_BLOCKS: &str = "offsets-db-data_transactions.csv";

fn connector() -> ToucanConnector {
    let config = ToucanConfig {
        url: Some("http://127.0.0.1:9".into()),
        ..ToucanConfig::default()
    };
    ToucanConnector::new(config, testkit::quick_http())
}

fn import(name: &str, bytes: &[u8], expected: Feed) -> Imported {
    testkit::import_fixture(&connector(), name, bytes, expected)
}

/// The credit records of Verra's real VCU export, as the Verra connector reads them.
fn verra_blocks() -> Vec<CreditRecord> {
    let verra = VerraConnector::new(VerraConfig::default(), testkit::quick_http());
    let bytes = testkit::read_fixture(&format!("{SHARED}verra/"), VERRA_BLOCKS);
    let imported = testkit::import_fixture(&verra, VERRA_BLOCKS, &bytes, Feed::Transactions);
    credits(&imported.records).into_iter().cloned().collect()
}

/// Two retired blocks of the Verra sample, with their serial as Verra published it.
fn retired_verra_blocks() -> Vec<CreditRecord> {
    let blocks: Vec<CreditRecord> = verra_blocks()
        .into_iter()
        .filter(|c| c.transaction_type.value == TransactionType::Retirement)
        .take(2)
        .collect();
    assert_eq!(blocks.len(), 2, "the Verra sample has retired blocks");
    blocks
}

fn subgraph_response(entity: &str, items: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({ "data": { entity: items } })).expect("json")
}

/// A batch as the subgraph returns it (`batchTokens`, the fields carbonmesh asks for).
fn batch(id: &str, serial: &str, quantity: &str, status: u8, project: &str) -> Value {
    json!({
        "id": id,
        "serialNumber": serial,
        "quantity": quantity,
        "confirmationStatus": status,
        "timestamp": "1641900000",
        "tx": format!("0x{id:0>64}"),
        "creator": { "id": "0x0000000000000000000000000000000000000a11" },
        "projectVintage": { "name": "2020", "project": { "projectId": project } }
    })
}

#[test]
fn the_real_tco2_token_is_the_verra_project_it_tokenizes() {
    let bytes = testkit::read_fixture(&format!("{SHARED}toucan/"), TOKEN);
    let imported = import(TOKEN, &bytes, Feed::Projects);
    assert!(imported.rejected.is_empty(), "{:?}", imported.rejected);
    let [Record::Project(project)] = imported.records.as_slice() else {
        panic!("one project: {:?}", imported.records);
    };
    // `TCO2-VCS-1718-2013` holds vintage 2013 of Verra project 1718.
    assert_eq!(project.registry, REGISTRY);
    assert_eq!(project.registry_project_id, "VCS-1718");
    assert_eq!(project.cross_references.len(), 1);
    let origin = &project.cross_references[0];
    assert_eq!(origin.registry, Some(RegistryId::VERRA));
    assert_eq!(origin.id, "VCS1718", "Verra's own form of the id");
    assert_eq!(origin.relation, "tokenized_from");
}

#[test]
fn a_batch_of_a_real_verra_block_names_the_units_verras_record_names() {
    let blocks = retired_verra_blocks();
    let items: Vec<Value> = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let serial = b.serial.as_deref().expect("verra serial");
            let project = format!("VCS-{}", b.registry_project_id.trim_start_matches("VCS"));
            batch(
                &format!("{}", 40 + i),
                serial,
                &b.quantity.to_string(),
                2,
                &project,
            )
        })
        .collect();
    let bytes = subgraph_response("batchTokens", items);
    let imported = import("toucan-batches.json", &bytes, Feed::Issuances);
    assert!(imported.rejected.is_empty(), "{:?}", imported.rejected);
    let got = credits(&imported.records);
    assert_eq!(got.len(), 2);
    assert_unique_keys("batches", &imported.records);
    for (toucan, verra) in got.iter().zip(&blocks) {
        assert_eq!(toucan.registry, REGISTRY);
        assert_eq!(
            toucan.serial, verra.serial,
            "the registry's serial, verbatim"
        );
        let range = toucan.serial_range.as_ref().expect("a unit range");
        assert_eq!(Some(range), verra.serial_range.as_ref(), "the same units");
        assert_eq!(range.namespace, "verra", "in Verra's namespace");
        assert_eq!(toucan.quantity, verra.quantity);
        assert_eq!(toucan.transaction_type.value, TransactionType::Issuance);
        assert_eq!(toucan.status.value, UnitStatus::Active);
        assert_eq!(toucan.status.raw, "2 (Confirmed)");
        assert_eq!(toucan.vintage, Some(2020));
        assert_eq!(
            toucan.event_date,
            chrono::NaiveDate::from_ymd_opt(2022, 1, 11)
        );
        assert_eq!(
            toucan.account.as_deref(),
            Some("0x0000000000000000000000000000000000000a11")
        );
    }
    assert_eq!(got[0].record_key, "batch-40");
}

#[test]
fn a_batch_of_several_serials_is_one_record_each() {
    let blocks = retired_verra_blocks();
    let serials: Vec<&str> = blocks.iter().filter_map(|b| b.serial.as_deref()).collect();
    let total: Decimal = blocks.iter().map(|b| b.quantity).sum();
    // Toucan lists the serials of a batch comma-separated, as its batch events carry them.
    let item = batch("77", &serials.join(", "), &total.to_string(), 2, "VCS-1340");
    let imported = import(
        "batch.json",
        &subgraph_response("batchTokens", vec![item]),
        Feed::Issuances,
    );
    assert!(imported.rejected.is_empty(), "{:?}", imported.rejected);
    let got = credits(&imported.records);
    let keys: Vec<&str> = got.iter().map(|c| c.record_key.as_str()).collect();
    assert_eq!(keys, ["batch-77-1", "batch-77-2"]);
    for (c, b) in got.iter().zip(&blocks) {
        assert_eq!(c.quantity, b.quantity, "each serial's own units");
        assert_eq!(c.serial_range, b.serial_range);
        assert!(
            !c.note.as_deref().unwrap_or("").contains("states"),
            "the quantities agree: {:?}",
            c.note
        );
    }

    // A batch whose stated quantity is not what its serials name says so.
    let item = batch("78", &serials.join(","), "1", 2, "VCS-1340");
    let imported = import(
        "batch.json",
        &subgraph_response("batchTokens", vec![item]),
        Feed::Issuances,
    );
    let note = credits(&imported.records)[0]
        .note
        .clone()
        .unwrap_or_default();
    assert!(
        note.contains(&format!("the batch states 1 tonnes, its serials {total}")),
        "{note}"
    );
}

#[test]
fn batch_statuses_map_and_bad_batches_are_rejected_with_the_field() {
    let serial = retired_verra_blocks()[0].serial.clone().expect("serial");
    let items = vec![
        batch("1", &serial, "425", 0, "VCS-1340"),
        batch("2", &serial, "425", 1, "VCS-1340"),
        batch("3", &serial, "425", 4, "VCS-1340"),
        batch("4", &serial, "425", 6, "VCS-1340"),
        batch("5", "not a serial", "425", 2, "VCS-1340"),
        batch("6", &serial, "425", 9, "VCS-1340"),
        json!({ "id": "7", "serialNumber": serial, "quantity": "425", "confirmationStatus": 2 }),
    ];
    let imported = import(
        "batches.json",
        &subgraph_response("batchTokens", items),
        Feed::Issuances,
    );
    let got: Vec<(&str, TransactionType, UnitStatus)> = credits(&imported.records)
        .iter()
        .map(|c| {
            (
                c.record_key.as_str(),
                c.transaction_type.value,
                c.status.value,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("batch-1", TransactionType::Issuance, UnitStatus::Pending),
            (
                "batch-3",
                TransactionType::Conversion,
                UnitStatus::Converted
            ),
            ("batch-4", TransactionType::Retirement, UnitStatus::Retired),
        ]
    );
    let rejected: Vec<(u64, Option<&str>, &str)> = imported
        .rejected
        .iter()
        .map(|(line, r)| (*line, r.field.as_deref(), r.reason.as_str()))
        .collect();
    assert_eq!(rejected.len(), 4, "{rejected:?}");
    assert_eq!(
        rejected[0],
        (
            2,
            Some("confirmationStatus"),
            "the batch was rejected by Toucan: no tokens were minted"
        )
    );
    assert_eq!((rejected[1].0, rejected[1].1), (5, Some("serialNumber")));
    assert!(rejected[1].2.starts_with("`not a serial`"), "{rejected:?}");
    assert_eq!(
        rejected[2],
        (
            6,
            Some("confirmationStatus"),
            "9 is not a status Toucan defines (0 to 6)"
        )
    );
    assert_eq!(
        (rejected[3].0, rejected[3].1),
        (7, Some("projectVintage.project.projectId"))
    );
}

#[test]
fn retirements_burn_tokens_in_exact_tonnes_with_the_certificate() {
    let items = vec![
        json!({
            "id": "0x9f1c0de1-12",
            "creationTx": "0x9f1c0de1",
            "amount": "2500000000000000000",
            "timestamp": "1672531200",
            "token": {
                "symbol": "TCO2-VCS-1718-2013",
                "projectVintage": { "name": "2013", "project": { "projectId": "VCS-1718" } }
            },
            "certificate": {
                "id": "12",
                "beneficiaryString": "Acme Airlines",
                "retiringEntityString": "Acme Treasury",
                "retirementMessage": "Flights of 2022"
            }
        }),
        json!({
            "id": "0x9f1c0de1-13",
            "amount": "1.5",
            "token": { "projectVintage": { "name": "2013", "project": { "projectId": "VCS-1718" } } }
        }),
    ];
    let imported = import(
        "retirements.json",
        &subgraph_response("retirements", items),
        Feed::Retirements,
    );
    let [retired] = credits(&imported.records)[..] else {
        panic!("one retirement: {:?}", imported.records);
    };
    assert_eq!(retired.record_key, "retirement-0x9f1c0de1-12");
    assert_eq!(retired.quantity, Decimal::new(25, 1), "2.5 tonnes, exact");
    assert_eq!(retired.registry_project_id, "VCS-1718");
    assert_eq!(retired.vintage, Some(2013));
    assert_eq!(retired.transaction_type.value, TransactionType::Retirement);
    assert_eq!(retired.beneficiary.as_deref(), Some("Acme Airlines"));
    assert_eq!(retired.account.as_deref(), Some("Acme Treasury"));
    assert_eq!(retired.reason.as_deref(), Some("Flights of 2022"));
    assert_eq!(
        retired.event_date,
        chrono::NaiveDate::from_ymd_opt(2023, 1, 1)
    );
    assert_eq!(
        retired.note.as_deref(),
        Some("token TCO2-VCS-1718-2013; transaction 0x9f1c0de1")
    );
    let [(line, rejection)] = &imported.rejected[..] else {
        panic!("one rejection: {:?}", imported.rejected);
    };
    assert_eq!((*line, rejection.field.as_deref()), (2, Some("amount")));
    assert!(rejection.reason.contains("`1.5` is not a token amount"));
}

#[test]
fn saved_files_say_what_they_hold() {
    let c = connector();
    let detect = |bytes: &[u8]| c.detect_feed("saved.json", bytes);
    assert_eq!(
        detect(br#"{"data":{"tco2Tokens":[]}}"#),
        Some(Feed::Projects)
    );
    assert_eq!(
        detect(br#"{"data":{"batchTokens":[]}}"#),
        Some(Feed::Issuances)
    );
    assert_eq!(
        detect(br#"{"data":{"retirements":[]}}"#),
        Some(Feed::Retirements)
    );
    assert_eq!(detect(br#"{"data":{"pooledTCO2Tokens":[]}}"#), None);
    assert_eq!(detect(b"id,serial\n1,2\n"), None);
    // A response longer than the head names its entity in its first bytes.
    let long = format!(
        "{{\"data\":{{\"batchTokens\":[{}",
        "{\"id\":\"1\"},".repeat(500)
    );
    assert_eq!(detect(&long.as_bytes()[..4096]), Some(Feed::Issuances));

    let error = c
        .read_file(Feed::Cancellations, "x.json", b"{}")
        .expect_err("no cancellations");
    assert!(
        error.to_string().contains("publishes no cancellations"),
        "{error}"
    );
    let error = c
        .read_file(
            Feed::Issuances,
            "x.json",
            br#"{"errors":[{"message":"bad indexers"}]}"#,
        )
        .expect_err("errors");
    assert!(error.to_string().contains("bad indexers"), "{error}");
}
