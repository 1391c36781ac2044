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

    let step = |args: &[&str]| {
        let mut all = vec!["alerts", "transition", id];
        all.extend_from_slice(args);
        run(carbonmesh(dir.path()).args(&all))
    };
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
    let out = step_ok(&["acknowledge", "--actor", "ana"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{id}: new -> acknowledged")
    );
    // A step out of order fails with a reason, and changes nothing.
    let out = step(&["escalate", "--actor", "ana"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be moved"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = step(&["dismiss", "--actor", "ana", "--note", "same farm"]);
    assert!(!out.status.success(), "a dismissal needs a reason code");
    step_ok(&[
        "comment",
        "--actor",
        "ana",
        "--note",
        "Digester moved from ACR to CAR in 2022.",
    ]);
    let out = step_ok(&[
        "dismiss",
        "--actor",
        "ana",
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
    assert!(history[0].contains(" matcher - -> new raised"), "{shown}");
    assert!(
        history[1].contains(" ana new -> acknowledged review"),
        "{shown}"
    );
    assert!(
        history[2].contains(" ana - -> - comment Digester moved"),
        "{shown}"
    );
    assert!(
        history[3].contains(
            " ana acknowledged -> dismissed sequential_transition_no_period_overlap No vintage"
        ),
        "{shown}"
    );
    let dismissed = succeed(dir.path(), &["alerts", "list", "--status", "dismissed"]);
    assert!(dismissed.starts_with(id), "{dismissed}");

    // The matcher leaves a reviewer's decision alone when it runs again.
    succeed(dir.path(), &["match", "--full"]);
    let again = alerts_jsonl(dir.path());
    let same = again.iter().find(|a| a["id"] == id).expect("still there");
    assert_eq!(same["status"], "dismissed");
    assert_eq!(same["assignee"], "ana");
}
