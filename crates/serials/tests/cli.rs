//! The `carbonmesh serial parse` command.

use carbonmesh_model::RegistryId;
use carbonmesh_serials::run_parse_command;
use serde_json::Value;

fn run(registry: Option<RegistryId>, inputs: &[&str]) -> (bool, Vec<Value>, String) {
    let mut out = Vec::new();
    let ok = run_parse_command(registry, inputs.iter().map(|s| (*s).to_owned()), &mut out)
        .expect("write");
    let text = String::from_utf8(out).expect("utf-8");
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    (ok, lines, text)
}

#[test]
fn prints_one_object_per_serial() {
    let (ok, lines, text) = run(
        None,
        &[
            "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
            "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014",
        ],
    );
    assert!(ok);
    assert_eq!(lines.len(), 2);
    assert!(text.starts_with("{\"input\":"));
    let v = &lines[0];
    assert_eq!(v["registry"], "verra");
    assert_eq!(v["namespace"], "verra");
    assert_eq!(v["start"], 941467007u64);
    assert_eq!(v["end"], 941467431u64);
    assert_eq!(v["quantity"], "425");
    assert_eq!(v["project_id"], "VCS1340");
    assert_eq!(v["batch"], "19385");
    assert_eq!(v["country"], "ET");
    assert_eq!(v["vintage_start"], "2020-01-01");
    assert_eq!(v["vintage_end"], "2020-12-31");
    assert_eq!(v["sectoral_scope"], 14);
    assert_eq!(lines[1]["registry"], "cdm");
    assert_eq!(lines[1]["namespace"], "cdm:RW-5");
}

#[test]
fn reports_errors_and_returns_false() {
    let (ok, lines, _) = run(
        Some(RegistryId::GOLD_STANDARD),
        &[
            "GS1-1-UG-GS11236-16-2024-30307-1-19149",
            "ACR-US-1-2025-1-1 to 5",
            "",
        ],
    );
    assert!(!ok);
    assert_eq!(lines[0]["registry"], "gold-standard");
    assert_eq!(lines[1]["input"], "ACR-US-1-2025-1-1 to 5");
    assert!(lines[1]["error"].as_str().expect("error").contains("acr"));
    assert_eq!(lines[2]["error"], "empty serial");
    assert!(lines[1].get("namespace").is_none());
}

#[test]
fn batch_serial_without_range_prints_nulls() {
    let (ok, lines, _) = run(
        Some(RegistryId::CERCARBONO),
        &["BCR2CDC_106_2_8_322_14_CO_1_1_2019"],
    );
    assert!(ok);
    let v = &lines[0];
    assert_eq!(
        v["namespace"],
        "cercarbono:BCR2CDC_106_2_8_322_14_CO_1_1_2019"
    );
    assert!(v["start"].is_null() && v["quantity"].is_null());
    assert_eq!(v["project_id"], "CDC-106");
    assert_eq!(v["converted_from"], "BCR");
    assert_eq!(v["vintage_start"], "2019");
}
