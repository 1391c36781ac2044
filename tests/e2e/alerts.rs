//! The matcher on the real registry samples, through the binary: every sample imported, the
//! alerts they raise listed with the reason each is right, a full run agreeing with what the
//! ingest hook found, and the review workflow from `carbonmesh alerts`.

use std::collections::BTreeMap;
use std::path::Path;

use carbonmesh_e2e::{carbonmesh, fixtures, run};

const REGISTRIES: [(&str, &str); 10] = [
    ("verra", "verra"),
    ("gold-standard", "gold-standard"),
    ("acr", "american-carbon-registry"),
    ("car", "climate-action-reserve"),
    ("arb", "carb-arb"),
    ("art", "art-trees"),
    ("isometric", "isometric"),
    ("puro", "puro-earth"),
    ("cercarbono", "cercarbono"),
    ("biocarbon", "biocarbon"),
];

/// What the samples must raise: (kind, the record keys its evidence names, why a reviewer
/// agrees). Nothing above `info`: the samples hold no double counting, only legitimate links.
const EXPECTED: [(&str, [&str; 2], &str); 10] = [
    (
        "linked_conversion",
        ["cancelled:ACR-US-1007-2024-2351-1 to 79565", "CAOD1007-A"],
        "ACR1007 (A-Gas ODS destruction): ACR cancelled 79,565 vintage-2024 ERTs for conversion; CARB issued CAOD1007-A, the same 79,565 credits of vintage 2024",
    ),
    (
        "linked_conversion",
        ["cancelled:ACR-US-1042-2024-2531-1 to 92278", "CAOD1042-A"],
        "ACR1042: ACR cancelled 92,278 vintage-2024 ERTs for conversion; CARB issued CAOD1042-A, the same 92,278 credits of vintage 2024",
    ),
    (
        "linked_conversion",
        ["cancelled:ACR-US-1051-2025-3152-1 to 14653", "CAMM1051-B"],
        "ACR1051: ACR cancelled 14,653 vintage-2025 ERTs for conversion; CARB issued CAMM1051-B, the same 14,653 credits of vintage 2025",
    ),
    (
        "linked_conversion",
        ["cancelled:ACR-US-1094-2025-2868-1 to 65523", "CAMM1094-A"],
        "ACR1094: ACR cancelled 65,523 vintage-2025 ERTs for conversion; CARB issued CAMM1094-A, the same 65,523 credits of vintage 2025",
    ),
    (
        "linked_conversion",
        ["cancelled:ACR-US-1100-2025-2958-1 to 153201", "CAMM1100-A"],
        "ACR1100: ACR cancelled 153,201 vintage-2025 ERTs for conversion; CARB issued CAMM1100-A, the same 153,201 credits of vintage 2025",
    ),
    (
        "linked_conversion",
        ["cancelled:ACR-US-1118-2025-3081-1 to 14773", "CAMM1118-A"],
        "ACR1118: ACR cancelled 14,773 vintage-2025 ERTs for conversion; CARB issued CAMM1118-A, the same 14,773 credits of vintage 2025",
    ),
    (
        "linked_conversion",
        ["cancelled:ACR-US-1138-2025-3084-1 to 29038", "CAMM1138-A"],
        "ACR1138: ACR cancelled 29,038 vintage-2025 ERTs for conversion; CARB issued CAMM1138-A, the same 29,038 credits of vintage 2025",
    ),
    (
        "linked_conversion",
        ["cancelled:ACR-US-1163-2025-2963-1 to 61040", "CAOD1163-A"],
        "ACR1163: ACR cancelled 61,040 vintage-2025 ERTs for conversion; CARB issued CAOD1163-A, the same 61,040 credits of vintage 2025",
    ),
    (
        "linked_conversion",
        [
            "cancelled:CAR-ROC-US-2111-129-2284-IL-2025-9489-1 to 159383",
            "CAMM1009-B",
        ],
        "CAR2111 (Green Valley mine methane): CAR cancelled 159,383 vintage-2025 ROCs for conversion; CARB issued CAMM1009-B, the same 159,383 credits of vintage 2025",
    ),
    (
        "project_duplicate_candidate",
        ["acr:ACR234", "car:CAR1582"],
        "'Alliance Dairy' (Trenton, FL, US) by 3Degrees is listed in ACR (ACR234) and CAR (CAR1582); \
         the samples hold no issuance of both for one vintage, so it is a recorded link, not an alert",
    ),
];

fn succeed(dir: &Path, args: &[&str]) -> String {
    carbonmesh_e2e::succeed(carbonmesh(dir).args(args))
}

/// Imports every sample of `folder` as `registry`.
fn import(dir: &Path, registry: &str, folder: &str) {
    let files = fixtures(folder);
    let mut args = vec!["import", "--registry", registry];
    args.extend(files.iter().map(|f| f.to_str().expect("UTF-8 path")));
    succeed(dir, &args);
}

fn alerts_jsonl(dir: &Path) -> Vec<serde_json::Value> {
    succeed(dir, &["alerts", "list", "--format", "jsonl"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

/// The record keys an alert's evidence names.
fn record_keys(alert: &serde_json::Value) -> Vec<String> {
    alert["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["record_key"].as_str().expect("record_key").to_owned())
        .collect()
}

#[test]
fn the_real_samples_raise_only_alerts_a_reviewer_agrees_with() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (registry, folder) in REGISTRIES {
        import(dir.path(), registry, folder);
    }

    let incremental = alerts_jsonl(dir.path());
    let mut unexplained: BTreeMap<String, &serde_json::Value> = incremental
        .iter()
        .map(|a| (a["id"].as_str().expect("id").to_owned(), a))
        .collect();
    for (kind, keys, why) in EXPECTED {
        let found: Vec<&serde_json::Value> = incremental
            .iter()
            .filter(|a| a["kind"] == kind && record_keys(a) == keys)
            .collect();
        assert_eq!(found.len(), 1, "{kind} on {keys:?} ({why}): {found:#?}");
        let alert = found[0];
        assert_eq!(alert["severity"], "info", "{why}");
        assert_eq!(alert["status"], "new");
        assert!(
            !alert["explanation"].as_str().unwrap_or_default().is_empty(),
            "every alert explains itself"
        );
        unexplained.remove(alert["id"].as_str().expect("id"));
    }
    assert!(
        unexplained.is_empty(),
        "alerts nobody explained: {unexplained:#?}"
    );
    // The conversions name both sides: the cancellation and the CARB issuance.
    for alert in incremental
        .iter()
        .filter(|a| a["kind"] == "linked_conversion")
    {
        let keys = record_keys(alert);
        assert_eq!(keys.len(), 2, "{alert:#}");
        assert!(
            alert["records"][0]["serial"].is_string() || alert["records"][1]["serial"].is_string()
        );
    }

    // A full rebuild by sort-and-sweep finds exactly what the ingest hook found.
    let report = succeed(dir.path(), &["match", "--full"]);
    assert!(
        report.contains("0 raised") && report.contains("0 resolved"),
        "{report}"
    );
    let ids = |v: &[serde_json::Value]| -> Vec<String> {
        let mut ids: Vec<String> = v
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_owned())
            .collect();
        ids.sort();
        ids
    };
    let full = alerts_jsonl(dir.path());
    assert_eq!(ids(&full), ids(&incremental));

    // Filters.
    let table = succeed(
        dir.path(),
        &["alerts", "list", "--kind", "project_duplicate_candidate"],
    );
    assert_eq!(table.lines().count(), 1, "{table}");
    let none = succeed(dir.path(), &["alerts", "list", "--min-severity", "low"]);
    assert!(none.trim().is_empty(), "{none}");

    // The audit file links each evidence record to its project's page at the registry.
    let audit = succeed(
        dir.path(),
        &["export", "--what", "alerts", "--format", "jsonl"],
    );
    let duplicate: serde_json::Value = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .find(|a| a["kind"] == "project_duplicate_candidate")
        .expect("the ACR234/CAR1582 link");
    let pages: Vec<&str> = duplicate["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter_map(|e| e["project"]["registry_url"].as_str())
        .collect();
    assert_eq!(
        pages,
        vec![
            "https://greentrace.ice.com/acr/projects/registry/ACR_REGISTRY/project/P2423C9VXH23",
            "https://thereserve2.apx.com/mymodule/reg/prjView.asp?id1=1582"
        ],
        "{duplicate:#}"
    );
    let csv = succeed(dir.path(), &["export", "--what", "alerts"]);
    assert!(
        csv.contains("page https://thereserve2.apx.com/mymodule/reg/prjView.asp?id1=1582"),
        "{csv}"
    );
}

#[test]
fn a_reviewer_works_an_alert_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    import(dir.path(), "acr", "american-carbon-registry");
    import(dir.path(), "car", "climate-action-reserve");

    let alerts = alerts_jsonl(dir.path());
    let link = alerts
        .iter()
        .find(|a| a["kind"] == "project_duplicate_candidate")
        .expect("the ACR234/CAR1582 link");
    let id = link["id"].as_str().expect("id");

    // Review steps are taken with a reviewer's API key, as through the API.
    let token = |name: &str, role: &str| {
        let out = succeed(
            dir.path(),
            &["keys", "create", "--name", name, "--role", role],
        );
        carbonmesh_e2e::token_in(&out)
    };
    let ana = token("ana", "reviewer");
    let olga = token("olga", "observer");
    let step_as = |key: Option<&str>, args: &[&str]| {
        let mut all = vec!["alerts", "transition", id];
        all.extend_from_slice(args);
        let mut command = carbonmesh(dir.path());
        command.args(&all);
        if let Some(key) = key {
            command.env("CARBONMESH_API_KEY", key);
        }
        run(&mut command)
    };
    let step = |args: &[&str]| step_as(Some(&ana), args);
    // A step that must succeed; returns its output.
    let step_ok = |args: &[&str]| {
        let out = step(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    // No key, or an observer's, takes no step.
    let out = step_as(None, &["acknowledge"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CARBONMESH_API_KEY"));
    let out = step_as(Some(&olga), &["acknowledge"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("need a reviewer's key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nor does a name that is carbonmesh's own, or one taken.
    let out =
        run(carbonmesh(dir.path())
            .args(["keys", "create", "--name", "matcher", "--role", "reviewer"]));
    assert!(!out.status.success());
    let out =
        run(carbonmesh(dir.path()).args(["keys", "create", "--name", "ana", "--role", "reviewer"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));

    let out = step_ok(&["acknowledge"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{id}: new -> acknowledged")
    );
    // A step out of order fails with a reason, and changes nothing.
    let out = step(&["escalate"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be moved"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = step(&["dismiss", "--note", "same farm"]);
    assert!(!out.status.success(), "a dismissal needs a reason code");
    step_ok(&[
        "comment",
        "--note",
        "Digester moved from ACR to CAR in 2022.",
    ]);
    let out = step_ok(&[
        "dismiss",
        "--reason",
        "sequential_transition_no_period_overlap",
        "--note",
        "No vintage is issued in both registries.",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{id}: acknowledged -> dismissed")
    );

    let shown = succeed(dir.path(), &["alerts", "show", id]);
    let history: Vec<&str> = shown
        .lines()
        .skip_while(|l| *l != "history:")
        .skip(1)
        .collect();
    assert_eq!(history.len(), 4, "{shown}");
    assert!(
        history[0].contains(" matcher via system - -> new raised"),
        "{shown}"
    );
    // Each step names the key (its name and id) and the channel.
    assert!(history[1].contains(" ana (key_"), "{shown}");
    assert!(
        history[1].contains(" via cli new -> acknowledged review"),
        "{shown}"
    );
    assert!(
        history[2].contains(" via cli - -> - comment Digester moved"),
        "{shown}"
    );
    assert!(
        history[3].contains(
            " via cli acknowledged -> dismissed sequential_transition_no_period_overlap No vintage"
        ),
        "{shown}"
    );
    let dismissed = succeed(dir.path(), &["alerts", "list", "--status", "dismissed"]);
    assert!(dismissed.starts_with(id), "{dismissed}");

    // The audit file holds both projects as the evidence took them, and the decision.
    let lines = succeed(
        dir.path(),
        &["export", "--what", "alerts", "--format", "jsonl"],
    );
    let audited: serde_json::Value = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .find(|a| a["id"] == id)
        .expect("the alert");
    let evidence = audited["evidence"].as_array().expect("evidence");
    assert_eq!(evidence.len(), 2, "{audited}");
    for e in evidence {
        assert_eq!(e["kind"], "project", "{e}");
        assert!(
            e["project"]["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{e}"
        );
        assert!(e["provenance"]["source"].as_str().is_some(), "{e}");
    }
    assert_eq!(
        audited["history"][3]["reason"],
        "sequential_transition_no_period_overlap"
    );

    // The matcher leaves a reviewer's decision alone when it runs again.
    succeed(dir.path(), &["match", "--full"]);
    let again = alerts_jsonl(dir.path());
    let same = again.iter().find(|a| a["id"] == id).expect("still there");
    assert_eq!(same["status"], "dismissed");
    assert_eq!(same["assignee"], "ana");
}

/// The four-eyes rule on the command line: a critical alert is confirmed only when a second
/// reviewer's key decides the same; one person with one key cannot pass as two.
#[test]
fn a_critical_alert_needs_two_reviewers_keys_on_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two Verra issuances claiming units 941467400..=941467431 twice.
    let export = "Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details
2026-04-03,,2020-01-01,2020-12-31,1340,Bale Mountains Eco-region REDD+ project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"1,454,054\",425,19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1,,,,,
2026-04-05,,2020-01-01,2020-12-31,4471,Another Forest Project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"101\",101,19400-941467400-941467500-VCS-VCU-1507-VER-ET-14-4471-01012020-31122020-1,,,,,
";
    let file = dir.path().join("vcus.csv");
    std::fs::write(&file, export).expect("write");
    succeed(
        dir.path(),
        &[
            "import",
            "--registry",
            "verra",
            file.to_str().expect("UTF-8 path"),
        ],
    );
    let alerts = alerts_jsonl(dir.path());
    let critical = alerts
        .iter()
        .find(|a| a["kind"] == "serial_overlap_issuance")
        .expect("the double issuance");
    assert_eq!(critical["severity"], "critical");
    let id = critical["id"].as_str().expect("id");
    let token = |name: &str| {
        carbonmesh_e2e::token_in(&succeed(
            dir.path(),
            &["keys", "create", "--name", name, "--role", "reviewer"],
        ))
    };
    let (ana, ben) = (token("ana"), token("ben"));
    let step = |key: &str, args: &[&str]| {
        let mut all = vec!["alerts", "transition", id];
        all.extend_from_slice(args);
        run(carbonmesh(dir.path())
            .env("CARBONMESH_API_KEY", key)
            .args(&all))
    };
    let ok = |key: &str, args: &[&str]| {
        let out = step(key, args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    ok(&ana, &["acknowledge"]);
    let first = ok(&ana, &["confirm", "--note", "Same units in two issuances."]);
    assert!(first.contains("awaiting a second reviewer"), "{first}");
    // The state is visible, and filters find it.
    let waiting = succeed(
        dir.path(),
        &["alerts", "list", "--status", "awaiting_second_review"],
    );
    assert!(waiting.starts_with(id), "{waiting}");
    // The same key cannot be the second reviewer.
    let again = step(&ana, &["confirm"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("another reviewer"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // The second reviewer sees what the first decided, then decides the same.
    let shown = succeed(dir.path(), &["alerts", "show", id]);
    assert!(
        shown.contains(
            "acknowledged -> awaiting_second_review confirmed (decided: confirmed) Same units"
        ),
        "{shown}"
    );
    let second = ok(&ben, &["confirm"]);
    assert_eq!(second, format!("{id}: awaiting_second_review -> confirmed"));

    // The audit file: the alert with the facts of both issuances and its whole history.
    let text = succeed(dir.path(), &["export", "--what", "alerts"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    let row = reader
        .records()
        .map(|r| r.expect("row"))
        .find(|r| &r[0] == id)
        .expect("the alert's row");
    let cell = |name: &str| {
        let at = header.iter().position(|h| h == name).expect(name);
        row[at].to_owned()
    };
    assert_eq!(cell("status"), "confirmed");
    assert_eq!(
        (
            cell("namespace"),
            cell("overlap_start"),
            cell("overlap_end"),
            cell("overlap_units")
        ),
        (
            "verra".into(),
            "941467400".into(),
            "941467431".into(),
            "32".into()
        )
    );
    let evidence: Vec<String> = cell("evidence").lines().map(str::to_owned).collect();
    assert_eq!(evidence.len(), 2, "{evidence:?}");
    assert!(
        evidence[0].starts_with(
            "verra 19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1 v1, \
             issuance of 425, vintage 2020, on 2026-04-03, serial 19385-941467007-941467431-\
             VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1, project verra:VCS1340"
        ),
        "{evidence:?}"
    );
    assert!(evidence[1].contains("issuance of 101"), "{evidence:?}");
    assert!(
        evidence
            .iter()
            .all(|e| e.ends_with(&format!("from {}:2", file.display()))
                || e.ends_with(&format!("from {}:3", file.display()))),
        "provenance: the file and its line, {evidence:?}"
    );
    let history: Vec<String> = cell("history").lines().map(str::to_owned).collect();
    assert_eq!(history.len(), 4, "{history:?}");
    assert!(
        history[0].contains(" matcher via system: -> new, reason raised"),
        "{history:?}"
    );
    assert!(
        history[1].contains(" ana (") && history[1].contains("via cli: new -> acknowledged"),
        "{history:?}"
    );
    assert!(
        history[2].contains("via cli: acknowledged -> awaiting_second_review, decided confirmed")
            && history[2].ends_with("note: Same units in two issuances."),
        "{history:?}"
    );
    assert!(
        history[3].contains(" ben (") && history[3].contains("awaiting_second_review -> confirmed"),
        "{history:?}"
    );
    // The same as JSON lines, every fact typed.
    let lines = succeed(
        dir.path(),
        &["export", "--what", "alerts", "--format", "jsonl"],
    );
    let audited: serde_json::Value = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON"))
        .find(|a| a["id"] == id)
        .expect("the alert");
    assert_eq!(audited["evidence"][0]["credit"]["quantity"], "425");
    assert_eq!(audited["evidence"][0]["shown_version"], 1);
    assert_eq!(audited["history"].as_array().map(Vec::len), Some(4));
    assert_eq!(audited["history"][3]["actor"], "ben");
}

/// Blocks of Verra's real VCU export, as (serial, quantity): the first retired and the first
/// still active.
fn verra_blocks() -> ((String, String), (String, String)) {
    let file = fixtures("verra")
        .into_iter()
        .find(|f| f.ends_with("offsets-db-data_transactions.csv"))
        .expect("the VCU export");
    let mut reader = csv::Reader::from_path(&file).expect("csv");
    let headers = reader.headers().expect("header").clone();
    let column = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (serial, retired) = (
        column("Serial Number"),
        column("Retirement/Cancellation Date"),
    );
    let quantity = column("Quantity Issued");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let first = |is_retired: bool| {
        rows.iter()
            .find(|r| r[retired].trim().is_empty() != is_retired)
            .map(|r| (r[serial].to_owned(), r[quantity].replace(',', "")))
            .expect("a block")
    };
    (first(true), first(false))
}

/// A Toucan batch on a block Verra shows retired is the bridge working as designed (the
/// units left Verra before they became tokens); a batch on a block Verra still shows active
/// is the same tonnes twice: the import says so, and `carbonmesh match` agrees.
#[test]
fn tokens_on_units_verra_still_shows_active_raise_an_alert() {
    let dir = tempfile::tempdir().expect("tempdir");
    import(dir.path(), "verra", "verra");
    import(dir.path(), "toucan", "toucan");
    let (retired, active) = verra_blocks();
    let batch = |id: &str, (serial, quantity): &(String, String)| {
        serde_json::json!({
            "id": id, "serialNumber": serial, "quantity": quantity, "confirmationStatus": 2,
            "timestamp": "1700000000", "tx": "0x01", "creator": { "id": "0x02" },
            "projectVintage": { "name": "2020", "project": { "projectId": "VCS-1" } }
        })
    };
    // Toucan's subgraph answer with these batches, imported.
    let import_batches = |batches: [serde_json::Value; 2]| -> String {
        let file = dir.path().join("toucan-batches.json");
        let response = serde_json::json!({ "data": { "batchTokens": batches } });
        std::fs::write(&file, response.to_string()).expect("write batches");
        succeed(
            dir.path(),
            &[
                "import",
                "--registry",
                "toucan",
                file.to_str().expect("path"),
            ],
        )
    };
    let out = import_batches([batch("1", &retired), batch("2", &active)]);
    assert!(out.contains("2 rows read; records new 2"), "{out}");
    let on_batches = || -> Vec<serde_json::Value> {
        alerts_jsonl(dir.path())
            .into_iter()
            .filter(|a| record_keys(a).iter().any(|k| k.starts_with("batch-")))
            .collect()
    };
    // The import checked the groups of what it wrote (the batches and the Verra blocks their
    // serials overlap); a full run finds the same.
    let evidence = |alerts: &[serde_json::Value]| -> Vec<(String, Vec<String>)> {
        alerts
            .iter()
            .map(|a| (a["id"].to_string(), record_keys(a)))
            .collect()
    };
    let imported = on_batches();
    succeed(dir.path(), &["match"]);
    let overlaps = on_batches();
    assert_eq!(evidence(&imported), evidence(&overlaps));
    let [alert] = overlaps.as_slice() else {
        panic!("one alert on the Toucan batches: {overlaps:#?}");
    };
    assert_eq!(alert["kind"], "cross_registry_serial_overlap");
    assert_eq!(alert["severity"], "high");
    assert_eq!(record_keys(alert), ["batch-2".to_owned(), active.0.clone()]);
    let listed = succeed(dir.path(), &["alerts", "list"]);
    assert!(
        listed.contains("toucan record batch-2 names verra units"),
        "{listed}"
    );

    // Toucan corrects batch 2 to the retired block: the next import resolves the alert.
    let out = import_batches([batch("1", &retired), batch("2", &retired)]);
    assert!(out.contains("changed 1"), "{out}");
    let after = on_batches();
    let old = after.iter().find(|a| a["id"] == overlaps[0]["id"]);
    assert_eq!(
        old.map(|a| &a["status"]),
        Some(&"resolved".into()),
        "{after:#?}"
    );
    // Both batches now name the same Verra units: that is a new alert of its own.
    let twice: Vec<&serde_json::Value> = after.iter().filter(|a| a["status"] == "new").collect();
    assert_eq!(twice.len(), 1, "{after:#?}");
    assert_eq!(twice[0]["kind"], "serial_overlap_issuance");
    assert_eq!(record_keys(twice[0]), ["batch-1", "batch-2"]);
}
