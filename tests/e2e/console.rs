//! The review console in a real headless Chromium, as compliance teams use it: sign in with a
//! key, the queue, an alert's evidence and overlap picture, a critical alert dismissed by two
//! reviewers, an observer who may only look, registry text shown as text, and an alert raised
//! by a webhook appearing in an open queue without a reload.
//!
//! With `CARBONMESH_BLESS=1` the screenshots it takes are written to `docs/` for the README.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use carbonmesh_e2e::{Browser, Server, carbonmesh, fixtures, succeed, token_in};
use carbonmesh_simulator::WebhookSender;
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// A project name that would run a script if the page ever set registry text as markup.
const HOSTILE: &str = "<img src=x onerror=alert(1)>";

const VERRA_HEADER: &str = "Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details";

/// Two Verra issuances claiming units 941467400..=941467431 twice (a critical alert), and a
/// row whose quantity is not a number (rejected with its reason).
fn double_issuance() -> String {
    format!(
        "{VERRA_HEADER}\n\
         2026-04-03,,2020-01-01,2020-12-31,1340,Bale Mountains Eco-region REDD+ project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"1,454,054\",425,19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1,,,,,\n\
         2026-04-05,,2020-01-01,2020-12-31,4471,Tigray Forest Project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"101\",101,19400-941467400-941467500-VCS-VCU-1507-VER-ET-14-4471-01012020-31122020-1,,,,,\n\
         2026-04-06,,2020-01-01,2020-12-31,4472,Tigray Forest Project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"x\",many,19401-941467501-941467600-VCS-VCU-1507-VER-ET-14-4472-01012020-31122020-1,,,,,\n"
    )
}

/// The two projects, pushed by webhook as the registry names them: one name hostile.
fn projects() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "common_format",
        "data": { "projects": [
            { "registry": "verra", "registry_project_id": "VCS1340",
              "name": "Bale Mountains Eco-region REDD+ project", "country": "ET" },
            { "registry": "verra", "registry_project_id": "VCS4471", "name": HOSTILE, "country": "ET" }
        ] }
    }))
    .expect("JSON")
}

/// A third issuance, pushed by webhook, claiming units of the first again.
fn webhook_issuance() -> Vec<u8> {
    let file = format!(
        "{VERRA_HEADER}\n\
         2026-05-02,,2020-01-01,2020-12-31,5120,Awash Valley Cookstoves,Ethiopia,Energy demand,VMR0006,\"20\",20,19500-941467010-941467029-VCS-VCU-1507-VER-ET-14-5120-01012020-31122020-1,,,,,\n"
    );
    serde_json::to_vec(&json!({
        "type": "registry_format",
        "data": { "feed": "transactions", "file": file }
    }))
    .expect("JSON")
}

fn cli(dir: &Path, config: &Path, args: &[&str]) -> String {
    let mut full = vec!["--config", config.to_str().expect("UTF-8 path")];
    full.extend_from_slice(args);
    succeed(carbonmesh(dir).args(&full))
}

/// Where the screenshots go: `docs/` when blessing, else the test's own folder.
fn screenshot_path(dir: &Path, name: &str) -> PathBuf {
    match std::env::var("CARBONMESH_BLESS").as_deref() {
        Ok("1") => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/images")
            .join(name),
        _ => dir.join(name),
    }
}

/// A screenshot of the page from its top, `height` pixels tall.
async fn picture(browser: &Browser, path: &Path, height: u32) {
    browser
        .client
        .set_window_size(1280, height)
        .await
        .expect("window size");
    browser
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll");
    browser.screenshot(path).await.expect("screenshot");
    browser
        .client
        .set_window_size(1280, 900)
        .await
        .expect("window size");
}

/// Alert ids the API lists under `filter`, asked with `token`.
async fn api_alert_ids(base: &str, token: &str, filter: Value) -> BTreeSet<String> {
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "query($f: AlertFilterInput) { alerts(filter: $f, first: 100) { nodes { id } } }",
            "variables": { "f": filter },
        }))
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("JSON");
    answer["data"]["alerts"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no alerts in {answer}"))
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect()
}

/// A project's name, as the API serves it.
async fn project_name(base: &str, token: &str, id: &str) -> Option<String> {
    let answer: Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({
            "query": "query($id: String!) { project(id: $id) { name } }",
            "variables": { "id": id },
        }))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    answer["data"]["project"]["name"]
        .as_str()
        .map(str::to_owned)
}

/// The queue's rows: (alert id, severity).
async fn queue_rows(browser: &Browser) -> Vec<(String, String)> {
    let rows = browser
        .execute(
            "return [...document.querySelectorAll('#queue tbody tr[data-alert-id]')]\
             .map(r => [r.dataset.alertId, r.dataset.severity]);",
            vec![],
        )
        .await
        .expect("read the queue");
    serde_json::from_value(rows).expect("rows")
}

/// Waits (at most 10 s) until the expression `js` is true in the page.
async fn until(browser: &Browser, js: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = browser
            .execute(&format!("return Boolean({js});"), vec![])
            .await
            .expect("evaluate");
        if value == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "`{js}` never held");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(browser: &Browser, base: &str, token: &str) {
    browser
        .goto(&format!("{base}/console"))
        .await
        .expect("open");
    browser.fill("#api-key", token).await.expect("type the key");
    browser.click("#sign-in").await.expect("sign in");
    browser.wait_for("#viewer").await.expect("signed in");
}

/// Takes a review step from the alert page: its button, then the form.
async fn step(browser: &Browser, action: &str, reason: Option<&str>, note: &str) {
    browser
        .click(&format!("#action-{action}"))
        .await
        .expect("action button");
    if let Some(reason) = reason {
        browser
            .execute(
                "document.getElementById('step-reason').value = arguments[0];",
                vec![json!(reason)],
            )
            .await
            .expect("choose the reason");
    }
    browser.fill("#step-note", note).await.expect("note");
    browser.click("#step-submit").await.expect("submit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_work_the_queue_in_a_browser() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("carbonmesh.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{}\"\n\n[api]\nanonymous_read = false\nsubscription_poll_ms = 200\n\n\
             [connectors.verra]\nenabled = false\nwebhook_secrets = [\"{SECRET}\"]\n\n\
             [connectors.isometric]\nenabled = true\nschedule = \"0 0 3 1 1 *\"\nbase_url = \"http://127.0.0.1:9\"\n",
            dir.path().join("carbonmesh.db").display()
        ),
    )
    .expect("config");
    // Seeded: the double issuance (critical) and the ACR → CARB conversions the real samples
    // hold (informational links).
    let csv = dir.path().join("verra-issuances.csv");
    std::fs::write(&csv, double_issuance()).expect("csv");
    cli(
        dir.path(),
        &config,
        &["import", "--registry", "verra", csv.to_str().expect("path")],
    );
    for (registry, folder) in [("acr", "american-carbon-registry"), ("arb", "carb-arb")] {
        let files = fixtures(folder);
        let mut args = vec!["import", "--registry", registry];
        args.extend(files.iter().map(|f| f.to_str().expect("UTF-8 path")));
        cli(dir.path(), &config, &args);
    }
    let key = |name: &str, role: &str| {
        token_in(&cli(
            dir.path(),
            &config,
            &["keys", "create", "--name", name, "--role", role],
        ))
    };
    let (ana, bo, olga) = (
        key("ana", "reviewer"),
        key("bo", "reviewer"),
        key("olga", "observer"),
    );
    let log = dir.path().join("server.log");
    let server = Server::start_logged(dir.path(), &config, &log)
        .await
        .expect("serve");
    let base = server.base_url.clone();
    let sender = WebhookSender::new(&base, "verra", &[SECRET]).expect("sender");
    let answer = sender.send(&projects()).await.expect("send the projects");
    assert_eq!(answer.status, 202, "{}", answer.body);
    let deadline = Instant::now() + Duration::from_secs(20);
    while project_name(&base, &ana, "verra:VCS4471").await.as_deref() != Some(HOSTILE) {
        assert!(
            Instant::now() < deadline,
            "the projects' webhook was not applied"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let open = json!({ "statuses": ["NEW", "ACKNOWLEDGED", "IN_REVIEW", "ESCALATED", "AWAITING_SECOND_REVIEW"] });
    let mut needing_action = open.clone();
    needing_action["severities"] = json!(["CRITICAL", "HIGH", "MEDIUM", "LOW"]);
    let action_ids = api_alert_ids(&base, &ana, needing_action).await;
    let open_ids = api_alert_ids(&base, &ana, open).await;
    assert!(
        !action_ids.is_empty(),
        "the double issuance raised no alert"
    );
    assert!(
        open_ids.len() > action_ids.len(),
        "the samples raised no informational alert"
    );

    // Ana signs in; the key stays out of the address.
    let first = Browser::start().await.expect("browser");
    sign_in(&first, &base, &ana).await;
    first
        .wait_for("#queue tbody tr[data-alert-id]")
        .await
        .expect("queue rows");
    let href = first
        .execute("return location.href;", vec![])
        .await
        .expect("href");
    assert!(!href.to_string().contains(&ana), "{href}");
    assert!(first.text("#viewer").await.expect("viewer").contains("ana"));

    // The queue: what needs action, informational alerts only when asked for.
    let rows = queue_rows(&first).await;
    let shown: BTreeSet<String> = rows.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(shown, action_ids);
    assert!(
        rows.iter().all(|(_, severity)| severity != "INFO"),
        "{rows:?}"
    );
    let toggle = first.text("label.toggle").await.expect("toggle");
    let info = open_ids.len() - action_ids.len();
    assert!(
        toggle.contains(&format!("Show informational ({info})")),
        "{toggle}"
    );
    picture(
        &first,
        &screenshot_path(dir.path(), "console-queue.png"),
        560,
    )
    .await;
    first.click("#show-informational").await.expect("toggle");
    first
        .wait_for("#queue tbody tr[data-severity='INFO']")
        .await
        .expect("informational rows");
    let with_info: BTreeSet<String> = queue_rows(&first)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(with_info, open_ids);

    // The audit file, from the console and over HTTP with the key in a header.
    first.click("#download-csv").await.expect("download");
    let saved = first
        .wait_for_text("p.notice", "Saved")
        .await
        .expect("saved");
    assert!(
        saved.contains("carbonmesh-alerts-") && saved.ends_with(".csv."),
        "{saved}"
    );
    let http = reqwest::Client::new();
    let csv = http
        .get(format!("{base}/exports/alerts.csv"))
        .bearer_auth(&olga)
        .send()
        .await
        .expect("GET /exports/alerts.csv");
    assert_eq!(csv.status().as_u16(), 200);
    let text = csv.text().await.expect("body");
    let mut lines = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = lines
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header[0], "id", "{header:?}");
    assert_eq!(lines.records().count(), open_ids.len());
    let anonymous = http
        .get(format!("{base}/exports/alerts.jsonl"))
        .send()
        .await
        .expect("GET without a key");
    assert_eq!(anonymous.status().as_u16(), 401);

    // The keyboard: j moves down the queue, Enter opens the selected alert.
    let rows = queue_rows(&first).await;
    let body = first.wait_for("body").await.expect("body");
    body.send_keys("j").await.expect("press j");
    until(
        &first,
        &format!(
            "document.querySelector('#queue tr.selected')?.dataset.alertId === '{}'",
            rows[1].0
        ),
    )
    .await;
    body.send_keys("\u{E007}").await.expect("press Enter");
    first.wait_for("#evidence").await.expect("the alert opened");
    let href = first
        .execute("return location.hash;", vec![])
        .await
        .expect("hash");
    assert_eq!(href, json!(format!("#/alert/{}", rows[1].0)));

    // The registries: a scheduled connector's next run, an import's rejected row with its reason.
    first
        .click("#nav a[data-nav='registries']")
        .await
        .expect("registries");
    let isometric = first
        .text("#registries tr[data-registry='isometric']")
        .await
        .expect("isometric");
    let next_new_year = {
        let now = chrono::Utc::now();
        let this_year = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&now), 1, 1)
            .and_then(|d| d.and_hms_opt(3, 0, 0))
            .expect("date")
            .and_utc();
        if this_year > now {
            this_year
        } else {
            this_year + chrono::Months::new(12)
        }
    };
    let next = format!("{} UTC", next_new_year.format("%Y-%m-%d %H:%M"));
    assert!(
        isometric.contains("0 0 3 1 1 *") && isometric.contains(&next),
        "{isometric}"
    );
    let verra = first
        .text("#registries tr[data-registry='verra']")
        .await
        .expect("verra");
    assert!(verra.contains("Complete"), "{verra}");
    first
        .click("#registries tr[data-registry='verra'] + tr.detail summary")
        .await
        .expect("open the rejected records");
    let rejected = first
        .wait_for_text(
            "#registries tr[data-registry='verra'] + tr.detail table",
            "verra-issuances.csv:4",
        )
        .await
        .expect("rejected records");
    assert!(rejected.to_lowercase().contains("quantity"), "{rejected}");

    // The critical alert: both records' facts, the hostile name as text, the overlap drawn.
    first
        .goto(&format!("{base}/console#/queue"))
        .await
        .expect("queue");
    until(
        &first,
        "!document.querySelector(\"#queue tbody tr[data-severity='INFO']\")",
    )
    .await;
    first
        .click("#queue tbody tr[data-severity='CRITICAL'] a")
        .await
        .expect("open the critical alert");
    let evidence = first.text("#evidence").await.expect("evidence");
    for fact in [
        "Bale Mountains Eco-region REDD+ project",
        HOSTILE,
        "425",
        "101",
        "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
        "19400-941467400-941467500-VCS-VCU-1507-VER-ET-14-4471-01012020-31122020-1",
        "2026-04-03",
        "2026-04-05",
        "verra-issuances.csv",
    ] {
        assert!(evidence.contains(fact), "{fact} missing from:\n{evidence}");
    }
    let images = first
        .execute(
            "return document.querySelectorAll('main img').length;",
            vec![],
        )
        .await
        .expect("count images");
    assert_eq!(images, json!(0), "a registry's text became markup");
    let ranges = first
        .execute(
            "const r = e => [e.getAttribute('data-start'), e.getAttribute('data-end')];\
             return { overlap: r(document.getElementById('overlap-band')),\
                      bars: [...document.querySelectorAll('#overlap-picture rect.bar')].map(r) };",
            vec![],
        )
        .await
        .expect("read the picture");
    assert_eq!(ranges["overlap"], json!(["941467400", "941467431"]));
    assert_eq!(
        ranges["bars"],
        json!([["941467007", "941467431"], ["941467400", "941467500"]])
    );
    let alert_url = first
        .execute("return location.href;", vec![])
        .await
        .expect("href");
    let alert_url = alert_url.as_str().expect("URL").to_owned();

    // Ana takes it, reviews it and asks to dismiss it: a critical alert waits for a second key.
    step(&first, "acknowledge", None, "taking this one").await;
    first
        .wait_for_text("#alert-status", "Acknowledged")
        .await
        .expect("acknowledged");
    step(&first, "start-review", None, "checking both issuances").await;
    first
        .wait_for_text("#alert-status", "In review")
        .await
        .expect("in review");
    step(
        &first,
        "dismiss",
        Some("different_entity"),
        "two distinct blocks per registry letter",
    )
    .await;
    first
        .wait_for_text("#alert-status", "Awaiting second review")
        .await
        .expect("awaiting");
    let four_eyes = first.text("#four-eyes").await.expect("four eyes");
    assert!(
        four_eyes.contains("ana proposed to dismiss it (different_entity)"),
        "{four_eyes}"
    );
    assert!(
        four_eyes.contains("another reviewer must take the second"),
        "{four_eyes}"
    );
    assert!(!first.exists("#action-dismiss").await.expect("look"));
    assert!(!first.exists("#action-confirm").await.expect("look"));
    picture(
        &first,
        &screenshot_path(dir.path(), "console-alert.png"),
        1500,
    )
    .await;

    // Bo, in a browser of his own, completes it; the timeline shows both.
    let second = Browser::start().await.expect("second browser");
    sign_in(&second, &base, &bo).await;
    second.goto(&alert_url).await.expect("open the alert");
    step(
        &second,
        "dismiss",
        Some("different_entity"),
        "agreed: different blocks",
    )
    .await;
    second
        .wait_for_text("#alert-status", "Dismissed")
        .await
        .expect("dismissed");
    let timeline = second.text("#timeline").await.expect("timeline");
    for line in [
        "ana via api: In review → Awaiting second review, decision: dismissed [different_entity]",
        "two distinct blocks per registry letter",
        "bo via api: Awaiting second review → Dismissed",
        "agreed: different blocks",
    ] {
        assert!(timeline.contains(line), "{line} missing from:\n{timeline}");
    }
    // Ana's open page follows: the decision arrives without a reload.
    first
        .wait_for_text("#alert-status", "Dismissed")
        .await
        .expect("live on ana's page");

    // An observer sees the same alert and no review step.
    second.click("#sign-out").await.expect("sign out");
    sign_in(&second, &base, &olga).await;
    second.goto(&alert_url).await.expect("open the alert");
    second.wait_for("#no-actions").await.expect("no actions");
    assert!(!second.exists("#actions").await.expect("look"));
    assert!(
        second
            .text("#evidence")
            .await
            .expect("evidence")
            .contains(HOSTILE)
    );
    second.close().await.expect("close");

    // A webhook raises an alert while Ana's queue is open: it appears without a reload.
    first
        .goto(&format!("{base}/console#/queue"))
        .await
        .expect("queue");
    first
        .wait_for_text("#live-state", "live")
        .await
        .expect("subscribed");
    first
        .execute("window.carbonmeshStayed = true;", vec![])
        .await
        .expect("mark the page");
    let before: BTreeSet<String> = queue_rows(&first)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let answer = sender.send(&webhook_issuance()).await.expect("send");
    assert_eq!(answer.status, 202, "{}", answer.body);
    let deadline = Instant::now() + Duration::from_secs(20);
    let raised = loop {
        let now: BTreeSet<String> = queue_rows(&first)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let new: Vec<String> = now.difference(&before).cloned().collect();
        if !new.is_empty() {
            break new;
        }
        assert!(
            Instant::now() < deadline,
            "no new alert reached the open queue"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let stayed = first
        .execute("return window.carbonmeshStayed === true;", vec![])
        .await
        .expect("read the mark");
    assert_eq!(stayed, json!(true), "the page was reloaded");
    let fresh = first
        .execute(
            "return [...document.querySelectorAll('#queue tbody tr.fresh')].map(r => r.dataset.alertId);",
            vec![],
        )
        .await
        .expect("fresh rows");
    assert_eq!(fresh, json!(raised));
    first.close().await.expect("close");

    // Three keys signed in, stepped, subscribed and downloaded: none reached the logs.
    drop(server);
    let logged = std::fs::read_to_string(&log).expect("server log");
    assert!(logged.contains("carbonmesh is serving"), "{logged}");
    for token in [&ana, &bo, &olga] {
        assert!(
            !logged.contains(token.as_str()),
            "a key's token is in the log"
        );
    }
}
