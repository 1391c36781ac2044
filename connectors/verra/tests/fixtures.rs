//! Every Verra sample file read and normalized, with totals checked against the files' own
//! columns.

use std::collections::{BTreeMap, HashSet};

use carbonmesh_connector::{Connector, Feed, HttpClient, HttpPolicy, Record};
use carbonmesh_connector_verra::{VerraConfig, VerraConnector};
use carbonmesh_model::{CreditRecord, Project, ProjectStatus, TransactionType, UnitStatus};
use rust_decimal::Decimal;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/verra/"
);
const TRANSACTIONS: &str = "offsets-db-data_transactions.csv";
const PROJECTS: &str = "offsets-db-data_projects.csv";
const PLATTS: &str = "rb-carbon-scraper_platts-publicReportPageSearch-samples.json";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{DIR}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path} is missing: {e}"))
}

fn connector() -> VerraConnector {
    let http = HttpClient::new(HttpPolicy::default()).expect("http client");
    VerraConnector::new(VerraConfig::default(), http)
}

/// Records produced and rows rejected (with their reasons) for one file and feed.
struct Import {
    records: Vec<Record>,
    rejected: Vec<(u64, String)>,
}

fn import(c: &VerraConnector, feed: Feed, name: &str) -> Import {
    let page = c.read_file(feed, name, &fixture(name)).expect("file reads");
    let mut rejected: Vec<(u64, String)> = page
        .unreadable
        .iter()
        .map(|(r, why)| (r.line, why.to_string()))
        .collect();
    let mut records = Vec::new();
    for raw in &page.records {
        let first = c.normalize(raw);
        // Pure: the same raw record always normalizes the same way.
        assert_eq!(first, c.normalize(raw), "{}", raw.location());
        match first {
            Ok(r) => records.extend(r),
            Err(why) => rejected.push((raw.line, why.to_string())),
        }
    }
    Import { records, rejected }
}

fn credits(records: &[Record]) -> Vec<&CreditRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Credit(c) => Some(c),
            Record::Project(_) => None,
        })
        .collect()
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

fn assert_unique_keys(credits: &[&CreditRecord]) {
    let mut seen = HashSet::new();
    for c in credits {
        assert!(seen.insert(&c.record_key), "duplicate key {}", c.record_key);
    }
}

#[test]
fn vcu_export_imports_whole() {
    let c = connector();
    let name = TRANSACTIONS;
    assert_eq!(
        c.detect_feed(name, &fixture(name)[..400]),
        Some(Feed::Transactions)
    );
    let imported = import(&c, Feed::Transactions, name);
    // Every row of the sample is sound.
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let credits = credits(&imported.records);
    assert_eq!(credits.len(), 140);
    assert_unique_keys(&credits);

    let retired = credits
        .iter()
        .filter(|c| c.transaction_type.value == TransactionType::Retirement)
        .count();
    assert_eq!(retired, 100);
    for c in &credits {
        // Every block keeps its integer range, and its size is the stated quantity.
        let range = c.serial_range.as_ref().expect("serial range");
        assert_eq!(range.namespace, "verra");
        assert_eq!(
            Decimal::from(range.quantity()),
            c.quantity,
            "{}",
            c.record_key
        );
        assert!(c.registry_project_id.starts_with("VCS"));
        assert!(c.event_date.is_some());
        assert!(c.vintage.is_some());
    }

    let first = credits[0];
    assert_eq!(first.registry_project_id, "VCS1340");
    assert_eq!(first.quantity, Decimal::from(425));
    assert_eq!(first.vintage, Some(2020));
    assert_eq!(first.status.value, UnitStatus::Retired);
    assert_eq!(first.transaction_type.raw, "Retirement/Cancellation Date");
    assert_eq!(
        first.serial_range.as_ref().map(|r| (r.start, r.end)),
        Some((941467007, 941467431))
    );
}

/// Totals per (project, vintage, transaction type), computed straight from the CSV columns.
#[test]
fn vcu_totals_match_the_file() {
    let bytes = fixture(TRANSACTIONS);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().expect("header").clone();
    let at = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"))
    };
    let (id, vintage, qty, date) = (
        at("ID"),
        at("Vintage Start"),
        at("Quantity Issued"),
        at("Retirement/Cancellation Date"),
    );
    let mut expected: BTreeMap<(String, i32, &str), i64> = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("row");
        let kind = if row[date].trim().is_empty() {
            "issuance"
        } else {
            "retirement"
        };
        let year: i32 = row[vintage][..4].parse().expect("year");
        let q: i64 = row[qty].replace(',', "").parse().expect("quantity");
        *expected
            .entry((format!("VCS{}", &row[id]), year, kind))
            .or_default() += q;
    }

    let imported = import(&connector(), Feed::Transactions, TRANSACTIONS);
    let mut actual: BTreeMap<(String, i32, &str), i64> = BTreeMap::new();
    for c in credits(&imported.records) {
        let q: i64 = c.quantity.try_into().expect("whole units");
        *actual
            .entry((
                c.registry_project_id.clone(),
                c.vintage.expect("vintage"),
                c.transaction_type.value.as_str(),
            ))
            .or_default() += q;
    }
    assert!(expected.len() > 10);
    assert_eq!(actual, expected);
}

#[test]
fn project_export_imports_whole() {
    let c = connector();
    let name = PROJECTS;
    assert_eq!(
        c.detect_feed(name, &fixture(name)[..300]),
        Some(Feed::Projects)
    );
    let imported = import(&c, Feed::Projects, name);
    assert_eq!(imported.rejected, Vec::<(u64, String)>::new());
    let projects = projects(&imported.records);
    assert_eq!(projects.len(), 35);
    let ids: HashSet<_> = projects.iter().map(|p| &p.registry_project_id).collect();
    assert_eq!(ids.len(), 35);
    for p in &projects {
        assert!(p.country.is_some(), "{:?} mapped", p.country_raw);
        assert_eq!(
            p.status.as_ref().map(|s| s.value),
            Some(ProjectStatus::UnderDevelopment)
        );
    }
    let first = projects[0];
    assert_eq!(first.registry_project_id, "VCS5962");
    assert_eq!(first.country.as_deref(), Some("ID"));
    assert_eq!(first.methodology.as_deref(), Some("AMS-III.H"));
    let kenya = projects
        .iter()
        .find(|p| p.registry_project_id == "VCS5957")
        .expect("VCS5957");
    assert_eq!(kenya.crediting_periods.len(), 1);
}

#[test]
fn platts_samples_import_whole() {
    let c = connector();
    let name = PLATTS;
    let bytes = fixture(name);
    // The file saves three resources: the kind must be given.
    assert_eq!(c.detect_feed(name, &bytes), None);

    let issuances = import(&c, Feed::Issuances, name);
    assert!(issuances.rejected.is_empty(), "{:?}", issuances.rejected);
    let issuance = credits(&issuances.records)[0].clone();
    assert_eq!(issuance.record_key, "issuance:110200001032597");
    assert_eq!(issuance.registry_project_id, "VCS3352");
    assert_eq!(issuance.transaction_type.value, TransactionType::Issuance);
    assert_eq!(issuance.quantity, Decimal::from(235_604));
    let range = issuance.serial_range.expect("range");
    assert_eq!((range.start, range.end), (1139690318, 1139925921));
    assert_eq!(range.quantity(), 235_604);
    assert_eq!(issuance.vintage, Some(2024));

    let cancellations = import(&c, Feed::Cancellations, name);
    assert!(
        cancellations.rejected.is_empty(),
        "{:?}",
        cancellations.rejected
    );
    let cancel = credits(&cancellations.records)[0].clone();
    assert_eq!(cancel.registry_project_id, "VCS1175");
    // `Cancel/Export - 8294`: the units left for another program.
    assert_eq!(cancel.transaction_type.value, TransactionType::Conversion);
    assert_eq!(cancel.transaction_type.raw, "Cancel/Export - 8294");
    assert_eq!(cancel.status.value, UnitStatus::Cancelled);
    assert_eq!(cancel.vintage, Some(2003));
    let range = cancel.serial_range.expect("range");
    assert_eq!((range.start, range.end), (957450860, 957469821));
    assert_eq!(Decimal::from(range.quantity()), cancel.quantity);

    let project = import(&c, Feed::Projects, name);
    assert!(project.rejected.is_empty(), "{:?}", project.rejected);
    let p = projects(&project.records)[0].clone();
    assert_eq!(p.registry_project_id, "VCS2240");
    assert_eq!(p.country.as_deref(), Some("US"));
    assert_eq!(
        p.status.as_ref().map(|s| s.value),
        Some(ProjectStatus::Withdrawn)
    );
    assert_eq!(p.methodology.as_deref(), Some("ACM0002"));
    // The 0/0 placeholder is no location.
    assert!(p.locations.iter().all(|l| l.latitude.is_none()));

    // The retirement sample was left out of the file.
    assert!(c.read_file(Feed::Retirements, name, &bytes).is_err());
}

#[test]
fn bad_rows_are_rejected_naming_field_and_value() {
    let c = connector();
    let header = "Issuance Date,Vintage Start,Vintage End,ID,Name,Quantity Issued,Serial Number,Retirement/Cancellation Date\n";
    let serial = "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1";
    let body = format!(
        "{header}\
         2026-04-03,2020-01-01,2020-12-31,1340,A,12x,{serial},\n\
         2026-04-03,2020-01-01,2020-12-31,999,A,425,{serial},\n\
         2026-04-03,2020-01-01,2020-12-31,1340,A,425,not-a-serial,\n\
         2026-04-03,2020-01-01,2020-12-31,1340,A,426,{serial},31/02/2026\n\
         2026-04-03,2020-01-01,2020-12-31,1340,A,\"1,000\",{serial},\n\
         2026-04-03,2020-01-01,2020-12-31,1340,A,425,{serial}\n"
    );
    let page = c
        .read_file(Feed::Transactions, "bad.csv", body.as_bytes())
        .expect("reads");
    let out: Vec<String> = page
        .records
        .iter()
        .map(|r| match c.normalize(r) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        })
        .collect();
    assert!(
        out[0].contains("`Quantity Issued`") && out[0].contains("12x"),
        "{}",
        out[0]
    );
    assert!(
        out[1].contains("names project VCS1340") && out[1].contains("VCS999"),
        "{}",
        out[1]
    );
    assert!(
        out[2].contains("`Serial Number`") && out[2].contains("not-a-serial"),
        "{}",
        out[2]
    );
    assert!(
        out[3].contains("Retirement/Cancellation Date") && out[3].contains("31/02/2026"),
        "{}",
        out[3]
    );
    // A serial count that differs from the stated quantity is kept for the matcher.
    assert_eq!(out[4], "ok");
    // The row missing its last field could not be read at all; it is kept, not dropped.
    assert_eq!(page.unreadable.len(), 1);
    assert_eq!(page.unreadable[0].0.line, 7);

    let missing = c.read_file(Feed::Transactions, "cut.csv", b"ID,Name\n1,x\n");
    assert!(missing.is_err());
}

/// Read in pages, the VCU export yields exactly the records of the whole-file read, in order,
/// and no page is larger than asked.
#[test]
fn vcu_export_read_in_pages_equals_the_whole_file() {
    let c = connector();
    let bytes = fixture(TRANSACTIONS);
    let whole = c
        .read_file(Feed::Transactions, TRANSACTIONS, &bytes)
        .expect("whole file");
    let mut paged = carbonmesh_connector::Page::default();
    let mut pages = 0;
    c.read_file_pages(
        Feed::Transactions,
        TRANSACTIONS,
        &mut &bytes[..],
        7,
        &mut |page| {
            assert!(page.records.len() <= 7, "page of {}", page.records.len());
            pages += 1;
            paged.records.extend(page.records);
            paged.unreadable.extend(page.unreadable);
            std::ops::ControlFlow::Continue(())
        },
    )
    .expect("paged read");
    assert_eq!(pages, whole.records.len().div_ceil(7));
    assert_eq!(paged, whole);

    // A callback that breaks stops the read after its first page.
    let mut seen = 0;
    c.read_file_pages(
        Feed::Transactions,
        TRANSACTIONS,
        &mut &bytes[..],
        7,
        &mut |page| {
            seen += page.records.len();
            std::ops::ControlFlow::Break(())
        },
    )
    .expect("stopped read");
    assert_eq!(seen, 7);
}

/// A saved uiapi asset search (`{"totalCount": N, "value": [ … ]}`, the uiapi keys listed in
/// `../shared/docs/registries.md`), made from the real VCU export rows, is detected without
/// `--kind` and gives the same credit records as the CSV.
#[test]
fn saved_uiapi_asset_search_reads_as_the_vcu_export() {
    // uiapi key of each VCU export column (KlimaDAO's RENAME_MAP, reversed).
    const KEYS: [(&str, &str); 17] = [
        ("Issuance Date", "issuanceDate"),
        ("Sustainable Development Goals", "programObjectives"),
        ("Vintage Start", "vintageStart"),
        ("Vintage End", "vintageEnd"),
        ("ID", "resourceIdentifier"),
        ("Name", "resourceName"),
        ("Country/Area", "country"),
        ("Project Type", "protocolCategory"),
        ("Methodology", "protocol"),
        ("Total Vintage Quantity", "totalVintageQuantity"),
        ("Quantity Issued", "quantity"),
        ("Serial Number", "serialNumbers"),
        ("Additional Certifications", "additionalCertifications"),
        ("Retirement/Cancellation Date", "retireOrCancelDate"),
        ("Retirement Beneficiary", "retirementBeneficiary"),
        ("Retirement Reason", "retirementReason"),
        ("Retirement Details", "retirementDetails"),
    ];
    let c = connector();
    let csv = c
        .read_file(Feed::Transactions, TRANSACTIONS, &fixture(TRANSACTIONS))
        .expect("CSV reads");
    let blocks: Vec<serde_json::Value> = csv
        .records
        .iter()
        .map(|raw| {
            let mut block = serde_json::Map::new();
            for (header, key) in KEYS {
                let value = raw.field(&[header]).unwrap_or_default();
                // As the API answers: numbers as numbers, dates as ISO date-times, blanks null.
                let json = if value.is_empty() {
                    serde_json::Value::Null
                } else if key.ends_with("uantity") {
                    serde_json::json!(value.replace(',', "").parse::<u64>().expect("number"))
                } else if key.ends_with("Date") || key.starts_with("vintage") {
                    serde_json::json!(format!("{value}T00:00:00"))
                } else {
                    serde_json::json!(value)
                };
                block.insert(key.to_owned(), json);
            }
            block.insert(
                "retiredCancelled".into(),
                serde_json::json!(
                    raw.field(&["Retirement/Cancellation Date"])
                        .is_some_and(|d| !d.is_empty())
                ),
            );
            serde_json::Value::Object(block)
        })
        .collect();
    let saved = serde_json::to_vec(&serde_json::json!({
        "totalCount": blocks.len(),
        "countExceeded": false,
        "@count": blocks.len(),
        "value": blocks,
    }))
    .expect("JSON");

    let name = "asset-search.json";
    // The import reads 64 KiB to tell the kind.
    let head = &saved[..saved.len().min(64 * 1024)];
    assert_eq!(c.detect_feed(name, head), Some(Feed::Transactions));
    let page = c
        .read_file(Feed::Transactions, name, &saved)
        .expect("saved search reads");
    assert!(page.unreadable.is_empty());
    let from_json: Vec<Record> = page
        .records
        .iter()
        .flat_map(|raw| {
            c.normalize(raw)
                .unwrap_or_else(|e| panic!("{}: {e}", raw.location()))
        })
        .collect();
    let from_csv = import(&c, Feed::Transactions, TRANSACTIONS).records;
    assert_eq!(from_json.len(), 140);
    assert_eq!(credits(&from_json), credits(&from_csv));
    // A file that is neither: refused with the reason.
    let error = c
        .read_file(Feed::Transactions, name, br#"{"totalCount": 0}"#)
        .expect_err("no value array");
    assert!(error.to_string().contains("no `value` array"), "{error}");
}
