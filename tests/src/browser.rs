//! A headless Chromium driven over WebDriver, for tests that use pages the way a person does:
//! clicking, typing, waiting for what the page's scripts show. Run under
//! `scripts/with-chromium.sh`, which installs Chromium and chromedriver.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::{CHROMEDRIVER_VAR, CHROMIUM_VAR, free_port};

/// How long `wait_for` and `wait_for_text` wait unless `Browser::wait` says otherwise: enough
/// for a page's scripts on a busy 2-core machine, short enough for a missing element to fail
/// the test quickly.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// How often the waits look again.
const POLL: Duration = Duration::from_millis(100);

/// One browser session with a chromedriver and a profile of its own, so that several can run
/// at once (two reviewers, say). Dropping it ends chromedriver and the browser;
/// [`Browser::close`] also ends the session cleanly.
pub struct Browser {
    /// The WebDriver session, for whatever the helpers below do not cover.
    pub client: Client,
    /// How long `wait_for` and `wait_for_text` wait.
    pub wait: Duration,
    driver: Driver,
}

/// The chromedriver process and the browser profile it uses.
struct Driver {
    child: tokio::process::Child,
    /// Removed when the driver is dropped, after the processes that write to it are gone.
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Chromium outlives a killed chromedriver; it runs in chromedriver's process group, so
        // killing the group ends both. kill_on_drop still ends chromedriver if this fails.
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless Chromium session in a
    /// fresh profile. Fails when `CARBONMESH_TEST_CHROMEDRIVER` or `CARBONMESH_TEST_CHROMIUM`
    /// is not set: browser tests run under `scripts/with-chromium.sh`, never skipped silently.
    pub async fn start() -> anyhow::Result<Browser> {
        let chromedriver = required_var(CHROMEDRIVER_VAR)?;
        let chromium = required_var(CHROMIUM_VAR)?;
        let profile = tempfile::Builder::new()
            .prefix("carbonmesh-browser-")
            .tempdir()?;
        let port = free_port();
        let child = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {chromedriver}"))?;
        let mut driver = Driver { child, profile };
        let url = format!("http://127.0.0.1:{port}");
        wait_until_ready(&mut driver.child, &url).await?;

        let options = json!({
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
                format!("--user-data-dir={}", driver.profile.path().display()),
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .with_context(|| format!("open a Chromium session through chromedriver at {url}"))?;
        Ok(Browser {
            client,
            wait: DEFAULT_WAIT,
            driver,
        })
    }

    /// Ends the session (chromedriver closes Chromium), then chromedriver.
    pub async fn close(self) -> anyhow::Result<()> {
        let Browser { client, driver, .. } = self;
        let closed = client.close().await.context("close the browser session");
        drop(driver);
        closed
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("open {url}"))
    }

    /// The first element matching `css`, once there is one.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<Element> {
        let found = self
            .client
            .wait()
            .at_most(self.wait)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => Ok(element),
            Err(error) => anyhow::bail!(
                "no `{css}` within {:?} ({error}); the page shows:\n{}",
                self.wait,
                self.page_text().await
            ),
        }
    }

    /// The text of the first element matching `css`, once it contains `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + self.wait;
        let mut last = None;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if text.contains(needle) {
                    return Ok(text);
                }
                last = Some(text);
            }
            if Instant::now() >= deadline {
                let seen = match last {
                    Some(text) => format!("it shows `{text}`"),
                    None => "there is none".to_owned(),
                };
                anyhow::bail!(
                    "no `{css}` containing `{needle}` within {:?}: {seen}; the page shows:\n{}",
                    self.wait,
                    self.page_text().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The text of the first element matching `css`, as rendered (waits for the element).
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let deadline = Instant::now() + self.wait;
        loop {
            let element = self.wait_for(css).await?;
            match element.text().await {
                Err(error) if is_stale(&error) && Instant::now() < deadline => continue,
                read => return read.with_context(|| format!("read the text of `{css}`")),
            }
        }
    }

    /// Clicks the first element matching `css` (waits for the element).
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + self.wait;
        loop {
            let element = self.wait_for(css).await?;
            match element.click().await {
                Err(error) if is_stale(&error) && Instant::now() < deadline => continue,
                clicked => return clicked.with_context(|| format!("click `{css}`")),
            }
        }
    }

    /// Replaces the value of the first input matching `css` with `value`, typed key by key so
    /// that the page's input handlers run (waits for the element).
    pub async fn fill(&self, css: &str, value: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + self.wait;
        loop {
            let element = self.wait_for(css).await?;
            let typed = match element.clear().await {
                Ok(()) => element.send_keys(value).await,
                Err(error) => Err(error),
            };
            match typed {
                Err(error) if is_stale(&error) && Instant::now() < deadline => continue,
                typed => return typed.with_context(|| format!("type into `{css}`")),
            }
        }
    }

    /// Whether an element matches `css` right now (no waiting).
    pub async fn exists(&self, css: &str) -> anyhow::Result<bool> {
        let found = self
            .client
            .find_all(Locator::Css(css))
            .await
            .with_context(|| format!("look for `{css}`"))?;
        Ok(!found.is_empty())
    }

    /// Writes a PNG of the window to `path`, for looking at what a test saw.
    pub async fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let png = self
            .client
            .screenshot()
            .await
            .context("take a screenshot")?;
        std::fs::write(path, png).with_context(|| format!("write {}", path.display()))
    }

    /// Runs `js` as a function body in the page (`arguments[i]` are `args`); returns what it
    /// returns.
    pub async fn execute(&self, js: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.client
            .execute(js, args)
            .await
            .with_context(|| format!("run `{js}` in the page"))
    }

    /// The page's visible text, or why it could not be read: for error messages.
    async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body
                .text()
                .await
                .unwrap_or_else(|e| format!("(unreadable: {e})")),
            Err(e) => format!("(no body: {e})"),
        }
    }
}

/// The value of an environment variable that `scripts/with-chromium.sh` exports.
fn required_var(name: &str) -> anyhow::Result<String> {
    std::env::var(name).with_context(|| {
        format!("{name} is not set: run the browser tests under scripts/with-chromium.sh")
    })
}

/// Waits (at most 100 × 100 ms) until chromedriver's `/status` says it is ready.
async fn wait_until_ready(child: &mut tokio::process::Child, url: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if let Some(status) = child.try_wait()? {
            anyhow::bail!("chromedriver exited on start ({status})");
        }
        if let Ok(response) = http.get(format!("{url}/status")).send().await
            && let Ok(body) = response.json::<Value>().await
            && body["value"]["ready"] == true
        {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
    anyhow::bail!("chromedriver at {url} was not ready within 10 s")
}

/// Whether a WebDriver error says the element was replaced since it was found: a page that
/// redraws itself live does that, and looking the element up again is the answer.
fn is_stale(error: &fantoccini::error::CmdError) -> bool {
    error.is_stale_element_reference()
}
