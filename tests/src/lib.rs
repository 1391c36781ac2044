//! Harness for end-to-end tests: starts the real `carbonmesh` binary against a fresh database.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub mod browser;

pub use browser::Browser;

/// The environment variable naming a PostgreSQL server for tests (see `scripts/test.sh`).
pub const POSTGRES_URL_VAR: &str = "CARBONMESH_TEST_POSTGRES_URL";

/// The environment variable naming the Chromium binary for browser tests (see
/// `scripts/with-chromium.sh`).
pub const CHROMIUM_VAR: &str = "CARBONMESH_TEST_CHROMIUM";

/// The environment variable naming chromedriver, Chromium's WebDriver, for browser tests (see
/// `scripts/with-chromium.sh`).
pub const CHROMEDRIVER_VAR: &str = "CARBONMESH_TEST_CHROMEDRIVER";

/// Path to the `carbonmesh` binary of this build.
///
/// The end-to-end tests are integration tests of `carbonmesh-server`, so cargo builds the binary,
/// with the same features as the test itself, into `target/<profile>/` before any test starts.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>/carbonmesh
        let binary = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable under target/<profile>/deps")
            .join("carbonmesh");
        assert!(
            binary.is_file(),
            "{} is missing: run the end-to-end tests with `cargo test -p carbonmesh-server`",
            binary.display()
        );
        binary
    })
}

/// A `carbonmesh` command with a clean environment: no inherited CARBONMESH_* settings.
pub fn carbonmesh(dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CARBONMESH_") {
            command.env_remove(key);
        }
    }
    command
}

/// Runs a command to completion, capturing its output.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("run carbonmesh")
}

/// Runs a command that must succeed; returns its standard output.
pub fn succeed(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The API key token in what `carbonmesh keys create` printed.
pub fn token_in(output: &str) -> String {
    output
        .split_whitespace()
        .find(|w| w.starts_with("cm_"))
        .unwrap_or_else(|| panic!("no API key token in `{output}`"))
        .to_owned()
}

/// The real registry samples in `../shared/fixtures/registries/<registry_dir>`, sorted; the
/// test fails loudly when the folder is missing. The Platts sample, which wraps entities of
/// three feeds in one document (a shape no registry publishes), is left out: the Verra
/// connector's own tests read it feed by feed.
pub fn fixtures(registry_dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/registries")
        .join(registry_dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("registry fixtures missing at {}: {e}", dir.display()))
        .map(|e| e.expect("fixture entry").path())
        .filter(|f| {
            !f.to_string_lossy()
                .contains("platts-publicReportPageSearch-samples")
        })
        .collect();
    files.sort();
    files
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// A `carbonmesh serve` process, killed when dropped.
pub struct Server {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub base_url: String,
}

impl Server {
    /// Starts `carbonmesh serve` on a free loopback port and waits until `/healthz` answers
    /// (for at most 30 s).
    pub async fn start(dir: &Path, database: &str) -> anyhow::Result<Server> {
        Self::spawn(dir, &["--database", database]).await
    }

    /// Starts `carbonmesh --config FILE serve` on a free loopback port.
    pub async fn start_with_config(dir: &Path, config: &Path) -> anyhow::Result<Server> {
        let config = config.display().to_string();
        Self::spawn(dir, &["--config", &config]).await
    }

    /// Starts `carbonmesh --config FILE serve` logging everything down to `debug` into
    /// `log`: for tests of what the server writes to its logs.
    pub async fn start_logged(dir: &Path, config: &Path, log: &Path) -> anyhow::Result<Server> {
        let config = config.display().to_string();
        Self::spawn_with(dir, &["--config", &config], Some(log)).await
    }

    async fn spawn(dir: &Path, global: &[&str]) -> anyhow::Result<Server> {
        Self::spawn_with(dir, global, None).await
    }

    async fn spawn_with(dir: &Path, global: &[&str], log: Option<&Path>) -> anyhow::Result<Server> {
        let port = free_port();
        let mut command = carbonmesh(dir);
        command
            .args(global)
            .args(["serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(log) = log {
            command
                .env("CARBONMESH_LOG__FILTER", "debug")
                .stderr(std::fs::File::create(log)?);
        }
        let child = command.spawn()?;
        let server = Server {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let answered = client
                .get(format!("{}/healthz", server.base_url))
                .send()
                .await
                .is_ok_and(|response| response.status().is_success());
            if answered {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("carbonmesh serve did not answer /healthz within 30 s")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh, empty PostgreSQL database for one test, on the server named by
/// `CARBONMESH_TEST_POSTGRES_URL`; the test fails loudly when it is not set.
pub fn postgres_database(name: &str) -> String {
    let admin = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
        panic!("{POSTGRES_URL_VAR} is not set: run scripts/test.sh, which starts PostgreSQL")
    });
    let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
    let database = format!("carbonmesh_e2e_{name}_{}", std::process::id());
    let psql = |sql: &str| {
        let status = Command::new("psql")
            .args([
                admin.as_str(),
                "-q",
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .stdout(Stdio::null())
            .status()
            .expect("run psql");
        assert!(status.success(), "psql failed: {sql}");
    };
    psql(&format!("CREATE DATABASE {database}"));
    format!("{base}/{database}")
}

/// The page at `url` as a headless Chromium shows it once its scripts ran (`--dump-dom`),
/// within 60 s; the test fails loudly when `CARBONMESH_TEST_CHROMIUM` is not set.
pub async fn rendered_dom(url: &str) -> anyhow::Result<String> {
    let chromium = std::env::var(CHROMIUM_VAR).unwrap_or_else(|_| {
        panic!("{CHROMIUM_VAR} is not set: run scripts/test.sh, which installs Chromium")
    });
    let profile = std::env::temp_dir().join(format!(
        "carbonmesh-chromium-{}-{}",
        std::process::id(),
        free_port()
    ));
    let run = tokio::process::Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run).await;
    let _ = std::fs::remove_dir_all(&profile);
    let output = output.map_err(|_| anyhow::anyhow!("Chromium did not finish within 60 s"))??;
    anyhow::ensure!(
        output.status.success(),
        "Chromium failed: {}",
        output.status
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
