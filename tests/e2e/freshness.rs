//! A registry that stops completing runs raises a `registry_overdue` alert while `serve`
//! runs, and the alert resolves itself once a run completes again.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use carbonmesh_e2e::{Server, carbonmesh, free_port, run};
use carbonmesh_simulator::{CaseCounts, Scale, Simulator, SimulatorConfig};

fn write_config(dir: &Path, verra_url: &str) -> PathBuf {
    let config = dir.join("carbonmesh.toml");
    let database = dir.join("carbonmesh.db");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{}\"\n\n\
             [freshness]\noverdue_after_runs = 2\ncheck_seconds = 1\n\n\
             [connectors.verra]\nbase_url = \"{verra_url}\"\nschedule = \"* * * * * *\"\n\
             max_attempts = 1\ntimeout_seconds = 5\nrequests_per_second = 500\n",
            database.display()
        ),
    )
    .expect("write config");
    config
}

/// What the API's `registries` says of Verra's freshness.
async fn verra_in_the_api(server: &Server) -> serde_json::Value {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/graphql", server.base_url))
        .json(&serde_json::json!({
            "query": "{ registries { id lastSuccessfulRun overdueAlert { id kind severity explanation } } }"
        }))
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("JSON");
    answer["data"]["registries"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .find(|r| r["id"] == "verra")
        .cloned()
        .unwrap_or_else(|| panic!("no verra in {answer}"))
}

/// The `registry_overdue` alert of Verra, once it is in `status` (within 60 s).
async fn overdue_alert(dir: &Path, config: &Path, status: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = run(carbonmesh(dir).arg("--config").arg(config).args([
            "alerts",
            "list",
            "--kind",
            "registry_overdue",
            "--format",
            "jsonl",
        ]));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let found = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
            .find(|a| a["id"] == "registry_overdue:verra" && a["status"] == status);
        if let Some(alert) = found {
            return alert;
        }
        assert!(
            Instant::now() < deadline,
            "no {status} registry_overdue alert within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_stops_completing_runs_raises_an_alert_until_it_runs_again() {
    let dir = tempfile::tempdir().expect("dir");
    // Verra cannot be reached: every run fails.
    let down = write_config(dir.path(), &format!("http://127.0.0.1:{}", free_port()));
    let server = Server::start_with_config(dir.path(), &down)
        .await
        .expect("serve");
    let alert = overdue_alert(dir.path(), &down, "new").await;
    assert_eq!(alert["kind"], "registry_overdue");
    assert_eq!(alert["severity"], "high");
    let explanation = alert["explanation"].as_str().expect("explanation");
    assert!(
        explanation.starts_with("No run of verra has completed since carbonmesh began watching it")
            && explanation.contains("on its schedule `* * * * * *`, 2 runs were due by")
            && explanation.ends_with("Its records may be stale."),
        "{explanation}"
    );
    // The registries' view in the API shows it beside the registry.
    let verra = verra_in_the_api(&server).await;
    assert_eq!(
        verra["lastSuccessfulRun"],
        serde_json::Value::Null,
        "{verra}"
    );
    assert_eq!(
        verra["overdueAlert"]["id"], "registry_overdue:verra",
        "{verra}"
    );
    assert_eq!(verra["overdueAlert"]["severity"], "HIGH", "{verra}");
    assert_eq!(verra["overdueAlert"]["explanation"], alert["explanation"]);
    // The matcher, which resolves alerts whose evidence is gone, leaves it alone.
    let matched = run(carbonmesh(dir.path())
        .arg("--config")
        .arg(&down)
        .args(["match", "--full"]));
    assert!(
        matched.status.success(),
        "{}",
        String::from_utf8_lossy(&matched.stderr)
    );
    assert_eq!(
        overdue_alert(dir.path(), &down, "new").await["id"],
        alert["id"]
    );
    drop(server);

    // Verra answers again: a run completes and the alert resolves itself.
    let simulator = Simulator::start(SimulatorConfig {
        seed: 3,
        scale: Scale::uniform(2, 4),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator");
    let up = write_config(dir.path(), &simulator.base_url());
    let server = Server::start_with_config(dir.path(), &up)
        .await
        .expect("serve again");
    let resolved = overdue_alert(dir.path(), &up, "resolved").await;
    let verra = verra_in_the_api(&server).await;
    assert!(verra["lastSuccessfulRun"].is_string(), "{verra}");
    assert_eq!(verra["overdueAlert"], serde_json::Value::Null, "{verra}");
    let shown = run(carbonmesh(dir.path()).arg("--config").arg(&up).args([
        "alerts",
        "show",
        resolved["id"].as_str().expect("id"),
    ]));
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("verra completed a run at"),
        "the history says why: {shown}"
    );
    drop(server);
    simulator.shutdown().await;
}
