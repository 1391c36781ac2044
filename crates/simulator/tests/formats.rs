//! Generated formats against the real samples, and serial numbers against carbonmesh_serials.

use std::collections::BTreeSet;
use std::path::PathBuf;

use carbonmesh_model::RegistryId;
use carbonmesh_simulator::formats::{self, serial};
use carbonmesh_simulator::{CaseCounts, CaseKind, Dataset, Feed, FeedRow, Scale, SimulatorConfig};

fn fixtures() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/registries"
    ));
    assert!(dir.is_dir(), "fixture directory missing: {}", dir.display());
    dir
}

fn config(seed: u64) -> SimulatorConfig {
    SimulatorConfig {
        seed,
        scale: Scale::uniform(12, 60),
        cases: CaseCounts::each(2),
        ..SimulatorConfig::default()
    }
}

/// The header of a sample CSV; pandas' `Unnamed: N` is the registry's empty last column.
fn fixture_header(file: &str) -> Vec<String> {
    let path = fixtures().join(file);
    let mut reader =
        csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().expect("fixture header");
    header
        .iter()
        .map(|h| {
            if h.starts_with("Unnamed: ") {
                String::new()
            } else {
                h.to_string()
            }
        })
        .collect()
}

#[test]
fn csv_headers_equal_the_real_exports() {
    let cases = [
        (
            Feed::VerraTransactions,
            "verra/offsets-db-data_transactions.csv",
        ),
        (Feed::VerraProjectsCsv, "verra/offsets-db-data_projects.csv"),
        (
            Feed::CarProjects,
            "climate-action-reserve/offsets-db-data_projects.csv",
        ),
        (
            Feed::CarIssuances,
            "climate-action-reserve/offsets-db-data_issuances.csv",
        ),
        (
            Feed::CarRetirements,
            "climate-action-reserve/offsets-db-data_retirements.csv",
        ),
        (
            Feed::CarCancellations,
            "climate-action-reserve/offsets-db-data_cancellations.csv",
        ),
        (
            Feed::ArbIssuances,
            "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        ),
    ];
    let dataset = Dataset::new(&config(1)).expect("dataset");
    for (feed, file) in cases {
        let ours: Vec<String> = formats::csv_header(feed)
            .expect("csv feed")
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            ours,
            fixture_header(file),
            "{feed:?} header differs from {file}"
        );
        // Every generated row has as many fields as the header.
        let bytes = [
            formats::csv_header_bytes(feed, &[]),
            formats::csv_rows_bytes(&dataset, feed, 0, dataset.len(feed)),
        ]
        .concat();
        let mut reader = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        let mut rows = 0;
        for record in reader.records() {
            let record = record.expect("well-formed CSV");
            assert_eq!(record.len(), ours.len(), "{feed:?} row width");
            rows += 1;
        }
        assert_eq!(rows, dataset.len(feed), "{feed:?} row count");
    }
}

fn keys(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

/// Our keys must lie between the intersection and the union of the samples' key sets.
fn assert_keys_match(feed: Feed, ours: &serde_json::Value, samples: &[serde_json::Value]) {
    let ours = keys(ours);
    let sets: Vec<BTreeSet<String>> = samples.iter().map(keys).collect();
    let union: BTreeSet<String> = sets.iter().flatten().cloned().collect();
    let common: BTreeSet<String> = union
        .iter()
        .filter(|k| sets.iter().all(|s| s.contains(*k)))
        .cloned()
        .collect();
    assert!(
        ours.is_subset(&union),
        "{feed:?} has fields the registry does not: {:?}",
        ours.difference(&union).collect::<Vec<_>>()
    );
    assert!(
        common.is_subset(&ours),
        "{feed:?} lacks fields: {:?}",
        common.difference(&ours).collect::<Vec<_>>()
    );
}

fn read_json(file: &str) -> serde_json::Value {
    let path = fixtures().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture JSON")
}

fn first_entity(dataset: &Dataset, feed: Feed) -> serde_json::Value {
    let row = dataset.row(feed, 0).expect("a row");
    formats::json_entity(feed, &row)
}

#[test]
fn json_fields_equal_the_real_apis() {
    let dataset = Dataset::new(&config(1)).expect("dataset");
    let platts = read_json("verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json");
    let platts_entities = |report: &str| -> Vec<serde_json::Value> {
        let url = format!(
            "https://prod-us.api.platts.com/ci-raas-prod/raas-report-api/es/public/{report}/publicReportPageSearch"
        );
        platts[url.as_str()]["entities"]
            .as_array()
            .cloned()
            .expect("platts sample")
    };
    for (feed, report) in [
        (Feed::VerraIssuances, "issuances"),
        (Feed::VerraCancellations, "cancellations"),
        (Feed::VerraProjects, "project"),
    ] {
        assert_keys_match(
            feed,
            &first_entity(&dataset, feed),
            &platts_entities(report),
        );
    }

    let credits = read_json("gold-standard/rb-carbon-scraper_gs-credits.json");
    let credits = credits.as_array().cloned().expect("array");
    let ours = first_entity(&dataset, Feed::GoldStandardCredits);
    assert_keys_match(Feed::GoldStandardCredits, &ours, &credits);
    let nested: Vec<serde_json::Value> = credits.iter().map(|c| c["project"].clone()).collect();
    assert_keys_match(Feed::GoldStandardCredits, &ours["project"], &nested);
    let products: Vec<serde_json::Value> = credits.iter().map(|c| c["product"].clone()).collect();
    assert_keys_match(Feed::GoldStandardCredits, &ours["product"], &products);
    let projects = read_json("gold-standard/rb-carbon-scraper_gs-projects.json");
    let mut gs_project = first_entity(&dataset, Feed::GoldStandardProjects);
    // Only programme members (VPAs) carry the poa_* fields; compare against standalone samples too.
    if let Some(o) = gs_project.as_object_mut() {
        o.retain(|k, _| !k.starts_with("poa_"));
    }
    let standalone: Vec<serde_json::Value> = projects
        .as_array()
        .cloned()
        .expect("array")
        .into_iter()
        .map(|mut p| {
            if let Some(o) = p.as_object_mut() {
                o.retain(|k, _| !k.starts_with("poa_"));
            }
            p
        })
        .collect();
    assert_keys_match(Feed::GoldStandardProjects, &gs_project, &standalone);

    for (feed, file, key) in [
        (Feed::AcrIssued, "acr-issuances", "issuedCredits"),
        (Feed::AcrRetired, "acr-retirements", "retiredCredits"),
        (Feed::AcrCanceled, "acr-cancellations", "cancelledCredits"),
        (Feed::AcrProjects, "acr-projects", "projects"),
    ] {
        let sample = read_json(&format!(
            "american-carbon-registry/rb-carbon-scraper_{file}.json"
        ));
        let rows = sample["datasets"][key]["rows"]
            .as_array()
            .cloned()
            .expect("rows");
        let ours = first_entity(&dataset, feed);
        assert_keys_match(feed, &ours, &rows);
        for nested in ["creditLink", "projectLink", "developerLink", "details"] {
            if ours.get(nested).is_some_and(|v| !v.is_null()) {
                let samples: Vec<serde_json::Value> =
                    rows.iter().map(|r| r[nested].clone()).collect();
                assert_keys_match(feed, &ours[nested], &samples);
            }
        }
    }
}

/// A row's serial parsed the way its connector reads it: Isometric ids as synthetic
/// kilogram ranges, Cercarbono batch serials with the positions `1..=quantity` beside them,
/// CAD Trust blocks from their bounds and organisation.
fn parse_row(
    row: &carbonmesh_simulator::CreditRow,
    text: &str,
) -> Result<carbonmesh_serials::ParsedSerial, carbonmesh_serials::SerialError> {
    match row.registry {
        RegistryId::ISOMETRIC => {
            carbonmesh_serials::isometric_record(text, formats::isometric::kilograms(row))
        }
        RegistryId::CERCARBONO => {
            carbonmesh_serials::parse(text, Some(row.registry))?;
            carbonmesh_serials::parse_with_positions(text, 1, row.quantity, Some(row.registry))
        }
        RegistryId::CADT => {
            let start = serial::cadt_bound(row, row.start);
            let end = serial::cadt_bound(row, row.end);
            carbonmesh_serials::parse_cadt_block(&carbonmesh_serials::CadtUnitBlock {
                unit_block_start: &start,
                unit_block_end: &end,
                org_uid: serial::CADT_ORG_UID,
                registry_of_origin: row.mirrors,
            })
        }
        registry => carbonmesh_serials::parse(text, Some(registry)),
    }
}

#[test]
fn every_serial_parses_and_counts_its_quantity() {
    let dataset = Dataset::new(&config(5)).expect("dataset");
    let mismatched: BTreeSet<String> = dataset
        .ground_truth()
        .iter()
        .filter(|c| c.kind == CaseKind::QuantityMismatch)
        .flat_map(|c| c.records.iter().filter_map(|r| r.serial.clone()))
        .collect();
    assert!(!mismatched.is_empty());
    let mut seen_mismatch = BTreeSet::new();
    let mut checked = 0;
    for feed in Feed::ALL {
        for i in 0..dataset.len(feed) {
            let Some(FeedRow::Credit(row, project)) = dataset.row(feed, i) else {
                continue;
            };
            let text = serial::serial(&row, &project);
            let parsed =
                parse_row(&row, &text).unwrap_or_else(|e| panic!("{feed:?} row {i}: {text}: {e}"));
            assert_eq!(
                parsed.namespace,
                serial::namespace(&row, &project),
                "{text}"
            );
            let count = parsed.count().expect("a range");
            if row.registry == RegistryId::ISOMETRIC {
                // Synthetic ranges: one unit per kilogram.
                assert_eq!(count, formats::isometric::kilograms(&row), "{text}");
                checked += 1;
                continue;
            }
            if mismatched.contains(&text) {
                assert_ne!(count, row.quantity, "{text}");
                seen_mismatch.insert(text);
            } else {
                assert_eq!(count, row.quantity, "{feed:?} row {i}: {text}");
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "checked {checked}");
    assert_eq!(seen_mismatch, mismatched, "every mismatch case is served");
    // The 2026 scopeless Verra form and Kyoto CERs in Gold Standard both occur.
    let verra_forms: BTreeSet<usize> = (0..dataset.len(Feed::VerraIssuances))
        .filter_map(|i| match dataset.row(Feed::VerraIssuances, i) {
            Some(FeedRow::Credit(r, p)) => Some(serial::serial(&r, &p).split('-').count()),
            _ => None,
        })
        .collect();
    assert!(
        verra_forms.contains(&12) && verra_forms.contains(&13),
        "{verra_forms:?}"
    );
    let big = Dataset::new(&SimulatorConfig {
        scale: Scale::uniform(12, 120),
        ..config(5)
    })
    .expect("dataset");
    let kyoto = (0..big.len(Feed::GoldStandardCredits)).any(|i| {
        match big.row(Feed::GoldStandardCredits, i) {
            Some(FeedRow::Credit(r, p)) => {
                serial::serial(&r, &p).contains("-5-")
                    && r.registry == RegistryId::GOLD_STANDARD
                    && !serial::serial(&r, &p).starts_with("GS")
            }
            _ => false,
        }
    });
    assert!(kyoto, "a CDM CER block in Gold Standard");
}

#[test]
fn ground_truth_overlaps_are_real_and_base_issuances_do_not_overlap() {
    let dataset = Dataset::new(&config(9)).expect("dataset");
    // Issuance ranges per namespace from every feed that publishes issuance events or held units.
    let mut ranges: Vec<(String, u64, u64, String)> = Vec::new();
    for feed in [Feed::VerraIssuances, Feed::CarIssuances] {
        for i in 0..dataset.len(feed) {
            if let Some(FeedRow::Credit(r, p)) = dataset.row(feed, i) {
                ranges.push((
                    serial::namespace(&r, &p),
                    r.start,
                    r.end,
                    serial::serial(&r, &p),
                ));
            }
        }
    }
    ranges.sort();
    let expected: BTreeSet<String> = dataset
        .ground_truth()
        .iter()
        .filter(|c| c.kind == CaseKind::OverlappingIssuance)
        .flat_map(|c| c.records.iter().filter_map(|r| r.serial.clone()))
        .collect();
    for pair in ranges.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.0 == b.0 && b.1 <= a.2 {
            assert!(
                expected.contains(&a.3) && expected.contains(&b.3),
                "unexpected overlap {} / {}",
                a.3,
                b.3
            );
        }
    }
    for case in dataset.ground_truth() {
        if let Some(overlap) = &case.overlap {
            assert!(overlap.start <= overlap.end, "{}", case.id);
        }
    }
    let json = serde_json::to_string(dataset.ground_truth()).expect("serializable");
    assert!(json.contains("\"kind\":\"conversion_without_target\""));
    assert!(json.contains("\"expect_alert\":false"));
}

#[test]
fn same_seed_same_bytes_different_seed_different_data() {
    let render = |seed| {
        let dataset = Dataset::new(&config(seed)).expect("dataset");
        let mut bytes = Vec::new();
        for feed in Feed::ALL {
            for i in 0..dataset.len(feed) {
                let row = dataset.row(feed, i).expect("row");
                if formats::csv_header(feed).is_some() {
                    bytes.extend(formats::csv_rows_bytes(&dataset, feed, i, i + 1));
                } else {
                    bytes.extend(formats::json_entity(feed, &row).to_string().into_bytes());
                }
            }
        }
        (
            bytes,
            serde_json::to_string(dataset.ground_truth()).expect("json"),
        )
    };
    let (a, truth_a) = render(11);
    let (b, truth_b) = render(11);
    let (c, _) = render(12);
    assert_eq!(a, b);
    assert_eq!(truth_a, truth_b);
    assert_ne!(a, c);
}

#[test]
fn verra_export_file_streams_the_requested_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("transactions.csv");
    let written =
        carbonmesh_simulator::write_verra_transactions_csv(3, 5_001, &path).expect("write");
    assert_eq!(written, 5_001);
    let mut reader = csv::Reader::from_path(&path).expect("open");
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        fixture_header("verra/offsets-db-data_transactions.csv")
    );
    let mut rows = 0;
    for record in reader.records() {
        let record = record.expect("record");
        let quantity: u64 = record[10].replace(',', "").parse().expect("quantity");
        let parsed =
            carbonmesh_serials::parse(&record[11], Some(RegistryId::VERRA)).expect("serial");
        assert_eq!(parsed.count(), Some(quantity));
        rows += 1;
    }
    assert_eq!(rows, 5_001);
    let again = dir.path().join("again.csv");
    carbonmesh_simulator::write_verra_transactions_csv(3, 5_001, &again).expect("write");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        std::fs::read(&again).expect("read")
    );
}

/// The import benchmark's file size; run with `--ignored` (seconds in a release build).
#[test]
#[ignore]
fn verra_export_of_one_million_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("transactions.csv");
    let started = std::time::Instant::now();
    let written =
        carbonmesh_simulator::write_verra_transactions_csv(1, 1_000_000, &path).expect("write");
    let size = std::fs::metadata(&path).expect("metadata").len();
    eprintln!("{written} rows, {size} bytes in {:?}", started.elapsed());
    assert_eq!(written, 1_000_000);
}

/// At the demo's size (thousands of blocks a registry), BioCarbon serials keep the three-digit
/// sequence of the real samples (`BCR-CO-259-14-005-2-…`), parse, and stay one namespace a block.
#[test]
fn biocarbon_serials_follow_the_real_grammar_at_demo_size() {
    let dataset = Dataset::new(&SimulatorConfig {
        scale: Scale::uniform(40, 2_500),
        ..config(3)
    })
    .expect("dataset");
    let mut issuances = BTreeSet::new();
    let mut checked = 0;
    for feed in Feed::ALL {
        for i in 0..dataset.len(feed) {
            let Some(FeedRow::Credit(row, project)) = dataset.row(feed, i) else {
                continue;
            };
            if row.registry != RegistryId::BIOCARBON {
                continue;
            }
            let text = serial::serial(&row, &project);
            let sequence = text.split('-').nth(4).expect("a sequence field");
            assert_eq!(sequence.len(), 3, "{text}");
            let parsed = carbonmesh_serials::parse(&text, Some(RegistryId::BIOCARBON))
                .unwrap_or_else(|e| panic!("{feed:?} row {i}: {text}: {e}"));
            if row.state == carbonmesh_simulator::UnitState::Issued {
                issuances.insert((parsed.namespace, row.start, row.end));
            }
            checked += 1;
        }
    }
    assert!(checked > 2_500, "checked {checked}");
    // Each issuance its own namespace: no block shares units with another by accident.
    let namespaces: BTreeSet<&String> = issuances.iter().map(|(ns, _, _)| ns).collect();
    assert_eq!(namespaces.len(), issuances.len());
}
