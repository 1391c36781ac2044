//! Webhooks through the real binary: signed with `carbonmesh webhook sign` or the simulator's
//! sender, refused and counted, and applied exactly once across a SIGKILL.

use std::path::Path;
use std::time::{Duration, Instant};

use carbonmesh_e2e::{Server, carbonmesh, run};
use carbonmesh_simulator::{Tamper, WebhookSender};

const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW: &str = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=";

fn write_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("carbonmesh.toml");
    let text = format!(
        "[database]\nurl = \"{}\"\n\n[connectors.verra]\nenabled = false\n\
         webhook_secrets = [\"{OLD}\", \"{NEW}\"]\n\n[webhooks]\nmax_body_bytes = 65536\n{extra}",
        dir.join("carbonmesh.db").display()
    );
    std::fs::write(&path, text).expect("write config");
    path
}

fn project_body(id: &str, name: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "type": "common_format",
        "data": { "projects": [{ "registry": "verra", "registry_project_id": id, "name": name }] }
    }))
    .expect("json")
}

fn export(dir: &Path, config: &Path, what: &str) -> Vec<serde_json::Value> {
    let output = run(carbonmesh(dir)
        .arg("--config")
        .arg(config)
        .args(["export", "--what", what, "--format", "jsonl"]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_acknowledged_before_a_crash_is_applied_once_after_restart() {
    let dir = tempfile::tempdir().expect("dir");
    // The first instance takes a minute to apply anything and holds a delivery for a second.
    let slow = write_config(
        dir.path(),
        "processing_delay_ms = 60000\nlease_seconds = 1\n",
    );
    let server = Server::start_with_config(dir.path(), &slow)
        .await
        .expect("serve");
    let sender = WebhookSender::new(&server.base_url, "verra", &[NEW]).expect("sender");
    let id = WebhookSender::next_id();
    let answer = sender
        .send_as(&id, &project_body("VCS1507", "Madre de Dios"), Tamper::None)
        .await
        .expect("send");
    assert_eq!(answer.status, 202, "{}", answer.body);
    // Let the worker claim it, then SIGKILL the process mid-processing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    drop(server);
    let before = export(dir.path(), &slow, "webhooks");
    assert_eq!(before.len(), 1);
    assert_eq!(before[0]["status"], "pending");
    assert!(export(dir.path(), &slow, "projects").is_empty());

    let fast = write_config(dir.path(), "lease_seconds = 1\n");
    let server = Server::start_with_config(dir.path(), &fast)
        .await
        .expect("restart");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let deliveries = export(dir.path(), &fast, "webhooks");
        if deliveries[0]["status"] == "applied" {
            assert!(deliveries[0]["attempts"].as_u64().is_some_and(|n| n >= 1));
            break;
        }
        assert!(Instant::now() < deadline, "not applied: {deliveries:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The sender retries (it never saw a failure, but retries are allowed): no second effect.
    let sender = WebhookSender::new(&server.base_url, "verra", &[NEW]).expect("sender");
    let replay = sender
        .send_as(&id, &project_body("VCS1507", "Madre de Dios"), Tamper::None)
        .await
        .expect("send");
    assert_eq!(replay.status, 200, "{}", replay.body);
    drop(server);
    let projects = export(dir.path(), &fast, "projects");
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0]["name"], "Madre de Dios");
    let deliveries = export(dir.path(), &fast, "webhooks");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(
        deliveries[0]["verification"],
        "v1 HMAC-SHA256 valid with secret 2 of 2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_by_the_cli_accepted_forged_refused_and_counted() {
    let dir = tempfile::tempdir().expect("dir");
    let config = write_config(dir.path(), "");
    let server = Server::start_with_config(dir.path(), &config)
        .await
        .expect("serve");
    let body_path = dir.path().join("body.json");
    let body = project_body("VCS985", "Cordillera Azul");
    std::fs::write(&body_path, &body).expect("write body");
    let output = run(carbonmesh(dir.path())
        .args(["webhook", "sign", "--secret", OLD, "--id", "msg_cli_1"])
        .arg(&body_path));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let headers = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut request = reqwest::Client::new().post(format!("{}/webhooks/verra", server.base_url));
    for line in headers.lines() {
        let (name, value) = line.split_once(": ").expect("header line");
        request = request.header(name, value);
    }
    assert!(headers.contains("webhook-id: msg_cli_1"));
    let response = request.body(body.clone()).send().await.expect("post");
    assert_eq!(response.status().as_u16(), 202);

    let sender = WebhookSender::new(&server.base_url, "verra", &[OLD]).expect("sender");
    let forged = sender
        .send_as("msg_forged", &body, Tamper::WrongSecret)
        .await
        .expect("send");
    assert_eq!(forged.status, 401);
    assert!(forged.body.contains("invalid signature"));
    let big = sender
        .send_as("msg_big", &vec![b' '; 70_000], Tamper::None)
        .await
        .expect("send");
    assert_eq!(big.status, 413);
    let unknown = WebhookSender::new(&server.base_url, "gold-standard", &[OLD])
        .expect("sender")
        .send(&body)
        .await
        .expect("send");
    assert_eq!(unknown.status, 404);
    drop(server);

    let rejections = export(dir.path(), &config, "webhook-rejections");
    let count = |connector: &str, reason: &str| {
        rejections
            .iter()
            .find(|r| r["connector"] == connector && r["reason"] == reason)
            .and_then(|r| r["count"].as_u64())
    };
    assert_eq!(count("verra", "invalid signature"), Some(1));
    assert_eq!(count("verra", "body too large"), Some(1));
    assert_eq!(count("(unknown)", "unknown connector"), Some(1));
    let deliveries = export(dir.path(), &config, "webhooks");
    assert_eq!(deliveries.len(), 1, "refused requests are not stored");
}
