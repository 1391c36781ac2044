//! `carbonmesh import` of every real registry sample, and `carbonmesh export` of the result;
//! a registry described only by a TOML file, imported and exported like a built-in one.

use std::path::{Path, PathBuf};

use carbonmesh_e2e::{carbonmesh, fixtures, run};

/// Parses the summary lines
/// `FILE: N rows read; records new N, changed N, unchanged N; rejected N`.
fn summary(stdout: &str) -> Vec<(String, [u64; 5])> {
    stdout
        .lines()
        .filter_map(|line| {
            let (file, counts) = line.rsplit_once(": ")?;
            let numbers: Vec<u64> = counts
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect();
            counts.contains(" rows read; records new ").then_some(())?;
            Some((file.to_owned(), numbers.try_into().ok()?))
        })
        .collect()
}

/// The header of Verra's VCU export.
const VERRA_HEADER: &str = "Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details";

/// One issuance row of Verra's VCU export: project 1340 named `name`, `quantity` units, one
/// unit number `serial`.
fn verra_row(name: &str, quantity: &str, serial: u64) -> String {
    format!(
        "2026-04-03,,2020-01-01,2020-12-31,1340,{name},Ethiopia,AFOLU,VM0015,\"1,000\",{quantity},19385-{serial}-{serial}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1,,,,,"
    )
}

#[test]
fn every_sample_of_the_five_largest_registries_imports_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (registry, folder) in [
        ("verra", "verra"),
        ("gold-standard", "gold-standard"),
        ("acr", "american-carbon-registry"),
        ("car", "climate-action-reserve"),
        ("arb", "carb-arb"),
    ] {
        let files: Vec<PathBuf> = fixtures(folder);
        let first = run(carbonmesh(dir.path())
            .args(["import", "--registry", registry])
            .args(&files));
        assert!(
            first.status.success(),
            "{registry}: {}",
            String::from_utf8_lossy(&first.stderr)
        );
        let lines = summary(&String::from_utf8_lossy(&first.stdout));
        assert_eq!(
            lines.len(),
            files.len(),
            "{registry}: one summary line per file"
        );
        for (file, [read, new, _, _, rejected]) in &lines {
            assert!(*read > 0, "{file} read nothing");
            assert!(*new > 0, "{file} stored nothing");
            assert_eq!(*rejected, 0, "{file}: the real samples hold no bad rows");
        }

        // Each file again, right after itself: nothing new, nothing changed. (Two files of one
        // registry may describe a project differently, e.g. CAR's two project exports; then
        // importing them in turn records each as a change, which is what the history is for.)
        for file in &files {
            let once = run(carbonmesh(dir.path())
                .args(["import", "--registry", registry])
                .arg(file));
            let twice = run(carbonmesh(dir.path())
                .args(["import", "--registry", registry])
                .arg(file));
            assert!(once.status.success() && twice.status.success());
            for (file, [read, new, changed, unchanged, _]) in
                summary(&String::from_utf8_lossy(&twice.stdout))
            {
                assert_eq!((new, changed), (0, 0), "{file} changed on re-import");
                assert!(unchanged >= read, "{file}: {unchanged} unchanged of {read}");
            }
        }
    }

    let export =
        run(carbonmesh(dir.path()).args(["export", "--what", "credits", "--format", "csv"]));
    assert!(export.status.success());
    let text = String::from_utf8_lossy(&export.stdout);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    for column in [
        "registry",
        "project_id",
        "transaction_type",
        "quantity",
        "vintage",
        "serial",
        "namespace",
        "serial_start",
        "serial_end",
        "event_date",
        "status",
    ] {
        assert!(
            header.iter().any(|h| h == column),
            "credits export lacks {column}"
        );
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let registries: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r.get(0)).collect();
    assert_eq!(
        registries.into_iter().collect::<Vec<_>>(),
        ["acr", "arb", "car", "gold-standard", "verra"]
    );
    // Every row with a serial kept its integer range.
    let serial = header.iter().position(|h| h == "serial").expect("serial");
    let start = header
        .iter()
        .position(|h| h == "serial_start")
        .expect("start");
    for row in &rows {
        if !row[serial].is_empty() {
            assert!(
                row[start].parse::<u64>().is_ok(),
                "serial {} has no range",
                &row[serial]
            );
        }
    }

    let jsonl =
        run(carbonmesh(dir.path()).args(["export", "--what", "projects", "--format", "jsonl"]));
    assert!(jsonl.status.success());
    for line in String::from_utf8_lossy(&jsonl.stdout).lines() {
        let project: serde_json::Value = serde_json::from_str(line).expect("json line");
        assert!(project["registry_project_id"].is_string());
    }
}

/// Imports `files` of `registry` into the database in `dir` (with `global` arguments before
/// the command), checking that every file stores something, then imports each file again,
/// twice, checking that the second import changes nothing. Returns the rejected count per file.
fn import_each_once(
    dir: &Path,
    global: &[&str],
    registry: &str,
    files: &[PathBuf],
) -> Vec<(String, u64)> {
    let first = run(carbonmesh(dir)
        .args(global)
        .args(["import", "--registry", registry])
        .args(files));
    assert!(
        first.status.success(),
        "{registry}: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    let lines = summary(&String::from_utf8_lossy(&first.stdout));
    assert_eq!(
        lines.len(),
        files.len(),
        "{registry}: one summary line per file"
    );
    // A file may restate a record another file of the batch stored (a project's detail page
    // beside the project list): then it stores a new version rather than a new record.
    for (file, [read, new, changed, _, _]) in &lines {
        assert!(*read > 0, "{file} read nothing");
        assert!(new + changed > 0, "{file} stored nothing");
    }
    for file in files {
        for _ in 0..2 {
            let again = run(carbonmesh(dir)
                .args(global)
                .args(["import", "--registry", registry])
                .arg(file));
            assert!(
                again.status.success(),
                "{}",
                String::from_utf8_lossy(&again.stderr)
            );
        }
        let twice = run(carbonmesh(dir)
            .args(global)
            .args(["import", "--registry", registry])
            .arg(file));
        for (file, [read, new, changed, unchanged, rejected]) in
            summary(&String::from_utf8_lossy(&twice.stdout))
        {
            assert_eq!((new, changed), (0, 0), "{file} changed on re-import");
            assert!(
                unchanged + rejected >= read,
                "{file}: {unchanged} unchanged and {rejected} rejected of {read}"
            );
        }
    }
    lines
        .into_iter()
        .map(|(file, [.., rejected])| (file, rejected))
        .collect()
}

fn export_jsonl(dir: &Path, global: &[&str], what: &str) -> Vec<serde_json::Value> {
    let output = run(carbonmesh(dir)
        .args(global)
        .args(["export", "--what", what, "--format", "jsonl"]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn every_sample_of_art_isometric_puro_cercarbono_and_biocarbon_imports_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let registries = [
        ("art", "art-trees"),
        ("isometric", "isometric"),
        ("puro", "puro-earth"),
        ("cercarbono", "cercarbono"),
        ("biocarbon", "biocarbon"),
    ];
    for (registry, folder) in registries {
        let files = fixtures(folder);
        assert!(!files.is_empty(), "{folder} holds no samples");
        for (file, rejected) in import_each_once(dir.path(), &[], registry, &files) {
            // One BioCarbon project states a quantification period ending 26 years before
            // it starts; every other real row is good.
            let expected =
                u64::from(file.ends_with("rb-carbon-scraper_biocarbon-projects-page1.json"));
            assert_eq!(rejected, expected, "{file}: rejected rows");
        }
    }
    for rejection in export_jsonl(dir.path(), &[], "rejected") {
        assert_eq!(rejection["connector"], "biocarbon", "{rejection}");
        assert!(
            rejection["reason"]
                .as_str()
                .is_some_and(|r| r.contains("before it starts")),
            "{rejection}"
        );
    }

    let credits = export_jsonl(dir.path(), &[], "credits");
    let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    assert!(credits.len() > 300, "{} credit records", credits.len());
    for credit in &credits {
        let registry = credit["registry"].as_str().expect("registry").to_owned();
        assert!(
            credit["registry_project_id"]
                .as_str()
                .is_some_and(|p| !p.is_empty()),
            "{credit}"
        );
        // Serials become integer ranges (a migrated Cercarbono batch without positions
        // keeps its serial as text only).
        if credit["serial_range"]["start"].is_u64() {
            seen.insert(registry);
        }
    }
    for (registry, _) in registries {
        assert!(
            seen.contains(registry),
            "no {registry} credit exported with a serial range"
        );
    }
}

/// A registry carbonmesh has no Rust for: one CSV ledger and its TOML description.
const LEDGER_CSV: &str = "\
Entry,Kind,Project Code,Tonnes,Serial Block,Vintage,Date,Retired For
E-1,issue,TL-001,500,TL-BR-001-2022-1-500,2022,2024-01-15,
E-2,retire,TL-001,200,TL-BR-001-2022-1-200,2022,2024-03-02,Acme Foods
E-3,issue,TL-002,1000,TL-KE-002-2023-1001-2000,2023,2024-04-10,
E-4,retire,TL-002,1000,TL-KE-002-2023-1001-2000,2023,2024-05-20,Beta Airlines
E-5,retire,TL-002,10,not a serial,2023,2024-05-21,Gamma
";

const LEDGER_TOML: &str = r#"
registry = "tonne-ledger"

[serial]
regex = '^(?P<namespace>TL-[A-Z]{2}-\d{3}-\d{4})-(?P<start>\d+)-(?P<end>\d+)$'

[feeds.transactions]
format = "csv"
key = "entry:{column:Entry}"
detect = { columns = ["Entry"] }

[feeds.transactions.transaction]
column = "Kind"
map = { issue = "issuance", retire = "retirement" }
unmapped = "reject"

[feeds.transactions.fields]
project_id = "Project Code"
quantity = "Tonnes"
serial = "Serial Block"
vintage = "Vintage"
event_date = "Date"
beneficiary = "Retired For"
"#;

#[test]
fn a_registry_described_only_in_toml_imports_and_exports_like_a_built_in_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ledger.csv"), LEDGER_CSV).expect("write csv");
    std::fs::write(dir.path().join("tonne-ledger.toml"), LEDGER_TOML).expect("write toml");
    std::fs::write(
        dir.path().join("carbonmesh.toml"),
        "[database]\nurl = \"generic.db\"\n\n[generic.tonne-ledger]\nfile = \"tonne-ledger.toml\"\n",
    )
    .expect("write config");
    let global = ["--config", "carbonmesh.toml"];

    // Without the configuration the id is unknown.
    let unknown = run(carbonmesh(dir.path()).args([
        "--database",
        "generic.db",
        "import",
        "--registry",
        "tonne-ledger",
        "ledger.csv",
    ]));
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("unknown registry `tonne-ledger`"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );

    let rejected = import_each_once(
        dir.path(),
        &global,
        "tonne-ledger",
        &[PathBuf::from("ledger.csv")],
    );
    assert_eq!(
        rejected,
        [("ledger.csv".to_owned(), 1)],
        "the bad serial only"
    );

    let credits = export_jsonl(dir.path(), &global, "credits");
    assert_eq!(credits.len(), 4, "{credits:?}");
    let entry = |key: &str| {
        credits
            .iter()
            .find(|c| c["record_key"] == key)
            .unwrap_or_else(|| panic!("no {key} in {credits:?}"))
    };
    let e3 = entry("entry:E-3");
    assert_eq!(e3["registry"], "tonne-ledger");
    assert_eq!(e3["registry_project_id"], "TL-002");
    assert_eq!(e3["transaction_type"]["value"], "issuance");
    assert_eq!(e3["quantity"], "1000");
    assert_eq!(
        e3["serial_range"],
        serde_json::json!({"namespace": "tonne-ledger:TL-KE-002-2023", "start": 1001, "end": 2000})
    );
    let e2 = entry("entry:E-2");
    assert_eq!(e2["transaction_type"]["value"], "retirement");
    assert_eq!(e2["beneficiary"], "Acme Foods");
    assert_eq!(e2["serial_range"]["end"], 200);

    // The CSV export carries the same rows with the project id prefixed by the new registry.
    let csv = run(carbonmesh(dir.path())
        .args(global)
        .args(["export", "--what", "credits"]));
    assert!(csv.status.success());
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(
        text.contains("tonne-ledger,tonne-ledger:TL-002,entry:E-3,issuance"),
        "{text}"
    );

    let rejected = export_jsonl(dir.path(), &global, "rejected");
    assert!(
        rejected
            .iter()
            .any(|r| r["connector"] == "tonne-ledger" && r["field"] == "Serial Block"),
        "{rejected:?}"
    );
}

#[test]
fn an_import_that_rejects_most_rows_says_so_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("vcus.csv");
    // A Verra export whose quantities are not numbers, but one.
    let row = |quantity: &str, serial: u64| verra_row("Bale Mountains", quantity, serial);
    let text = [
        VERRA_HEADER.to_owned(),
        row("1", 941467007),
        row("one", 941467008),
        row("two", 941467009),
    ]
    .join("\n");
    std::fs::write(&file, text).expect("write");
    let import = |extra: &[&str]| {
        run(carbonmesh(dir.path())
            .args(["import", "--registry", "verra"])
            .args(extra)
            .arg(&file))
    };

    let out = import(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("2 of 3 rows rejected, more than the 50% allowed"),
        "{stderr}"
    );
    let lines = summary(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines[0].1, [3, 1, 0, 0, 2], "{lines:?}");
    let runs = run(carbonmesh(dir.path()).args(["export", "--what", "runs", "--format", "jsonl"]));
    let runs = String::from_utf8_lossy(&runs.stdout);
    assert!(runs.contains("\"status\":\"rejected\""), "{runs}");

    // The user may allow more; the rejected rows are kept once however often they are read.
    let out = import(&["--max-rejected", "80"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rejected =
        run(carbonmesh(dir.path()).args(["export", "--what", "rejected", "--format", "jsonl"]));
    let rejected = String::from_utf8_lossy(&rejected.stdout);
    assert_eq!(rejected.lines().count(), 2, "{rejected}");
    assert!(rejected.contains("\"seen_count\":2"), "{rejected}");
}

/// `carbonmesh import --registry verra FILE`, which must succeed: the summary's counts of the
/// file (rows read, new, changed, unchanged, rejected).
fn import_verra(dir: &Path, file: &Path) -> [u64; 5] {
    import_one(dir, "verra", file)
}

/// `carbonmesh import --registry REGISTRY FILE` without `--kind`, which must succeed: the
/// summary's counts of the file (rows read, new, changed, unchanged, rejected).
fn import_one(dir: &Path, registry: &str, file: &Path) -> [u64; 5] {
    let out = run(carbonmesh(dir)
        .args(["import", "--registry", registry])
        .arg(file));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not a terminal: no progress line.
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains('\r'),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = summary(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines[0].1
}

/// On a terminal an import draws its progress (records, rate, pages) on one line it redraws,
/// and clears it before the summary.
#[test]
fn an_import_on_a_terminal_shows_its_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("vcus.csv");
    let text = [
        VERRA_HEADER.to_owned(),
        verra_row("Bale Mountains", "1", 941467007),
        verra_row("Bale Mountains", "1", 941467009),
    ]
    .join("\n")
        + "\n";
    std::fs::write(&file, text).expect("write");
    // `script` gives the command a terminal and records what it drew.
    let command = format!(
        "{} import --registry verra {}",
        carbonmesh_e2e::binary().display(),
        file.display()
    );
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CARBONMESH_") {
            script.env_remove(key);
        }
    }
    let out = run(&mut script);
    let drawn = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{drawn}");
    assert!(
        drawn.contains("\r\x1b[2K  ") && drawn.contains(" records, ") && drawn.contains("/s, "),
        "{drawn:?}"
    );
    assert!(drawn.contains("vcus.csv: 2 rows"), "{drawn:?}");
}

#[test]
fn a_stray_quote_costs_only_its_own_row_and_keeps_its_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("vcus.csv");
    let row = |name: &str, serial: u64| verra_row(name, "1", serial);
    let text = [
        VERRA_HEADER.to_owned(),
        row("Bale Mountains", 941467007),
        // An opening quote that is never closed on its line.
        row("\"Bale Mountains", 941467008),
        row("Bale Mountains", 941467009),
        row("Bale \"Mountains\" REDD", 941467010),
    ]
    .join("\n")
        + "\n";
    std::fs::write(&file, text).expect("write");
    let [_, new, _, _, rejected] = import_verra(dir.path(), &file);
    assert_eq!((new, rejected), (3, 1));
    let kept =
        run(carbonmesh(dir.path()).args(["export", "--what", "rejected", "--format", "jsonl"]));
    let kept = String::from_utf8_lossy(&kept.stdout);
    assert_eq!(kept.lines().count(), 1, "{kept}");
    assert!(
        kept.contains("941467008"),
        "the broken row's text is kept: {kept}"
    );
}

#[test]
fn rows_that_are_not_utf8_are_read_as_latin1_with_a_warning_on_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("vcus.csv");
    let mut bytes = format!("{VERRA_HEADER}\n").into_bytes();
    // "Bogotá" in Latin-1: one byte 0xE1 that is not UTF-8.
    bytes.extend_from_slice(b"2026-04-03,,2020-01-01,2020-12-31,1340,Bogot\xe1 Forest,Colombia,AFOLU,VM0015,\"1,000\",1,19385-941467007-941467007-VCS-VCU-1507-VER-CO-14-1340-01012020-31122020-1,,,,,\n");
    std::fs::write(&file, bytes).expect("write");
    let out = run(carbonmesh(dir.path())
        .args(["import", "--registry", "verra"])
        .arg(&file));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 row(s) were not UTF-8 and were read as Latin-1 (line 2)"),
        "{stderr}"
    );
    let runs = run(carbonmesh(dir.path()).args(["export", "--what", "runs", "--format", "jsonl"]));
    let runs = String::from_utf8_lossy(&runs.stdout);
    assert!(runs.contains("read as Latin-1"), "{runs}");
    assert!(runs.contains("\"status\":\"complete\""), "{runs}");
    // The row itself was stored.
    let credits =
        run(carbonmesh(dir.path()).args(["export", "--what", "credits", "--format", "jsonl"]));
    assert!(String::from_utf8_lossy(&credits.stdout).contains("941467007"));
}

/// A response saved from Verra's uiapi asset search imports as the VCU export does, its kind
/// told from its keys, and the same blocks from the CSV then change nothing.
#[test]
fn a_saved_verra_asset_search_imports_without_a_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let block = |quantity: u64, start: u64, retired: Option<&str>| {
        let end = start + quantity - 1;
        serde_json::json!({
            "issuanceDate": "2026-04-03T00:00:00",
            "vintageStart": "2020-01-01T00:00:00",
            "vintageEnd": "2020-12-31T00:00:00",
            "resourceIdentifier": 1340,
            "resourceName": "Bale Mountains Eco-region REDD+ project",
            "country": "Ethiopia",
            "protocolCategory": "Agriculture Forestry and Other Land Use",
            "protocol": "VM0015",
            "totalVintageQuantity": 1454054,
            "quantity": quantity,
            "serialNumbers": format!("19385-{start}-{end}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1"),
            "retiredCancelled": retired.is_some(),
            "retireOrCancelDate": retired.map(|d| format!("{d}T00:00:00")),
            "retirementBeneficiary": retired.map(|_| "Acme Airlines"),
        })
    };
    let saved = serde_json::json!({
        "totalCount": 2,
        "countExceeded": false,
        "value": [block(425, 941467007, Some("2026-04-10")), block(100, 941467432, None)],
    });
    let file = dir.path().join("asset-search.json");
    std::fs::write(&file, serde_json::to_vec(&saved).expect("JSON")).expect("write");
    assert_eq!(import_verra(dir.path(), &file), [2, 2, 0, 0, 0]);
    let credits = export_jsonl(dir.path(), &[], "credits");
    let retired = credits
        .iter()
        .find(|c| c["transaction_type"]["value"] == "retirement")
        .expect("the retired block");
    assert_eq!(retired["quantity"], "425");
    assert_eq!(retired["beneficiary"], "Acme Airlines");
    assert_eq!(retired["event_date"], "2026-04-10");

    // The same blocks as the CSV export: unchanged.
    let csv = dir.path().join("vcus.csv");
    let row = |retired: &str, beneficiary: &str, quantity: u64, start: u64| {
        format!(
            "2026-04-03,,2020-01-01,2020-12-31,1340,Bale Mountains Eco-region REDD+ project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"1,454,054\",{quantity},19385-{start}-{}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1,,{retired},{beneficiary},,",
            start + quantity - 1
        )
    };
    let text = [
        VERRA_HEADER.to_owned(),
        row("2026-04-10", "Acme Airlines", 425, 941467007),
        row("", "", 100, 941467432),
    ]
    .join("\n")
        + "\n";
    std::fs::write(&csv, text).expect("write");
    assert_eq!(import_verra(dir.path(), &csv), [2, 0, 0, 2, 0]);
}

/// Pages saved from Gold Standard's public API (`/credits`, `/projects`: bare arrays) and from
/// a CAD Trust node (`/v1/units`, `/v1/projects`: `{page, pageCount, data}`) import with
/// `carbonmesh import --registry <id> FILE`, their kind told from their members, with no
/// `--kind` and, for CAD Trust, no node configured; importing them again changes nothing.
#[test]
fn saved_gold_standard_and_cad_trust_responses_import_without_a_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let save = |name: &str, value: serde_json::Value| {
        let file = dir.path().join(name);
        std::fs::write(&file, serde_json::to_vec_pretty(&value).expect("JSON")).expect("write");
        file
    };
    let gs_credit = |id: &str, status: &str, start: u64, end: u64| {
        serde_json::json!({
            "id": id, "number_of_credits": end - start + 1,
            "starting_credit_number": start, "ending_credit_number": end, "batch_number": 1303,
            "serial_number": format!("GS1-1-IN-GS817-4-2012-1303-{start}-{end}"),
            "certified_date": "2013-10-08", "monitoring_period_start_date": "2012-01-01",
            "monitoring_period_end_date": "2012-12-31", "status": status, "vintage": "2012",
            "project": {"id": "1158", "name": "Arakalagudu Biodigester Project II",
                        "sustaincert_id": 817, "country_code": "IN"},
            "product": {"name": "Verified Emission Reduction", "abbreviation": "VER"},
            "labels": ["EMISSION_REDUCTION"],
        })
    };
    let gs_credits = save(
        "gs-credits-page-1.json",
        serde_json::json!([
            gs_credit("134202", "RETIRED", 93, 4644),
            gs_credit("134203", "ISSUED", 4645, 5000),
        ]),
    );
    let gs_projects = save(
        "gs-projects-page-1.json",
        serde_json::json!([{
            "id": "1158", "name": "Arakalagudu Biodigester Project II",
            "status": "GOLD_STANDARD_CERTIFIED_PROJECT", "type": "Biogas - Heat",
            "sustaincert_id": 817, "project_developer": "GoodPlanet", "country": "India",
            "country_code": "IN", "crediting_period_start_date": "2010-02-01",
            "crediting_period_end_date": "2020-01-31", "labels": ["EMISSION_REDUCTION"],
        }]),
    );

    let org = "a807e453-6524-49df-a32d-785e56cf560e";
    let project = "51ca9638-22b0-4e14-ae7d-b4e1d9b4e7a1";
    let unit = |id: &str, start: &str, end: &str, count: u64, status: &str| {
        serde_json::json!({
            "warehouseUnitId": id, "issuanceId": "iss-1", "orgUid": org,
            "unitOwner": "Example Holdings Ltd", "countryJurisdictionOfOwner": "Singapore",
            "serialNumberBlock": format!("{start}-{end}"), "unitBlockStart": start,
            "unitBlockEnd": end, "unitCount": count, "vintageYear": 2020,
            "unitType": "Reduction - nature", "unitStatus": status,
            "unitRegistryLink": format!("https://cadt.example.org/units/{id}"),
            "correspondingAdjustmentDeclaration": "Unknown",
            "correspondingAdjustmentStatus": "Not Started", "labels": [],
            "issuance": {"id": "iss-1", "orgUid": org, "warehouseProjectId": project,
                         "startDate": "2020-01-01T00:00:00.000Z",
                         "endDate": "2020-12-31T00:00:00.000Z",
                         "verificationBody": "Earthood Services Private Limited"},
        })
    };
    let cadt_units = save(
        "cadt-units-page-1.json",
        serde_json::json!({"page": 1, "pageCount": 1, "data": [
            unit("u-5", "GOLA-000001", "GOLA-000500", 500, "Held"),
            unit("u-6", "GOLA-000501", "GOLA-000750", 250, "Retired"),
        ]}),
    );
    let cadt_projects = save(
        "cadt-projects-page-1.json",
        serde_json::json!({"page": 1, "pageCount": 1, "data": [{
            "warehouseProjectId": project, "orgUid": org, "currentRegistry": "Verra",
            "projectId": "1340", "originProjectId": "VCS-1340", "registryOfOrigin": "Verra",
            "program": "VCS", "projectName": "Gola REDD+ Project",
            "projectDeveloper": "Gola Rainforest Conservation LG",
            "projectStatus": "Registered", "methodology": "VCS - VM0007",
            "projectLocations": [{"id": "loc-1", "warehouseProjectId": project, "orgUid": org,
                                  "country": "Sierra Leone"}],
            "labels": [], "issuances": [], "coBenefits": [], "relatedProjects": [],
            "projectRatings": [], "estimations": [],
        }]}),
    );

    for (registry, file, rows) in [
        ("gold-standard", &gs_projects, 1),
        ("gold-standard", &gs_credits, 2),
        ("cadt", &cadt_projects, 1),
        ("cadt", &cadt_units, 2),
    ] {
        assert_eq!(
            import_one(dir.path(), registry, file),
            [rows, rows, 0, 0, 0],
            "{}",
            file.display()
        );
        assert_eq!(
            import_one(dir.path(), registry, file),
            [rows, 0, 0, rows, 0],
            "{} again",
            file.display()
        );
    }

    let credits = export_jsonl(dir.path(), &[], "credits");
    let credit = |key: &str| {
        credits
            .iter()
            .find(|c| c["record_key"] == key)
            .unwrap_or_else(|| panic!("no {key} in {credits:?}"))
    };
    let retired = credit("credit:134202");
    assert_eq!(retired["registry"], "gold-standard");
    assert_eq!(retired["registry_project_id"], "GS817");
    assert_eq!(retired["transaction_type"]["value"], "retirement");
    assert_eq!(retired["quantity"], "4552");
    assert_eq!(
        retired["serial_range"],
        serde_json::json!({"namespace": "gold-standard:GS1-1-IN-GS817-4-2012-1303", "start": 93, "end": 4644})
    );
    let held = credit("unit:u-5");
    assert_eq!(held["registry"], "cadt");
    assert_eq!(held["registry_project_id"], project);
    assert_eq!(held["quantity"], "500");
    assert_eq!(
        held["serial_range"],
        serde_json::json!({"namespace": format!("cadt:{org}:GOLA-"), "start": 1, "end": 500})
    );
    assert_eq!(
        credit("unit:u-6")["transaction_type"]["value"],
        "retirement"
    );
    let projects = export_jsonl(dir.path(), &[], "projects");
    for id in ["GS817", project] {
        assert!(
            projects.iter().any(|p| p["registry_project_id"] == id),
            "no project {id} in {projects:?}"
        );
    }
}

/// A saved response of Toucan's subgraph: retirements of TCO2 tokens, amounts in the
/// token's 18 decimals (one base unit is 10^-18 tonne).
fn toucan_retirements(amounts: &[&str]) -> String {
    let items: Vec<serde_json::Value> = amounts
        .iter()
        .enumerate()
        .map(|(i, amount)| {
            serde_json::json!({
                "id": format!("0x9f1c0de1-{i}"),
                "creationTx": "0x9f1c0de1",
                "amount": amount,
                "timestamp": "1672531200",
                "token": {
                    "symbol": "TCO2-VCS-1718-2013",
                    "projectVintage": { "name": "2013", "project": { "projectId": "VCS-1718" } }
                },
                "certificate": { "id": format!("{i}"), "beneficiaryString": "Acme Airlines" }
            })
        })
        .collect();
    serde_json::json!({ "data": { "retirements": items } }).to_string()
}

/// A Parquet cell as the CSV export writes it: decimals and dates in their text form,
/// instants in RFC 3339 (compared as instants), nulls as empty fields.
fn parquet_cell_as_text(field: &parquet::record::Field) -> String {
    use parquet::record::Field;
    match field {
        Field::Null => String::new(),
        Field::Str(s) => s.clone(),
        Field::Long(i) => i.to_string(),
        Field::Date(days) => (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
            + chrono::Days::new(u64::try_from(*days).expect("a day after 1970")))
        .to_string(),
        Field::TimestampMicros(us) => chrono::DateTime::from_timestamp_micros(*us)
            .expect("an instant")
            .to_rfc3339(),
        Field::Decimal(d) => {
            let bytes: [u8; 16] = d.data().try_into().expect("16 bytes");
            assert_eq!((d.precision(), d.scale()), (38, 18));
            // The unscaled value in units of 10^-18, exactly.
            let unscaled = i128::from_be_bytes(bytes);
            let sign = if unscaled < 0 { "-" } else { "" };
            let digits = format!("{:019}", unscaled.unsigned_abs());
            let (whole, fraction) = digits.split_at(digits.len() - 18);
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                format!("{sign}{whole}")
            } else {
                format!("{sign}{whole}.{fraction}")
            }
        }
        other => panic!("unexpected Parquet value {other:?}"),
    }
}

/// RFC 3339 instants compare as instants (`Z` or `+00:00`); everything else as text.
fn same_cell(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[test]
fn credits_export_as_parquet_with_the_rows_of_the_csv_and_exact_quantities() {
    use parquet::basic::{LogicalType, TimeUnit};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let dir = tempfile::tempdir().expect("tempdir");
    // Whole tonnes (Verra), kilograms (Isometric) and token amounts down to 10^-18 tonne.
    for (registry, folder) in [("verra", "verra"), ("isometric", "isometric")] {
        let files = fixtures(folder);
        let out = run(carbonmesh(dir.path())
            .args(["import", "--registry", registry])
            .args(&files));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tokens = dir.path().join("retirements.json");
    let amounts = ["1", "230432746766008123456789", "2500000000000000000"];
    std::fs::write(&tokens, toucan_retirements(&amounts)).expect("write");
    assert_eq!(import_one(dir.path(), "toucan", &tokens)[1], 3);

    let parquet_file = dir.path().join("credits.parquet");
    let out = run(carbonmesh(dir.path())
        .args(["export", "--what", "credits", "--format"])
        .args(["parquet", "--output", "credits.parquet"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv_out = run(carbonmesh(dir.path()).args(["export", "--what", "credits"]));
    assert!(csv_out.status.success());
    let jsonl = export_jsonl(dir.path(), &[], "credits");

    let reader = SerializedFileReader::new(std::fs::File::open(&parquet_file).expect("open"))
        .expect("a Parquet file");
    let metadata = reader.metadata().file_metadata();
    let generated_at = metadata
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|kv| kv.key == "generated_at"))
        .and_then(|kv| kv.value.clone())
        .expect("generated_at in the file's key-value metadata");
    let at = chrono::DateTime::parse_from_rfc3339(&generated_at).expect("RFC 3339");
    let age = chrono::Utc::now().signed_duration_since(at);
    assert!(
        age >= chrono::TimeDelta::zero() && age < chrono::TimeDelta::minutes(5),
        "generated_at {generated_at}"
    );
    // Typed columns.
    let schema = metadata.schema_descr();
    let logical = |name: &str| {
        (0..schema.num_columns())
            .map(|i| schema.column(i))
            .find(|c| c.name() == name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .logical_type_ref()
            .cloned()
    };
    assert_eq!(logical("quantity"), Some(LogicalType::decimal(18, 38)));
    assert_eq!(logical("event_date"), Some(LogicalType::Date));
    assert_eq!(
        logical("generated_at"),
        Some(LogicalType::timestamp(true, TimeUnit::MICROS))
    );
    assert_eq!(logical("registry"), Some(LogicalType::String));

    let rows: Vec<Vec<(String, String)>> = reader
        .get_row_iter(None)
        .expect("rows")
        .map(|row| {
            row.expect("row")
                .get_column_iter()
                .map(|(name, field)| (name.clone(), parquet_cell_as_text(field)))
                .collect()
        })
        .collect();
    assert_eq!(metadata.num_rows(), rows.len() as i64);

    // The same rows, in the same order, as the CSV export: every cell.
    let text = String::from_utf8_lossy(&csv_out.stdout);
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = csv
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header.last().map(String::as_str), Some("generated_at"));
    let csv_rows: Vec<csv::StringRecord> = csv.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), csv_rows.len());
    assert_eq!(rows.len(), jsonl.len());
    assert!(rows.len() > 100, "{} rows", rows.len());
    for ((row, csv_row), json) in rows.iter().zip(&csv_rows).zip(&jsonl) {
        let names: Vec<&str> = row.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, header, "the same columns in the same order");
        for ((name, cell), csv_cell) in row.iter().zip(csv_row.iter()) {
            if name == "generated_at" {
                // Each export stamps its own second; each file is stamped throughout.
                assert!(
                    same_cell(cell, &generated_at),
                    "{cell} against {generated_at}"
                );
                continue;
            }
            if name == "quantity" {
                let parquet: rust_decimal::Decimal = cell.parse().expect("decimal");
                let csv: rust_decimal::Decimal = csv_cell.parse().expect("decimal");
                assert_eq!(parquet, csv, "quantity of {}", &csv_row[2]);
                continue;
            }
            assert!(
                same_cell(cell, csv_cell),
                "{name} of {}: {cell:?} in Parquet, {csv_cell:?} in CSV",
                &csv_row[2]
            );
        }
        // And the JSON line of the same record.
        assert_eq!(
            json["record_key"].as_str(),
            Some(csv_row[2].to_string().as_str())
        );
        let quantity = row.iter().find(|(n, _)| n == "quantity").expect("quantity");
        assert_eq!(
            json["quantity"]
                .as_str()
                .and_then(|q| q.parse::<rust_decimal::Decimal>().ok()),
            quantity.1.parse().ok(),
        );
        assert!(json["generated_at"].is_string(), "{json}");
    }

    // The token amounts, to the last of their 18 decimals.
    let quantity_of = |key: &str| {
        rows.iter()
            .find(|r| r.iter().any(|(n, v)| n == "record_key" && v == key))
            .and_then(|r| r.iter().find(|(n, _)| n == "quantity"))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {key}"))
    };
    assert_eq!(
        quantity_of("retirement-0x9f1c0de1-0"),
        "0.000000000000000001"
    );
    assert_eq!(
        quantity_of("retirement-0x9f1c0de1-1"),
        "230432.746766008123456789"
    );
    assert_eq!(quantity_of("retirement-0x9f1c0de1-2"), "2.5");
    // Isometric's kilograms are thousandths of a tonne.
    assert!(
        rows.iter().any(|r| r
            .iter()
            .any(|(n, v)| n == "quantity" && v.split_once('.').is_some_and(|(_, f)| f.len() == 3))),
        "no quantity with kilograms"
    );
}

#[test]
fn every_table_exports_as_parquet_with_the_columns_of_its_csv() {
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let dir = tempfile::tempdir().expect("tempdir");
    // Two registries listing one project: an alert to export too.
    for (registry, folder) in [
        ("acr", "american-carbon-registry"),
        ("car", "climate-action-reserve"),
    ] {
        let out = run(carbonmesh(dir.path())
            .args(["import", "--registry", registry])
            .args(fixtures(folder)));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for what in [
        "projects",
        "credits",
        "rejected",
        "runs",
        "webhooks",
        "webhook-rejections",
        "alerts",
        "notifications",
    ] {
        let file = dir.path().join(format!("{what}.parquet"));
        let out = run(carbonmesh(dir.path())
            .args(["export", "--what", what, "--format", "parquet", "--out"])
            .arg(&file));
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let csv = run(carbonmesh(dir.path()).args(["export", "--what", what]));
        let text = String::from_utf8_lossy(&csv.stdout);
        let mut csv = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = csv
            .headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect();
        let csv_rows = csv.records().count();

        let reader = SerializedFileReader::new(std::fs::File::open(&file).expect("open"))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let metadata = reader.metadata().file_metadata();
        let columns: Vec<String> = (0..metadata.schema_descr().num_columns())
            .map(|i| metadata.schema_descr().column(i).name().to_owned())
            .collect();
        assert_eq!(columns, header, "{what}");
        assert_eq!(metadata.num_rows() as usize, csv_rows, "{what}");
        assert!(
            metadata
                .key_value_metadata()
                .is_some_and(|kv| kv.iter().any(|kv| kv.key == "generated_at")),
            "{what}"
        );
        if ["projects", "credits", "runs", "alerts"].contains(&what) {
            assert!(csv_rows > 0, "{what} is empty");
        }
    }
}
