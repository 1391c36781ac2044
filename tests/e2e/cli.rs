//! The `carbonmesh` binary as a user runs it.

use carbonmesh_e2e::{Server, carbonmesh, postgres_database, run};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn help_lists_only_working_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(carbonmesh(dir.path()).arg("--help"));
    assert!(output.status.success());
    let text = stdout(&output);
    let commands: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "demo",
            "serve",
            "migrate",
            "import",
            "sync",
            "connectors",
            "export",
            "serial",
            "webhook",
            "match",
            "alerts",
            "keys",
            "vocab",
            "help"
        ]
    );
}

/// `carbonmesh connectors` lists every registry the build and the configuration read: the
/// connector's feeds, the schedule `serve` follows (configured or the connector's own), whether
/// `serve` polls it, and its settings, credentials marked.
#[test]
fn connectors_lists_every_registry_with_its_schedule_and_whether_serve_polls_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/generic/example-registry.toml");
    let config = dir.path().join("carbonmesh.toml");
    std::fs::write(
        &config,
        format!(
            "[connectors.verra]\nschedule = \"0 0 1 * * *\"\n\n[connectors.puro]\nenabled = false\n\n\
             [generic.example-registry]\nfile = {example:?}\n"
        ),
    )
    .expect("write config");
    let output = run(carbonmesh(dir.path())
        .args(["connectors", "--config"])
        .arg(&config));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    let line = |registry: &str| -> Vec<String> {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(registry))
            .unwrap_or_else(|| panic!("no line for {registry} in\n{text}"));
        // Columns are separated by two spaces or more.
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    };
    assert!(text.starts_with("REGISTRY "), "{text}");
    assert_eq!(
        line("verra"),
        [
            "verra",
            "yes",
            "0 0 1 * * *",
            "projects, transactions",
            "Verra Verified Carbon Standard registry"
        ]
    );
    assert_eq!(line("puro")[1], "no: enabled = false");
    assert_eq!(line("acr")[1], "no: not in [connectors.acr]");
    assert_eq!(
        line("acr")[2],
        "0 40 4 * * *",
        "the connector's own schedule"
    );
    assert!(
        line("isometric")[4].contains("client_secret (secret)"),
        "{text}"
    );
    assert!(
        line("cadt")[4].contains("base_url (required to poll)"),
        "{text}"
    );
    let example = line("example-registry");
    assert_eq!(example[1], "yes");
    assert_eq!(example[4], "described by [generic.example-registry]");
    let built_in = carbonmesh_server::connectors::descriptors().len();
    assert_eq!(
        text.lines().count(),
        1 + built_in + 1,
        "a header, the {built_in} built-in connectors and the described registry:\n{text}"
    );
}

#[test]
fn migrate_creates_a_sqlite_file_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("nested/dir/carbonmesh.db");
    for _ in 0..2 {
        let output = run(carbonmesh(dir.path())
            .args(["migrate", "--database"])
            .arg(&db));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout(&output).contains("is migrated (sqlite)"));
    }
    assert!(db.exists());
}

#[test]
fn migrate_defaults_to_a_sqlite_file_in_the_working_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(carbonmesh(dir.path()).arg("migrate"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("carbonmesh.db").exists());
}

#[test]
fn migrate_reads_the_database_url_from_the_environment_and_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(carbonmesh(dir.path())
        .arg("migrate")
        .env("CARBONMESH_DATABASE__URL", "sqlite:from-env.db"));
    assert!(output.status.success());
    assert!(dir.path().join("from-env.db").exists());
    // A variable of the earlier naming is refused, naming its replacement.
    let output = run(carbonmesh(dir.path())
        .arg("migrate")
        .env("CARBONMESH_DATABASE_URL", "sqlite:old.db"));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CARBONMESH_DATABASE_URL is no longer read")
            && stderr.contains("set CARBONMESH_DATABASE__URL"),
        "{stderr}"
    );
    assert!(!dir.path().join("old.db").exists());

    std::fs::write(
        dir.path().join("c.toml"),
        "[database]\nurl = \"from-config.db\"\n",
    )
    .expect("write config");
    let output = run(carbonmesh(dir.path()).args(["--config", "c.toml", "migrate"]));
    assert!(output.status.success());
    assert!(dir.path().join("from-config.db").exists());

    std::fs::write(dir.path().join("bad.toml"), "[database]\nurll = \"x\"\n").expect("write");
    let output = run(carbonmesh(dir.path()).args(["--config", "bad.toml", "migrate"]));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad.toml"));
}

#[test]
fn migrate_works_on_an_empty_postgres_database_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = postgres_database("migrate");
    for _ in 0..2 {
        let output = run(carbonmesh(dir.path()).args(["migrate", "--database", &url]));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout(&output).contains("is migrated (postgres)"));
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(carbonmesh(dir.path())
        .arg("migrate")
        .env("CARBONMESH_LOG__FORMAT", "json")
        .env("CARBONMESH_LOG__FILTER", "debug"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout(&output).contains("is migrated (sqlite)"));
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert!(!events.is_empty(), "no events logged at debug level");
    for event in &events {
        assert!(
            event.is_object()
                && event["level"].is_string()
                && (event["fields"].is_object() || event["message"].is_string()),
            "{event}"
        );
    }
}

#[test]
fn a_bad_database_url_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(carbonmesh(dir.path()).args(["migrate", "--database", "mysql://h/db"]));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid database URL"));
}

#[tokio::test]
async fn serve_answers_healthz_on_sqlite_and_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (database, backend) in [
        ("serve.db".to_owned(), "sqlite"),
        (postgres_database("serve"), "postgres"),
    ] {
        let server = Server::start(dir.path(), &database)
            .await
            .expect("server starts");
        let body: serde_json::Value = reqwest::get(format!("{}/healthz", server.base_url))
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        assert_eq!(body["status"], "ok");
        assert_eq!(body["backend"], backend);
        assert_eq!(body["credit_records"], 0);
    }
}

#[test]
fn serial_parse_prints_json_lines_and_fails_on_bad_serials() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1";
    let output = run(carbonmesh(dir.path()).args(["serial", "parse", good]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line: serde_json::Value = serde_json::from_str(stdout(&output).trim()).expect("json");
    assert_eq!(line["input"], good);
    assert_eq!(line["registry"], "verra");
    assert_eq!(line["start"], 941467007u64);
    assert_eq!(line["end"], 941467431u64);
    assert_eq!(
        line["quantity"], "425",
        "quantities are exact decimals, as strings"
    );

    let output = run(carbonmesh(dir.path()).args(["serial", "parse", good, "not a serial"]));
    assert!(!output.status.success());
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1]["error"].as_str().is_some_and(|e| !e.is_empty()));
}

#[test]
fn serial_parse_reads_standard_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = carbonmesh(dir.path())
        .args(["serial", "parse", "--registry", "verra", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1\n\n")
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success());
    assert_eq!(stdout(&output).lines().count(), 1);
}
