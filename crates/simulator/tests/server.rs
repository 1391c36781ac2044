//! The HTTP server: pagination walks every record once; faults behave as configured.

use std::collections::BTreeSet;

use carbonmesh_model::RegistryId;
use carbonmesh_simulator::formats::serial;
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed, FeedKind, FeedRow, Scale, Simulator,
    SimulatorConfig, SimulatorHandle, Trigger,
};

fn config() -> SimulatorConfig {
    SimulatorConfig {
        seed: 21,
        scale: Scale::uniform(10, 40),
        cases: CaseCounts::each(1),
        ..SimulatorConfig::default()
    }
}

/// The serials a feed should serve, in order.
fn expected_serials(sim: &SimulatorHandle, feed: Feed) -> Vec<String> {
    let dataset = sim.dataset();
    (0..dataset.len(feed))
        .filter_map(|i| match dataset.row(feed, i) {
            Some(FeedRow::Credit(r, p)) => Some(serial::serial(&r, &p)),
            _ => None,
        })
        .collect()
}

fn platts_body(start: u64, limit: u64) -> String {
    format!(
        r#"{{"searchFilter":{{"pagination":{{"start":{start},"limit":{limit},"sortOptions":[{{"sort":"modifiedDate","dir":"DESC"}}]}},"filterModel":{{}}}}}}"#
    )
}

#[tokio::test]
async fn pagination_walks_every_record_exactly_once() {
    let sim = Simulator::start(config()).await.expect("start");
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    let client = reqwest::Client::new();

    // Verra Platts: start/limit in the JSON body.
    let url = sim
        .url_for(RegistryId::VERRA, FeedKind::Retirements)
        .expect("url");
    let mut served = Vec::new();
    let mut start = 0;
    loop {
        let page: serde_json::Value = client
            .post(&url)
            .header("content-type", "application/json")
            .body(platts_body(start, 7))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let entities = page["entities"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            page["totalCount"].as_u64(),
            Some(sim.dataset().len(Feed::VerraRetirements))
        );
        if entities.is_empty() {
            break;
        }
        served.extend(
            entities
                .iter()
                .filter_map(|e| e["serialNo"].as_str().map(str::to_string)),
        );
        start += 7;
    }
    assert_eq!(served, expected_serials(&sim, Feed::VerraRetirements));

    // Gold Standard: page from 1, size ≤ 25, bare array, total in a header.
    let url = sim
        .url_for(RegistryId::GOLD_STANDARD, FeedKind::Credits)
        .expect("url");
    let too_big = client
        .get(format!("{url}?page=1&size=26"))
        .send()
        .await
        .expect("send");
    assert_eq!(too_big.status(), 403);
    let mut served = Vec::new();
    for page in 1.. {
        let response = client
            .get(format!("{url}?page={page}&size=25"))
            .send()
            .await
            .expect("send");
        let total: u64 = response.headers()["x-total-count"]
            .to_str()
            .expect("header")
            .parse()
            .expect("number");
        assert_eq!(total, sim.dataset().len(Feed::GoldStandardCredits));
        let rows: Vec<serde_json::Value> = response.json().await.expect("json");
        if rows.is_empty() {
            break;
        }
        served.extend(
            rows.iter()
                .filter_map(|r| r["serial_number"].as_str().map(str::to_string)),
        );
    }
    assert_eq!(served, expected_serials(&sim, Feed::GoldStandardCredits));

    // ACR GreenTrace: form body with offset/max; a JSON body fails like the real one.
    let url = sim
        .url_for(RegistryId::ACR, FeedKind::Cancellations)
        .expect("url");
    let json_body = client
        .post(&url)
        .json(&serde_json::json!({"holdingStatus": "CANCELED"}))
        .send()
        .await
        .expect("send");
    assert_eq!(json_body.status(), 500);
    let mut served = Vec::new();
    let mut offset = 0;
    loop {
        let page: serde_json::Value = client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "offset={offset}&pageNumber=1&max=3&holdingStatus=CANCELED"
            ))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        let rows = page["datasets"]["cancelledCredits"]["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if rows.is_empty() {
            break;
        }
        served.extend(
            rows.iter()
                .filter_map(|r| r["holdingSerialNumber"].as_str().map(str::to_string)),
        );
        offset += 3;
    }
    assert_eq!(served, expected_serials(&sim, Feed::AcrCanceled));

    // Verra uiapi CSV: $skip/maxResults pages.
    let url = sim
        .url_for(RegistryId::VERRA, FeedKind::Transactions)
        .expect("url");
    let mut served = Vec::new();
    let mut skip = 0;
    loop {
        let text = client
            .post(format!("{url}&$skip={skip}&maxResults=50"))
            .send()
            .await
            .expect("send")
            .text()
            .await
            .expect("text");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let before = served.len();
        for record in reader.records() {
            served.push(record.expect("record")[11].to_string());
        }
        if served.len() == before {
            break;
        }
        skip += 50;
    }
    assert_eq!(served, expected_serials(&sim, Feed::VerraTransactions));
    let unique: BTreeSet<&String> = served.iter().collect();
    assert!(
        unique.len() + 4 >= served.len(),
        "serials are nearly all distinct"
    );

    // CAR: report page (with its session cookie), then the form download.
    let page = client
        .get(
            sim.url_for(RegistryId::CAR, FeedKind::Retirements)
                .expect("url"),
        )
        .send()
        .await
        .expect("send");
    let cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string();
    let page = page.text().await.expect("text");
    let token = page
        .split("name=\"c16e\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("token");
    let csv_text = client
        .post(format!(
            "{}/myModule/include/rptdownload.asp",
            sim.base_url()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(format!("c16e={token}&Parameters=r%3D206&FormatType=csv"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    // Without the session cookie the download is refused, as on APX.
    let refused = client
        .post(format!(
            "{}/myModule/include/rptdownload.asp",
            sim.base_url()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("c16e={token}&Parameters=r%3D206&FormatType=csv"))
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status().as_u16(), 403);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let served: Vec<String> = reader
        .records()
        .map(|r| r.expect("record")[1].to_string())
        .collect();
    assert_eq!(served, expected_serials(&sim, Feed::CarRetirements));

    // ARB table.
    let arb = client
        .get(
            sim.url_for(RegistryId::ARB, FeedKind::Issuances)
                .expect("url"),
        )
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert_eq!(
        csv::Reader::from_reader(arb.as_bytes()).records().count() as u64,
        sim.dataset().len(Feed::ArbIssuances)
    );

    sim.shutdown().await;
}

#[tokio::test]
async fn faults_behave_as_configured_and_change_at_runtime() {
    let plan = FaultPlan::none()
        .with(FaultRule::on(
            Feed::GoldStandardCredits,
            Trigger::FirstRequests(2),
            Fault::TooManyRequests {
                retry_after_secs: 3,
            },
        ))
        .with(FaultRule::on(
            Feed::VerraIssuances,
            Trigger::EveryNth(2),
            Fault::Status { status: 503 },
        ));
    let sim = Simulator::start(SimulatorConfig {
        faults: plan,
        ..config()
    })
    .await
    .expect("start");
    let client = reqwest::Client::new();

    let credits = format!(
        "{}?page=1&size=5",
        sim.url_for(RegistryId::GOLD_STANDARD, FeedKind::Credits)
            .expect("url")
    );
    for _ in 0..2 {
        let r = client.get(&credits).send().await.expect("send");
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "3");
    }
    assert_eq!(
        client.get(&credits).send().await.expect("send").status(),
        200
    );
    assert_eq!(sim.requests(Feed::GoldStandardCredits), 3);

    let issuances = sim
        .url_for(RegistryId::VERRA, FeedKind::Issuances)
        .expect("url");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = client
            .post(&issuances)
            .body(platts_body(0, 5))
            .send()
            .await
            .expect("send");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 503, 200, 503]);

    // Truncated CSV: cut in the middle of a row.
    let transactions = sim
        .url_for(RegistryId::VERRA, FeedKind::Transactions)
        .expect("url");
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        Feed::VerraTransactions,
        Trigger::Always,
        Fault::TruncatedBody,
    )));
    let text = client
        .post(&transactions)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(!text.ends_with('\n'), "a truncated CSV ends mid-row");
    let full_rows = sim.dataset().len(Feed::VerraTransactions) as usize;
    assert!(text.lines().count() < full_rows + 1);
    let last = text.lines().last().expect("a line");
    assert!(last.split(',').count() < 17, "the last row is cut: {last}");

    // Short JSON page: fewer entities than the page and total promise.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        Feed::VerraIssuances,
        Trigger::Page(1),
        Fault::ShortPage,
    )));
    let page0: serde_json::Value = client
        .post(&issuances)
        .body(platts_body(0, 10))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let page1: serde_json::Value = client
        .post(&issuances)
        .body(platts_body(10, 10))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(page0["entities"].as_array().map(Vec::len), Some(10));
    assert_eq!(page1["entities"].as_array().map(Vec::len), Some(5));
    assert_eq!(page1["totalCount"], page0["totalCount"]);

    // Truncated JSON body does not parse.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        Feed::VerraIssuances,
        Trigger::Always,
        Fault::TruncatedBody,
    )));
    let body = client
        .post(&issuances)
        .body(platts_body(0, 10))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(serde_json::from_str::<serde_json::Value>(&body).is_err());

    // Renamed column, then delay, then everything back to normal.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        Feed::VerraTransactions,
        Trigger::Always,
        Fault::RenameColumn {
            from: "Quantity Issued".to_string(),
            to: "Quantity  Issued".to_string(),
        },
    )));
    let text = client
        .post(&transactions)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(
        text.lines()
            .next()
            .is_some_and(|h| h.contains(",Quantity  Issued,"))
    );
    sim.set_faults(FaultPlan::none().with(FaultRule {
        feed: None,
        when: Trigger::FirstRequests(u64::MAX),
        fault: Fault::Delay { millis: 150 },
    }));
    let started = std::time::Instant::now();
    assert_eq!(
        client.get(&credits).send().await.expect("send").status(),
        200
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    sim.set_faults(FaultPlan::none());
    sim.reset_counters();
    assert_eq!(
        client.get(&credits).send().await.expect("send").status(),
        200
    );
    assert_eq!(sim.requests(Feed::GoldStandardCredits), 1);

    // The ground truth is served for tests that run the binary.
    let truth: serde_json::Value = client
        .get(format!("{}/_simulator/ground-truth", sim.base_url()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        truth.as_array().map(Vec::len),
        Some(sim.dataset().ground_truth().len())
    );
    sim.shutdown().await;
}

/// A change the registry makes (and announces by webhook) is what its feed publishes from then
/// on, so that the next poll confirms it rather than undoing it.
#[tokio::test]
async fn a_status_the_registry_changed_is_what_it_publishes() {
    let sim = Simulator::start(config()).await.expect("start");
    let url = sim
        .url_for(RegistryId::VERRA, FeedKind::Projects)
        .expect("url");
    let client = reqwest::Client::new();
    let page = || async {
        client
            .post(&url)
            .header("content-type", "application/json")
            .body(platts_body(0, 50))
            .send()
            .await
            .expect("send")
            .json::<serde_json::Value>()
            .await
            .expect("json")
    };
    let before = page().await;
    let first = &before["entities"][0];
    let number = first["projectId"].as_u64().expect("a project number");
    assert_eq!(first["status"], "Registered");

    sim.registry().set_verra_project_status(number, "On Hold");
    let after = page().await;
    let changed: Vec<&serde_json::Value> = after["entities"]
        .as_array()
        .expect("entities")
        .iter()
        .filter(|e| e["status"] != "Registered")
        .collect();
    assert_eq!(changed.len(), 1, "{after:#}");
    assert_eq!(changed[0]["projectId"].as_u64(), Some(number));
    assert_eq!(changed[0]["status"], "On Hold");
    assert_eq!(changed[0]["publicStateNameEn"], "On Hold");
}
