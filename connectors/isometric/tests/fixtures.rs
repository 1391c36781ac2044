//! Every Isometric fixture file imports through `read_file` + `normalize`; quantities stay exact
//! decimals computed from the kilograms, and totals agree with the files' own columns, read
//! here with the plain `csv` crate.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use carbonmesh_connector::testkit::{self, Imported, assert_unique_keys, credits, dec};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_isometric::{IsometricConfig, IsometricConnector};
use carbonmesh_model::{ProjectStatus, RegistryId, TransactionType, UnitStatus};
use rust_decimal::Decimal;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/isometric/"
);

const ISSUANCES: &str = "offsets-db-data_issuances.csv";
const RETIREMENTS: &str = "offsets-db-data_retirements.csv";
const PROJECTS: &str = "offsets-db-data_projects.csv";

fn connector() -> IsometricConnector {
    IsometricConnector::new(
        IsometricConfig::new("http://127.0.0.1:9"),
        testkit::quick_http(),
    )
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

fn clean(i: &Imported, name: &str) {
    assert!(
        i.page.unreadable.is_empty(),
        "{name}: {:?}",
        i.page.unreadable
    );
    assert!(i.rejected.is_empty(), "{name}: {:?}", i.rejected);
}

#[test]
fn issuances_keep_fractional_tonnes_exactly_with_their_buffer_share() {
    let i = import(ISSUANCES, Feed::Issuances);
    clean(&i, ISSUANCES);
    assert_eq!(i.page.records.len(), 70);
    assert_unique_keys(ISSUANCES, &i.records);

    let mut expected = Totals::new();
    let mut kilograms = BTreeMap::new();
    let mut buffers = 0;
    for row in rows(ISSUANCES) {
        let project = row["project_id"].clone();
        *expected
            .entry((project.clone(), None, "issuance"))
            .or_default() += dec(&row["credit_batch_size_total.credits"]);
        let buffer = dec(&row["buffer_pool_credit_batch_size_total.credits"]);
        if !buffer.is_zero() {
            buffers += 1;
            *expected.entry((project, None, "buffer")).or_default() += buffer;
        }
        // The file's own arithmetic: supplier plus buffer is the batch.
        assert_eq!(
            dec(&row["supplier_credit_batch_size_total.credits"]) + buffer,
            dec(&row["credit_batch_size_total.credits"])
        );
        kilograms.insert(
            row["id"].clone(),
            row["credit_batch_size_total.credit_kgs"]
                .parse::<u64>()
                .expect("kg"),
        );
    }
    assert_eq!(i.records.len(), 70 + buffers);
    assert_eq!(totals_of(&i.records), expected);

    for c in credits(&i.records) {
        assert_eq!(c.serial, None, "Isometric publishes no serials");
        if c.transaction_type.value != TransactionType::Issuance {
            assert_eq!(c.serial_range, None);
            continue;
        }
        // The synthetic range counts the record's kilograms in its own namespace.
        let kg = kilograms[&c.record_key];
        let range = c.serial_range.as_ref().expect("synthetic range");
        assert_eq!(range.namespace, format!("isometric:{}", c.record_key));
        assert_eq!((range.start, range.end), (1, kg));
        assert_eq!(c.quantity * Decimal::ONE_THOUSAND, Decimal::from(kg));
    }

    let alt = credits(&i.records)
        .into_iter()
        .find(|c| c.record_key == "iss_1KP6EDZ8K1S036PY")
        .expect("Alt Carbon's issuance");
    assert_eq!(alt.quantity, Decimal::from_str("2765.37").expect("decimal"));
    assert_eq!(alt.registry_project_id, "prj_1JYCV03BW1S0RTE5");
    assert_eq!(alt.account.as_deref(), Some("Alt Carbon"));
    assert_eq!(
        alt.event_date.map(|d| d.to_string()).as_deref(),
        Some("2026-04-14")
    );
    assert_eq!(
        alt.note.as_deref(),
        Some("supplier credits: 2710.062 t (2710062 kg)")
    );
    let alt_buffer = credits(&i.records)
        .into_iter()
        .find(|c| c.record_key == "iss_1KP6EDZ8K1S036PY#buffer")
        .expect("its buffer share");
    assert_eq!(
        alt_buffer.quantity,
        Decimal::from_str("55.308").expect("decimal")
    );
    assert_eq!(alt_buffer.status.value, UnitStatus::Buffer);
}

#[test]
fn retirements_keep_fractional_tonnes_exactly_by_sequestration_year() {
    let i = import(RETIREMENTS, Feed::Retirements);
    clean(&i, RETIREMENTS);
    assert_eq!(i.records.len(), 70);
    assert_unique_keys(RETIREMENTS, &i.records);

    let mut expected = Totals::new();
    for row in rows(RETIREMENTS) {
        let year: i32 = row["sequestered_on"][..4].parse().expect("year");
        *expected
            .entry((row["project_id"].clone(), Some(year), "retirement"))
            .or_default() += dec(&row["credit_batch_size_total.credits"]);
        assert_eq!(
            dec(&row["credit_batch_size_total.credits"]) * Decimal::ONE_THOUSAND,
            dec(&row["credit_batch_size_total.credit_kgs"])
        );
    }
    assert_eq!(totals_of(&i.records), expected);

    let tiny = credits(&i.records)
        .into_iter()
        .find(|c| c.record_key == "ret_1KMZP3TAK1S0SBJ9")
        .expect("a 19 kg retirement");
    assert_eq!(tiny.quantity, Decimal::from_str("0.019").expect("decimal"));
    assert_eq!(tiny.quantity.to_string(), "0.019");
    let range = tiny.serial_range.as_ref().expect("range");
    assert_eq!(
        (range.namespace.as_str(), range.start, range.end),
        ("isometric:ret_1KMZP3TAK1S0SBJ9", 1, 19)
    );
    assert_eq!(tiny.reason, None, "an empty purposes list");

    let stripe = credits(&i.records)
        .into_iter()
        .find(|c| c.record_key == "ret_1KMNNWDKE1S0XAYH")
        .expect("a Stripe Climate retirement");
    assert_eq!(
        stripe.quantity,
        Decimal::from_str("1.131").expect("decimal")
    );
    assert_eq!(stripe.account.as_deref(), Some("Stripe"));
    assert_eq!(
        stripe.beneficiary.as_deref(),
        Some("Convert Insights, Inc.")
    );
    assert_eq!(stripe.reason.as_deref(), Some("other"));
    assert_eq!(stripe.vintage, Some(2025));
    assert!(
        stripe
            .note
            .as_deref()
            .is_some_and(|n| n.starts_with("https://stripe.com/climate/orders"))
    );
    let workday = credits(&i.records)[0];
    assert_eq!(
        workday.reason.as_deref(),
        Some("public_environmental_claims")
    );
    assert_eq!(workday.transaction_type.value, TransactionType::Retirement);
    assert_eq!(workday.status.value, UnitStatus::Retired);
}

#[test]
fn projects_import_with_alpha2_countries_and_raw_statuses() {
    let i = import(PROJECTS, Feed::Projects);
    clean(&i, PROJECTS);
    assert_eq!(i.records.len(), 35);
    let mut ids = HashSet::new();
    let mut statuses = HashSet::new();
    for r in &i.records {
        let Record::Project(p) = r else {
            panic!("a project export yields projects")
        };
        assert!(ids.insert(p.id()));
        assert!(p.id().starts_with("isometric:prj_"));
        let status = p.status.as_ref().expect("status");
        statuses.insert((status.value, status.raw.clone()));
        if let Some(raw) = &p.country_raw {
            assert!(p.country.is_some(), "{raw}");
        }
        assert!(
            p.registry_url
                .as_deref()
                .is_some_and(|u| u.ends_with(&p.registry_project_id))
        );
    }
    assert!(statuses.contains(&(ProjectStatus::Validated, "validated".to_owned())));
    assert!(statuses.contains(&(
        ProjectStatus::UnderDevelopment,
        "under_validation".to_owned()
    )));
    assert!(statuses.contains(&(
        ProjectStatus::Rejected,
        "validation_unsuccessful".to_owned()
    )));
    let satyapura = i
        .records
        .iter()
        .find_map(|r| match r {
            Record::Project(p) if p.registry_project_id == "prj_1K3VWSDS61S0QKV7" => Some(p),
            _ => None,
        })
        .expect("the Satyapura biochar project");
    assert_eq!(satyapura.name, "A Biochar Project at Satyapura");
    assert_eq!(satyapura.country.as_deref(), Some("IN"));
    assert_eq!(satyapura.country_raw.as_deref(), Some("IND"));
    assert_eq!(satyapura.methodology.as_deref(), Some("biochar"));
    assert_eq!(
        satyapura.project_type.as_deref(),
        Some("biomass_carbon_removal_and_storage")
    );
    assert_eq!(satyapura.developer.as_deref(), Some("Equilibrium"));
    assert_eq!(satyapura.locations[0].latitude, Some(27.0238));
    assert_eq!(
        satyapura.crediting_periods[0]
            .end
            .map(|d| d.to_string())
            .as_deref(),
        Some("2030-11-26")
    );
}

/// What the store keeps of a rejected row: registry, file, line, field and reason.
type Kept = (RegistryId, String, u64, Option<String>, String);

#[test]
fn bad_rows_are_rejected_with_file_line_field_and_reason_and_the_rest_imports() {
    let c = connector();
    let text = String::from_utf8(fixture(RETIREMENTS)).expect("utf-8");
    // Line 2: tonnes that disagree with the kilograms. Line 3: an id of the wrong kind.
    // Line 4: kilograms that are not a whole number.
    let bad = text
        .replacen(",531.0,531000,", ",531.5,531000,", 1)
        .replacen("ret_1KNQPB6541S05H5K,", "iss_1KNQPB6541S05H5K,", 1)
        .replacen(",36.0,36000,", ",36.0,36000.5,", 1);
    let source = "isometric-retirements-edited.csv";
    let page = c
        .read_file(Feed::Retirements, source, bad.as_bytes())
        .expect("the file reads");
    assert_eq!(page.records.len(), 70);
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
    assert_eq!(imported, 67);
    assert_eq!(kept.len(), 3, "{kept:?}");
    let (registry, file, line, field, reason) = &kept[0];
    assert_eq!(
        (*registry, file.as_str(), *line),
        (RegistryId::ISOMETRIC, source, 2)
    );
    assert_eq!(field.as_deref(), Some("credit_batch_size_total.credits"));
    assert!(
        reason.contains("531.5 t disagrees with 531000 kg"),
        "{reason}"
    );
    let (_, _, line, field, reason) = &kept[1];
    assert_eq!(*line, 3);
    assert_eq!(field.as_deref(), Some("retirement_id"));
    assert!(reason.contains("iss_1KNQPB6541S05H5K"), "{reason}");
    let (_, _, line, field, reason) = &kept[2];
    assert_eq!(*line, 4);
    assert_eq!(field.as_deref(), Some("credit_batch_size_total.credit_kgs"));
    assert!(reason.contains("36000.5"), "{reason}");
}

#[test]
fn normalizing_twice_gives_the_same_records() {
    let c = connector();
    for (name, feed) in [
        (ISSUANCES, Feed::Issuances),
        (RETIREMENTS, Feed::Retirements),
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

/// The API's retirement node names its project and sequestration dates per credit batch; it
/// normalizes to the record the flattened export gives.
#[test]
fn an_api_retirement_node_and_its_export_row_agree() {
    let c = connector();
    let node = serde_json::json!({"nodes": [{
        "id": "ret_1KMZP3TAK1S0SBJ9",
        "retired_at": "2026-03-30T15:34:34.687870Z",
        "purposes": [],
        "beneficiary": {"id": "org_1KGN8G1S31S02KQY", "name": "Kieran Lewko", "domain": null},
        "owner": {"id": "org_1KGN8G1S31S02KQY", "name": "Kieran Lewko", "domain": null},
        "credit_batch_size_total": {"credits": 0.019, "credit_kgs": 19},
        "url": "https://to.isometric.com/ret_1KMZP3TAK1S0SBJ9",
        "notes": null,
        "credit_batches": [{"project_id": "prj_1JQEQKCF91S06HAJ", "sequestered_on": "2025-11-07"}]
    }], "total_count": 1, "page_info": {"has_next_page": false}});
    let bytes = serde_json::to_vec(&node).expect("json");
    assert_eq!(c.detect_feed("page.json", &bytes), Some(Feed::Retirements));
    let page = c
        .read_file(Feed::Retirements, "page.json", &bytes)
        .expect("reads");
    let from_api = c.normalize(&page.records[0]).expect("normalizes");
    let export = import(RETIREMENTS, Feed::Retirements);
    let from_export = credits(&export.records)
        .into_iter()
        .find(|c| c.record_key == "ret_1KMZP3TAK1S0SBJ9")
        .expect("in the export");
    assert_eq!(from_api, vec![Record::Credit(from_export.clone())]);
}
