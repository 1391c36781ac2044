//! Connectors syncing from the registry simulator over HTTP, through the real binary: every
//! registry (a CAD Trust node and a registry described only in TOML included), faults, the
//! scheduler, and several instances sharing one PostgreSQL database.

use std::path::Path;
use std::time::{Duration, Instant};

use carbonmesh_e2e::{Server, carbonmesh, postgres_database, run};
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed, Scale, Simulator, SimulatorConfig,
    SimulatorHandle, Trigger,
};

/// Every built-in connector.
const REGISTRIES: [&str; 11] = [
    "verra",
    "gold-standard",
    "acr",
    "car",
    "arb",
    "art",
    "isometric",
    "puro",
    "cercarbono",
    "biocarbon",
    "cadt",
];

/// A registry carbonmesh has no Rust connector for, described by [`GENERIC_TOML`]: it reads
/// the simulator's CSV issuance table as a registry of its own.
const GENERIC: &str = "arb-table-mirror";

const GENERIC_TOML: &str = r#"
registry = "arb-table-mirror"
schedule = "0 0 6 * * *"

[source]
type = "http"
base_url = "https://mirror.example.org"

[feeds.issuances]
format = "csv"
path = "/resources/documents/arb-offset-credit-issuance-table"
key = "issuance:{column:CARB Issuance ID}"
transaction = { fixed = "issuance" }

[feeds.issuances.fields]
project_id = "CARB Project ID"
quantity = "ARB Offset Credits Issued"
vintage = "Vintage"
event_date = "Issuance Date"
period_start = "Reporting Period Start Date"
period_end = "Reporting Period End Date"
"#;

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

/// A config pointing every connector in `only` at the simulator, polling on `schedule`; the
/// credentials the simulator asks for are set where the registry needs them. `GENERIC` in
/// `only` adds the TOML-described registry.
fn write_config(
    dir: &Path,
    database: &str,
    base_url: &str,
    schedule: &str,
    only: &[&str],
) -> String {
    let mut text = format!("[database]\nurl = \"{database}\"\n");
    let polling = format!(
        "base_url = \"{base_url}\"\nschedule = \"{schedule}\"\n\
         requests_per_second = 500\ntimeout_seconds = 10\nmax_attempts = 2\n"
    );
    for registry in only {
        if *registry == GENERIC {
            std::fs::write(dir.join("arb-table-mirror.toml"), GENERIC_TOML)
                .expect("write generic description");
            text.push_str(&format!(
                "\n[generic.{GENERIC}]\nfile = \"arb-table-mirror.toml\"\n{polling}"
            ));
            continue;
        }
        text.push_str(&format!("\n[connectors.{registry}]\n{polling}"));
        match *registry {
            "biocarbon" => text.push_str("api_key = \"simulated-public-key\"\n"),
            "isometric" => text.push_str(
                "client_secret = \"simulated-secret\"\naccess_token = \"simulated-token\"\n",
            ),
            _ => {}
        }
    }
    let path = dir.join("carbonmesh.toml");
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

fn every_registry() -> Vec<&'static str> {
    REGISTRIES.iter().copied().chain([GENERIC]).collect()
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

fn credits(dir: &Path, config: &str) -> Vec<serde_json::Value> {
    let output = run(carbonmesh(dir).args([
        "--config", config, "export", "--what", "credits", "--format", "jsonl",
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
    credits(dir, config).len()
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
        &every_registry(),
    );

    let first = run(carbonmesh(dir.path()).args(["--config", &config, "sync"]));
    let stdout = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&first.stderr)
    );
    for registry in every_registry() {
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
    let registries: std::collections::BTreeSet<String> = credits(dir.path(), &config)
        .iter()
        .filter_map(|c| c["registry"].as_str().map(str::to_owned))
        .collect();
    for registry in every_registry() {
        assert!(registries.contains(registry), "no {registry} credit stored");
    }

    // One registry by name, the TOML-described one included.
    let one = run(carbonmesh(dir.path()).args(["--config", &config, "sync", GENERIC, "cadt"]));
    let stdout = String::from_utf8_lossy(&one.stdout);
    assert!(one.status.success(), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.contains(" complete: ")).count(),
        2,
        "{stdout}"
    );

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
async fn serve_polls_every_registry_from_the_simulator_on_its_schedule() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Every 4 seconds.
    let config = write_config(
        dir.path(),
        "serve.db",
        &sim.base_url(),
        "*/4 * * * * *",
        &every_registry(),
    );
    let server = Server::start_with_config(dir.path(), Path::new(&config))
        .await
        .expect("serve starts");
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut polled = std::collections::BTreeSet::new();
    while Instant::now() < deadline {
        polled = runs(dir.path(), &config)
            .into_iter()
            .filter(|r| r["trigger"] == "poll" && r["status"] == "complete")
            .filter_map(|r| r["connector"].as_str().map(str::to_owned))
            .collect();
        if polled.len() == every_registry().len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(server);
    let expected: std::collections::BTreeSet<String> =
        every_registry().into_iter().map(str::to_owned).collect();
    assert_eq!(
        polled, expected,
        "registries with a complete scheduled poll"
    );
    let registries: std::collections::BTreeSet<String> = credits(dir.path(), &config)
        .iter()
        .filter_map(|c| c["registry"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(registries, expected, "registries with credit records");
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
        carbonmesh_model::RegistryId::GOLD_STANDARD,
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

#[test]
fn demo_syncs_every_connector_from_its_simulator_a_cad_trust_node_included() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(carbonmesh(dir.path()).args([
        "--database",
        "demo.db",
        "demo",
        "--no-serve",
        "--projects",
        "6",
        "--blocks",
        "20",
    ]));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for registry in REGISTRIES {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{registry} ")))
            .unwrap_or_else(|| panic!("no line for {registry} in {stdout}"));
        assert!(line.ends_with(" complete)"), "{line}");
    }
    // A connector the simulator has no feeds for is named, not synced against a 404.
    assert!(
        stdout.lines().any(|l| l.trim_start().starts_with("toucan ")
            && l.ends_with("not simulated: the demo reads no records of it")),
        "{stdout}"
    );
    assert!(!stdout.contains("error:"), "{stdout}");
}
