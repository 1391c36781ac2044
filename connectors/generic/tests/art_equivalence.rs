//! The generic connector configured by `config/generic/art-trees.toml` and the dedicated ART
//! connector read the same ART fixture files into the same records, field by field.
//!
//! Intentional differences (none shows in the fixtures; each is a rule the configuration
//! language does not express):
//! * The ART connector writes program ids in one canonical form (`ART` and the number without
//!   zero padding, also from a bare `102`); the generic connector keeps the id as published.
//! * The ART connector rejects a blank program name, a blank `Date Approved`, a blank vintage,
//!   a fractional credit amount and a serial without a range; the generic connector keeps such
//!   rows with the field empty (or no range), and the model's own validation still applies.
//! * The generic connector folds runs of blanks inside a serial; the ART connector only trims.
//! * The issuance note's total is written as published, where the ART connector writes it as
//!   the parsed number (`9621384.0` would differ; the 2026 export writes `9621384`).

use carbonmesh_connector::testkit::{import_fixture, quick_http, read_fixture};
use carbonmesh_connector::{Connector, Feed, Record};
use carbonmesh_connector_art::{ArtConfig, ArtConnector};
use carbonmesh_connector_generic::GenericConnector;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/art-trees/"
);
const CONFIG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../config/generic/art-trees.toml"
);

const FILES: [(&str, Feed); 4] = [
    ("offsets-db-data_projects.csv", Feed::Projects),
    ("offsets-db-data_issuances.csv", Feed::Issuances),
    ("offsets-db-data_retirements.csv", Feed::Retirements),
    ("offsets-db-data_cancellations.csv", Feed::Cancellations),
];

fn generic() -> GenericConnector {
    let text = std::fs::read_to_string(CONFIG).expect("config/generic/art-trees.toml");
    GenericConnector::from_toml("art-trees.toml", &text, quick_http())
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn generic_and_dedicated_connectors_agree_on_every_art_fixture() {
    let generic = generic();
    let dedicated = ArtConnector::new(ArtConfig::default(), quick_http());
    assert_eq!(generic.registry(), dedicated.registry());
    let mut compared = 0;
    for (name, feed) in FILES {
        let bytes = read_fixture(DIR, name);
        let ours = import_fixture(&generic, name, &bytes, feed);
        let theirs = import_fixture(&dedicated, name, &bytes, feed);
        assert!(ours.rejected.is_empty(), "{name}: {:?}", ours.rejected);
        assert!(theirs.rejected.is_empty(), "{name}: {:?}", theirs.rejected);
        assert_eq!(ours.page.records.len(), theirs.page.records.len(), "{name}");
        assert_eq!(ours.records.len(), theirs.records.len(), "{name}");
        for (a, b) in ours.records.iter().zip(&theirs.records) {
            match (a, b) {
                (Record::Credit(a), Record::Credit(b)) => {
                    let k = &b.record_key;
                    assert_eq!(a.registry, b.registry, "{name} {k}: registry");
                    assert_eq!(a.record_key, b.record_key, "{name}: record_key");
                    assert_eq!(a.registry_project_id, b.registry_project_id, "{name} {k}");
                    assert_eq!(a.transaction_type, b.transaction_type, "{name} {k}");
                    assert_eq!(a.quantity, b.quantity, "{name} {k}: quantity");
                    assert_eq!(a.serial, b.serial, "{name} {k}: serial");
                    assert_eq!(a.serial_range, b.serial_range, "{name} {k}: serial_range");
                    assert_eq!(a.vintage, b.vintage, "{name} {k}: vintage");
                    assert_eq!(a.monitoring_period, b.monitoring_period, "{name} {k}");
                    assert_eq!(a.event_date, b.event_date, "{name} {k}: event_date");
                    assert_eq!(a.status, b.status, "{name} {k}: status");
                    assert_eq!(a.account, b.account, "{name} {k}: account");
                    assert_eq!(a.beneficiary, b.beneficiary, "{name} {k}: beneficiary");
                    assert_eq!(a.reason, b.reason, "{name} {k}: reason");
                    assert_eq!(a.note, b.note, "{name} {k}: note");
                    assert_eq!(a, b, "{name} {k}");
                }
                (Record::Project(a), Record::Project(b)) => {
                    let id = &b.registry_project_id;
                    assert_eq!(a.registry, b.registry, "{name} {id}: registry");
                    assert_eq!(a.registry_project_id, b.registry_project_id, "{name}");
                    assert_eq!(a.name, b.name, "{name} {id}: name");
                    assert_eq!(a.developer, b.developer, "{name} {id}: developer");
                    assert_eq!(a.country, b.country, "{name} {id}: country");
                    assert_eq!(a.country_raw, b.country_raw, "{name} {id}: country_raw");
                    assert_eq!(a.project_type, b.project_type, "{name} {id}: project_type");
                    assert_eq!(a.methodology, b.methodology, "{name} {id}: methodology");
                    assert_eq!(a.status, b.status, "{name} {id}: status");
                    assert_eq!(a.crediting_periods, b.crediting_periods, "{name} {id}");
                    assert_eq!(a.locations, b.locations, "{name} {id}: locations");
                    assert_eq!(a.labels, b.labels, "{name} {id}: labels");
                    assert_eq!(a.registry_url, b.registry_url, "{name} {id}: url");
                    assert_eq!(a, b, "{name} {id}");
                }
                _ => panic!("{name}: a project and a credit record in the same position"),
            }
            compared += 1;
        }
    }
    // 28 programs; 11 issuance rows (with their buffer records); 8 retirements; 3 cancellations.
    assert!(compared >= 28 + 11 + 8 + 3, "{compared} records compared");
}

#[test]
fn both_connectors_detect_the_same_feeds() {
    let generic = generic();
    let dedicated = ArtConnector::new(ArtConfig::default(), quick_http());
    for (name, feed) in FILES {
        let bytes = read_fixture(DIR, name);
        let head = &bytes[..bytes.len().min(4096)];
        assert_eq!(generic.detect_feed(name, head), Some(feed), "{name}");
        assert_eq!(dedicated.detect_feed(name, head), Some(feed), "{name}");
        // The header alone is enough, whatever the file is called.
        assert_eq!(
            generic.detect_feed("download.csv", head),
            Some(feed),
            "{name}"
        );
    }
}
