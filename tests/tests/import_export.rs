//! `carbonmesh import` of every real registry sample, and `carbonmesh export` of the result.

use std::path::{Path, PathBuf};

use carbonmesh_e2e::{carbonmesh, run};

fn fixtures(registry_dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/registries")
        .join(registry_dir);
    assert!(
        dir.is_dir(),
        "registry fixtures missing at {}",
        dir.display()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

/// Parses the summary lines `FILE: read N, new N, changed N, unchanged N, rejected N`.
fn summary(stdout: &str) -> Vec<(String, [u64; 5])> {
    stdout
        .lines()
        .filter_map(|line| {
            let (file, counts) = line.rsplit_once(": read ")?;
            let numbers: Vec<u64> = format!("read {counts}")
                .split(", ")
                .filter_map(|part| part.rsplit_once(' ')?.1.parse().ok())
                .collect();
            Some((file.to_owned(), numbers.try_into().ok()?))
        })
        .collect()
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
        // The Platts sample file wraps entities of three feeds in one document, a shape no
        // registry publishes; the Verra connector's own tests read it feed by feed.
        let files: Vec<PathBuf> = fixtures(folder)
            .into_iter()
            .filter(|f| {
                !f.to_string_lossy()
                    .contains("platts-publicReportPageSearch-samples")
            })
            .collect();
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
