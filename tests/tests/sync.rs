//! Connectors syncing from the registry simulator over HTTP, through the real binary: every
//! registry, faults, and several instances sharing one PostgreSQL database.

use std::path::Path;
use std::time::{Duration, Instant};

use carbonmesh_e2e::{Server, carbonmesh, postgres_database, run};
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed, Scale, Simulator, SimulatorConfig,
    SimulatorHandle, Trigger,
};

const REGISTRIES: [&str; 5] = ["verra", "gold-standard", "acr", "car", "arb"];

async fn simulator() -> SimulatorHandle {
    Simulator::start(SimulatorConfig {
        seed: 7,
        scale: Scale::uniform(20, 60),
        cases: CaseCounts::each(1),
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A config pointing every connector at the simulator, polling on `schedule`.
fn write_config(
    dir: &Path,
    database: &str,
    base_url: &str,
    schedule: &str,
    only: &[&str],
) -> String {
    let mut text = format!("[database]\nurl = \"{database}\"\n");
    for registry in only {
        text.push_str(&format!(
            "\n[connectors.{registry}]\nbase_url = \"{base_url}\"\nschedule = \"{schedule}\"\n\
             requests_per_second = 500\ntimeout_seconds = 10\nmax_attempts = 2\n"
        ));
    }
    let path = dir.join("carbonmesh.toml");
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

fn runs(dir: &Path, config: &str) -> Vec<serde_json::Value> {
    let output = run(carbonmesh(dir).args([
        "--config", config, "export", "--what", "runs", "--format", "jsonl",
    ]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
}

fn credit_count(dir: &Path, config: &str) -> usize {
    let output = run(carbonmesh(dir).args([
        "--config", config, "export", "--what", "credits", "--format", "jsonl",
    ]));
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).lines().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_reads_every_registry_from_the_simulator_and_a_second_sync_changes_nothing() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        "sync.db",
        &sim.base_url(),
        "0 0 3 * * *",
        &REGISTRIES,
    );

    let first = run(carbonmesh(dir.path()).args(["--config", &config, "sync"]));
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for registry in REGISTRIES {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{registry}: ")))
            .unwrap_or_else(|| panic!("no line for {registry} in {stdout}"));
        assert!(line.contains(" complete: "), "{line}");
        assert!(
            !line.contains("new 0,"),
            "{registry} stored nothing: {line}"
        );
        // Within one run every record is new: a change would mean two source records
        // collapsed onto one key.
        assert!(line.contains(", changed 0,"), "{line}");
    }
    let stored = credit_count(dir.path(), &config);
    assert!(stored > 500, "{stored} credit records");

    let second = run(carbonmesh(dir.path()).args(["--config", &config, "sync"]));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{stdout}");
    for line in stdout.lines().filter(|l| l.contains(" complete: ")) {
        assert!(
            line.contains("new 0, changed 0,"),
            "re-sync changed something: {line}"
        );
    }
    assert_eq!(credit_count(dir.path(), &config), stored);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_leave_the_run_incomplete_and_the_next_run_completes() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(
        dir.path(),
        "faults.db",
        &sim.base_url(),
        "0 0 3 * * *",
        &["gold-standard"],
    );
    let sync = || run(carbonmesh(dir.path()).args(["--config", &config, "sync", "gold-standard"]));

    // A healthy first run.
    assert!(sync().status.success());
    let stored = credit_count(dir.path(), &config);

    let credits = Feed::find(
        carbonmesh_model::RegistryId::GoldStandard,
        carbonmesh_simulator::FeedKind::Credits,
    )
    .expect("gold standard credits feed");
    for fault in [
        Fault::Status { status: 500 },
        Fault::TruncatedBody,
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
    ] {
        sim.set_faults(FaultPlan::none().with(FaultRule::on(
            credits,
            Trigger::Page(1),
            fault.clone(),
        )));
        let output = sync();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            !output.status.success(),
            "{fault:?} must fail the run: {stdout}"
        );
        assert!(stdout.contains("incomplete"), "{fault:?}: {stdout}");
        assert!(
            stdout.contains("error:"),
            "{fault:?}: the error is named: {stdout}"
        );
        assert_eq!(
            credit_count(dir.path(), &config),
            stored,
            "{fault:?}: nothing deleted or duplicated"
        );
    }

    // A 429 that clears within the retries (two attempts per request) completes.
    sim.reset_counters();
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        credits,
        Trigger::FirstRequests(1),
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
    )));
    let output = sync();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    sim.set_faults(FaultPlan::none());
    let output = sync();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(" complete: "),
        "{stdout}"
    );
    assert_eq!(credit_count(dir.path(), &config), stored);
    let incomplete = runs(dir.path(), &config)
        .iter()
        .filter(|r| r["status"] == "incomplete")
        .count();
    assert_eq!(incomplete, 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_on_one_postgres_database_poll_once_per_tick() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let database = postgres_database("ticks");
    // Every 3 seconds.
    let config = write_config(
        dir.path(),
        &database,
        &sim.base_url(),
        "*/3 * * * * *",
        &["gold-standard"],
    );
    let config_path = Path::new(&config).to_path_buf();

    let a = Server::start_with_config(dir.path(), &config_path)
        .await
        .expect("first instance");
    let b = Server::start_with_config(dir.path(), &config_path)
        .await
        .expect("second instance");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut polls = Vec::new();
    while Instant::now() < deadline {
        polls = runs(dir.path(), &config)
            .into_iter()
            .filter(|r| r["trigger"] == "poll" && r["status"] != "running")
            .collect();
        if polls.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop((a, b));
    assert!(polls.len() >= 4, "only {} polls in 60 s", polls.len());
    // One run per tick: no two polls started within the same 3-second tick.
    let mut starts: Vec<chrono::DateTime<chrono::Utc>> = polls
        .iter()
        .map(|r| {
            r["started_at"]
                .as_str()
                .expect("started_at")
                .parse()
                .expect("time")
        })
        .collect();
    starts.sort();
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= chrono::Duration::milliseconds(2_000),
            "two polls {gap} apart: {pair:?}"
        );
    }
    sim.shutdown().await;
}
