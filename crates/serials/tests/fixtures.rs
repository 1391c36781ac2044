//! Every serial in every real registry fixture parses, and its range matches the stated
//! quantity wherever the record states one.
//!
//! The fixtures live outside the repository, beside the clone. A missing directory fails the
//! tests: they must never pass by reading nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use carbonmesh_model::RegistryId;
use carbonmesh_serials::{
    Encoded, Grammar, ParsedSerial, check_quantity, detect_registry, isometric_record, parse,
    parse_stated_quantity, parse_with_positions,
};
use rust_decimal::Decimal;
use serde_json::Value;

fn dir(registry_dir: &str) -> PathBuf {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/registries"
    ));
    assert!(
        root.is_dir(),
        "registry fixtures not found at {}: they must sit beside the repository",
        root.display()
    );
    let d = root.join(registry_dir);
    assert!(d.is_dir(), "fixture directory {} is missing", d.display());
    d
}

fn csv_rows(registry_dir: &str, file: &str) -> Vec<BTreeMap<String, String>> {
    let path = dir(registry_dir).join(file);
    let mut r = csv::Reader::from_path(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let headers = r.headers().expect("csv headers").clone();
    let rows: Vec<_> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect();
    assert!(!rows.is_empty(), "{} holds no rows", path.display());
    rows
}

fn json(registry_dir: &str, file: &str) -> Value {
    let path = dir(registry_dir).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn qty(text: &str) -> Decimal {
    parse_stated_quantity(text).unwrap_or_else(|e| panic!("{e}"))
}

fn num(v: &Value) -> Decimal {
    match v {
        Value::Number(n) => qty(&n.to_string()),
        Value::String(s) => qty(s),
        other => panic!("not a quantity: {other}"),
    }
}

fn u(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().expect("unsigned"),
        Value::String(s) => s.parse().expect("unsigned"),
        other => panic!("not a number: {other}"),
    }
}

/// Collects parse results and quantity checks for one registry and reports all failures at once.
#[derive(Default)]
struct Report {
    parsed: usize,
    checked: usize,
    failures: Vec<String>,
}

impl Report {
    fn parse(&mut self, serial: &str, registry: RegistryId) -> Option<ParsedSerial> {
        match parse(serial, Some(registry)) {
            Ok(p) => {
                self.parsed += 1;
                // The same serial without the registry hint must detect the same owner.
                let auto = parse(serial, None).map(|a| a.registry).ok();
                if auto != Some(p.registry) {
                    self.failures.push(format!(
                        "{serial}: detected as {auto:?}, hinted {}",
                        p.registry
                    ));
                }
                if detect_registry(serial) != Some(p.registry) {
                    self.failures
                        .push(format!("{serial}: detect_registry disagrees"));
                }
                // Canonical form round-trips.
                if p.range.is_some() && p.grammar() != Grammar::Cercarbono {
                    let again = parse(&p.to_string(), Some(registry));
                    if again.as_ref() != Ok(&p) {
                        self.failures
                            .push(format!("{serial}: canonical `{p}` re-parses as {again:?}"));
                    }
                }
                Some(p)
            }
            Err(e) => {
                self.failures.push(format!("{serial}: {e}"));
                None
            }
        }
    }

    fn check(&mut self, p: &ParsedSerial, stated: Decimal, known: &[(&str, &str)]) {
        self.checked += 1;
        if let Err(m) = check_quantity(p, stated) {
            let serial = p.to_string();
            if !known.iter().any(|(s, _)| *s == serial) {
                self.failures.push(format!("{serial}: {m}"));
            }
        }
    }

    fn finish(self, what: &str, min_parsed: usize) {
        assert!(
            self.failures.is_empty(),
            "{what}: {} failures:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(
            self.parsed >= min_parsed,
            "{what}: only {} serials parsed, expected at least {min_parsed}",
            self.parsed
        );
        eprintln!(
            "{what}: {} serials parsed, {} quantities checked",
            self.parsed, self.checked
        );
    }
}

/// Quantity mismatches that are real in the data. None has been found in the fixtures: every
/// stated quantity equals `end - start + 1`.
const KNOWN_MISMATCHES: &[(&str, &str)] = &[];

#[test]
fn verra_fixtures() {
    let mut r = Report::default();
    let mut eras = BTreeSet::new();
    for row in csv_rows("verra", "offsets-db-data_transactions.csv") {
        let serial = &row["Serial Number"];
        if let Some(p) = r.parse(serial, RegistryId::VERRA) {
            assert_eq!(p.namespace, "verra");
            r.check(&p, qty(&row["Quantity Issued"]), KNOWN_MISMATCHES);
            if let Encoded::Verra(f) = &p.encoded {
                eras.insert(f.era().as_str());
                assert_eq!(f.country.as_str().len(), 2);
                assert_eq!(format!("VCS{}", f.project_id), format!("VCS{}", row["ID"]));
                // The trailing flag is 1 exactly when additional certifications are listed.
                assert_eq!(
                    f.additional_certification,
                    !row["Additional Certifications"].trim().is_empty(),
                    "{serial}"
                );
            }
        }
    }
    let platts = json(
        "verra",
        "rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
    );
    for (_, page) in platts.as_object().expect("object") {
        for e in page["entities"].as_array().expect("entities") {
            let serial = e
                .get("serialNo")
                .or(e.get("serial_no"))
                .and_then(Value::as_str);
            let serial = match (e.get("serialNo"), e.get("serial_no")) {
                (Some(Value::String(s)), _) | (_, Some(Value::String(s))) => s.as_str(),
                _ => {
                    assert!(serial.is_none());
                    continue;
                }
            };
            let Some(p) = r.parse(serial, RegistryId::VERRA) else {
                continue;
            };
            if let Encoded::Verra(f) = &p.encoded {
                eras.insert(f.era().as_str());
            }
            r.check(&p, num(&e["holdingQuantity"]), KNOWN_MISMATCHES);
            if let (Some(bs), Some(be)) = (e.get("block_start"), e.get("block_end"))
                && !bs.is_null()
            {
                let parts = parse_with_positions(serial, u(bs), u(be), Some(RegistryId::VERRA))
                    .expect("block_start/block_end inside the serial");
                assert_eq!(parts, p, "separate block bounds equal the serial's");
            }
        }
    }
    assert!(
        eras.contains("vcs") && eras.contains("vcs-2026"),
        "{eras:?}"
    );
    r.finish("verra", 140);
}

#[test]
fn gold_standard_fixtures() {
    let mut r = Report::default();
    for file in [
        "offsets-db-data_issuances.csv",
        "offsets-db-data_retirements.csv",
    ] {
        for row in csv_rows("gold-standard", file) {
            let serial = &row["Serial Number"];
            let Some(p) = r.parse(serial, RegistryId::GOLD_STANDARD) else {
                continue;
            };
            if row["Product Type"] == "CER" {
                // CDM units held in Gold Standard stay in the CDM namespace.
                assert_eq!(p.registry, RegistryId::CDM, "{serial}");
                assert!(p.namespace.starts_with("cdm:"));
            } else {
                assert_eq!(p.registry, RegistryId::GOLD_STANDARD, "{serial}");
                assert_eq!(p.project_id(), Some(format!("GS{}", row["GSID"])));
                if let Encoded::GoldStandard(f) = &p.encoded {
                    assert_eq!(f.vintage.to_string(), row["Vintage"]);
                }
            }
            r.check(&p, qty(&row["Quantity"]), KNOWN_MISMATCHES);
        }
    }
    let credits = json("gold-standard", "rb-carbon-scraper_gs-credits.json");
    let mut batch_1302 = BTreeSet::new();
    for c in credits.as_array().expect("array") {
        let serial = c["serial_number"].as_str().expect("serial_number");
        let Some(p) = r.parse(serial, RegistryId::GOLD_STANDARD) else {
            continue;
        };
        r.check(&p, num(&c["number_of_credits"]), KNOWN_MISMATCHES);
        let parts = parse_with_positions(
            serial,
            u(&c["starting_credit_number"]),
            u(&c["ending_credit_number"]),
            Some(RegistryId::GOLD_STANDARD),
        )
        .expect("starting/ending credit numbers");
        assert_eq!(parts, p);
        if let Encoded::GoldStandard(f) = &p.encoded {
            assert_eq!(f.batch, u(&c["batch_number"]));
            if f.batch == 1302 {
                batch_1302.insert(p.namespace.clone());
            }
        }
    }
    // The three sub-ranges of batch 1302 are one batch: one namespace.
    assert_eq!(batch_1302.len(), 1, "{batch_1302:?}");
    r.finish("gold-standard", 145);
}

#[test]
fn kyoto_cer_serial_from_gold_standard() {
    // The documented CER row of GSID 4823 (the fixture slice stops before those rows).
    let s = "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014";
    let p = parse(s, Some(RegistryId::GOLD_STANDARD)).expect("kyoto");
    assert_eq!(p.registry, RegistryId::CDM);
    assert_eq!(p.namespace, "cdm:RW-5");
    assert_eq!(p.count(), Some(3657));
    check_quantity(&p, Decimal::from(3657)).expect("quantity");
    assert_eq!(p.to_string(), s);
}

#[test]
fn acr_fixtures() {
    let mut r = Report::default();
    for file in [
        "offsets-db-data_retirements.csv",
        "offsets-db-data_cancellations.csv",
    ] {
        for row in csv_rows("american-carbon-registry", file) {
            if let Some(p) = r.parse(&row["Credit Serial Numbers"], RegistryId::ACR) {
                r.check(&p, qty(&row["Quantity of Credits"]), KNOWN_MISMATCHES);
                // Project ids are normalised numerically (`ACR407`, `ACR0885`).
                let id = row["Project ID"]
                    .trim_start_matches("ACR")
                    .trim_start_matches('0');
                assert_eq!(p.project_id(), Some(format!("ACR{id}")));
            }
        }
    }
    for (file, key) in [
        ("rb-carbon-scraper_acr-issuances.json", "issuedCredits"),
        ("rb-carbon-scraper_acr-retirements.json", "retiredCredits"),
        (
            "rb-carbon-scraper_acr-cancellations.json",
            "cancelledCredits",
        ),
    ] {
        let v = json("american-carbon-registry", file);
        for row in v["datasets"][key]["rows"].as_array().expect("rows") {
            let serial = row["holdingSerialNumber"].as_str().expect("serial");
            if let Some(p) = r.parse(serial, RegistryId::ACR) {
                // `holdingQuantity` is the block; `issuanceQuantity` is the parent event.
                r.check(&p, num(&row["holdingQuantity"]), KNOWN_MISMATCHES);
            }
        }
    }
    let a = parse("ACR-FR-1129-2025-2917-30932 to 35143", None).expect("acr");
    let b = parse("ACR-FR-1129-2025-2917-4751 to 23327", None).expect("acr");
    assert_eq!(a.namespace, b.namespace);
    r.finish("acr", 150);
}

#[test]
fn car_fixtures() {
    let mut r = Report::default();
    let mut roc = 0;
    for file in [
        "offsets-db-data_retirements.csv",
        "offsets-db-data_cancellations.csv",
    ] {
        for row in csv_rows("climate-action-reserve", file) {
            if let Some(p) = r.parse(&row["Offset Credit Serial Numbers"], RegistryId::CAR) {
                r.check(
                    &p,
                    qty(&row["Quantity of Offset Credits"]),
                    KNOWN_MISMATCHES,
                );
                assert_eq!(p.project_id().as_deref(), Some(row["Project ID"].as_str()));
                if let Encoded::Car(f) = &p.encoded
                    && f.unit_kind == carbonmesh_serials::CarUnit::Roc
                {
                    roc += 1;
                }
            }
        }
    }
    assert!(roc > 0, "CAR-ROC serials are in the cancellations");
    r.finish("car", 100);
}

#[test]
fn art_fixtures() {
    let mut r = Report::default();
    let mut fcpf = 0;
    for file in [
        "offsets-db-data_retirements.csv",
        "offsets-db-data_cancellations.csv",
    ] {
        for row in csv_rows("art-trees", file) {
            if let Some(p) = r.parse(&row["Credit Serial Numbers"], RegistryId::ART) {
                r.check(&p, qty(&row["Quantity of Credits"]), KNOWN_MISMATCHES);
                assert_eq!(p.project_id().as_deref(), Some(row["Program ID"].as_str()));
                if let Encoded::Art(f) = &p.encoded
                    && f.program == carbonmesh_serials::ArtProgram::Fcpf
                {
                    fcpf += 1;
                }
            }
        }
    }
    assert!(fcpf > 0);
    r.finish("art", 11);
}

/// Serials inside the Python-repr lists of CarbonPlan's Cercarbono project CSV.
fn repr_serials(text: &str) -> Vec<String> {
    text.split("'serial': '")
        .skip(1)
        .filter_map(|t| t.split('\'').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn cercarbono_fixtures() {
    let mut r = Report::default();
    for row in csv_rows("cercarbono", "offsets-db-data_issuances.csv") {
        let serial = &row["serial"];
        let Some(p) = r.parse(serial, RegistryId::CERCARBONO) else {
            continue;
        };
        assert!(p.range.is_none(), "a batch serial carries no range");
        assert_eq!(p.namespace, format!("cercarbono:{serial}"));
        let is_buffer = row["is_buffer"] == "True";
        if let Encoded::Cercarbono(f) = &p.encoded {
            assert_eq!(f.buffer.is_some(), is_buffer, "{serial}");
        }
        // An issuance row covers issued_quantity positions of its batch.
        let q = qty(&row["issued_quantity"]);
        let n = u64::try_from(q.trunc().mantissa()).expect("quantity");
        let whole =
            parse_with_positions(serial, 1, n, Some(RegistryId::CERCARBONO)).expect("positions");
        r.check(&whole, q, KNOWN_MISMATCHES);
    }
    for row in csv_rows("cercarbono", "offsets-db-data_retirements.csv") {
        let serial = &row["serial"];
        r.parse(serial, RegistryId::CERCARBONO);
        let p = parse_with_positions(
            serial,
            row["from"].parse().expect("from"),
            row["to"].parse().expect("to"),
            Some(RegistryId::CERCARBONO),
        )
        .unwrap_or_else(|e| panic!("{serial}: {e}"));
        r.check(&p, qty(&row["quantity"]), KNOWN_MISMATCHES);
    }
    for row in csv_rows("cercarbono", "offsets-db-data_projects-first12.csv") {
        for serial in repr_serials(&row["serials"]) {
            r.parse(&serial, RegistryId::CERCARBONO);
        }
    }
    let mut migrated = 0;
    let v = json(
        "cercarbono",
        "rb-carbon-scraper_cercarbono-retirements.json",
    );
    for row in v["retirements"].as_array().expect("retirements") {
        let serial = row["serial"].as_str().expect("serial");
        if let Some(p) = r.parse(serial, RegistryId::CERCARBONO) {
            // The analytics feed has no from/to: the quantity cannot be checked, and says so.
            assert!(check_quantity(&p, num(&row["quantity"])).is_err());
            if let Encoded::Cercarbono(f) = &p.encoded
                && f.converted_from_registry() == Some(RegistryId::BIOCARBON)
            {
                migrated += 1;
                assert_eq!(p.registry, RegistryId::CERCARBONO);
            }
        }
    }
    assert!(migrated > 0, "BCR2CDC_ serials are in the retirement feed");
    let v = json("cercarbono", "rb-carbon-scraper_cercarbono-projects.json");
    for p in v["projects"].as_array().expect("projects") {
        for serial in p["serials"].as_str().unwrap_or_default().split_whitespace() {
            r.parse(serial, RegistryId::CERCARBONO);
        }
    }
    r.finish("cercarbono", 400);
}

#[test]
fn biocarbon_fixtures() {
    let mut r = Report::default();
    let v = json(
        "biocarbon",
        "rb-carbon-scraper_biocarbon-carbon-credits.json",
    );
    for row in v["data"].as_array().expect("data") {
        let serial = row["serial"].as_str().expect("serial");
        if let Some(p) = r.parse(serial, RegistryId::BIOCARBON) {
            r.check(&p, num(&row["amount"]), KNOWN_MISMATCHES);
        }
    }
    let v = json(
        "biocarbon",
        "rb-carbon-scraper_biocarbon-retreats-page1.json",
    );
    for row in v["data"].as_array().expect("data") {
        let serial = row["serial"].as_str().expect("serial");
        let Some(p) = r.parse(serial, RegistryId::BIOCARBON) else {
            continue;
        };
        let parts = parse_with_positions(
            serial,
            u(&row["initial_serial"]),
            u(&row["final_serial"]),
            Some(RegistryId::BIOCARBON),
        )
        .unwrap_or_else(|e| panic!("{serial}: {e}"));
        assert_eq!(parts.namespace, p.namespace);
        r.check(&parts, num(&row["sold"]), KNOWN_MISMATCHES);
    }
    let v = json(
        "biocarbon",
        "rb-carbon-scraper_biocarbon-cancellations.json",
    );
    for (_, page) in v.as_object().expect("object") {
        for row in page["data"].as_array().expect("data") {
            let serial = row["serial"].as_str().expect("serial");
            if let Some(p) = r.parse(serial, RegistryId::BIOCARBON) {
                r.check(&p, num(&row["amount"]), KNOWN_MISMATCHES);
            }
        }
    }
    r.finish("biocarbon", 180);
}

#[test]
fn puro_fixtures() {
    let mut r = Report::default();
    let mut legacy = 0;
    for file in [
        "rb-carbon-scraper_puro-retirements.json",
        "rb-carbon-scraper_puro-issuances.json",
    ] {
        let v = json("puro-earth", file);
        for tx in v.as_array().expect("transactions") {
            let mut total = Decimal::ZERO;
            for b in tx["bundles"].as_array().expect("bundles") {
                let serial = b["certificates"].as_str().expect("certificates");
                let Some(p) = r.parse(serial, RegistryId::PURO) else {
                    continue;
                };
                r.check(&p, num(&b["volume"]), KNOWN_MISMATCHES);
                total += num(&b["volume"]);
                let Encoded::Puro(f) = &p.encoded else {
                    panic!("puro fields")
                };
                if let Some(prefix) = &f.legacy_prefix {
                    legacy += 1;
                    assert_eq!(p.namespace, format!("puro:legacy:{}", prefix.as_str()));
                    let start = b["_start"].as_str().expect("_start");
                    assert_eq!(&start[..18], prefix.as_str());
                    assert_eq!(start[18..].parse::<u64>().ok(), p.start());
                } else {
                    assert_eq!(b["_start"].as_str().and_then(|s| s.parse().ok()), p.start());
                    assert_eq!(b["_end"].as_str().and_then(|s| s.parse().ok()), p.end());
                    assert_eq!(
                        p.namespace,
                        format!("puro:{}", b["issuanceId"].as_str().expect("issuanceId"))
                    );
                }
                let w = f.wrapper.as_ref().expect("wrapper");
                assert_eq!(
                    w.credit_type.as_str(),
                    b["creditType"].as_str().expect("type")
                );
                assert_eq!(
                    p.project_id().as_deref(),
                    b["productionFacilityCode"].as_str()
                );
            }
            assert_eq!(
                total,
                num(&tx["volume"]),
                "bundles add up to the transaction"
            );
        }
    }
    assert!(legacy > 0, "legacy 30-digit ranges are in the fixture");
    r.finish("puro", 60);
}

#[test]
fn isometric_fixtures() {
    let mut n = 0;
    for (file, id_col) in [
        ("offsets-db-data_issuances.csv", "id"),
        ("offsets-db-data_retirements.csv", "retirement_id"),
    ] {
        for row in csv_rows("isometric", file) {
            let kgs: u64 = row["credit_batch_size_total.credit_kgs"]
                .parse()
                .expect("kgs");
            let p = isometric_record(&row[id_col], kgs).expect("synthetic range");
            assert_eq!(p.namespace, format!("isometric:{}", row[id_col]));
            check_quantity(&p, qty(&row["credit_batch_size_total.credits"]))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(parse(&p.to_string(), Some(RegistryId::ISOMETRIC)), Ok(p));
            n += 1;
        }
    }
    assert!(n >= 140);
}

#[test]
fn arb_publishes_no_serials() {
    let rows = csv_rows("carb-arb", "offsets-db-data_nc-arboc_issuance_sheet3.csv");
    assert!(!rows[0].keys().any(|k| k.to_lowercase().contains("serial")));
    assert_eq!(
        parse("CAOD1007-A", Some(RegistryId::ARB)),
        Err(carbonmesh_serials::SerialError::NoSerials(RegistryId::ARB))
    );
}

#[test]
fn toucan_token_names_a_verra_project() {
    // The token record carries no serial; its project is the Verra project a bridged serial
    // names, and a bridged Verra serial lives in `verra` like any other.
    let v = json("toucan", "toucan-sdk_README_tco2-token-example.json");
    assert_eq!(v["projectVintage"]["project"]["projectId"], "VCS-1718");
    let p = parse(
        "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
        None,
    )
    .expect("verra");
    assert_eq!(p.namespace, "verra");
}
