//! The ACR connector against the carbonmesh registry simulator's GreenTrace routes: every feed
//! synced page by page, and the simulator's faults.

use std::num::NonZeroU32;
use std::time::Duration;

use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy, Record};
use carbonmesh_connector_acr::{AcrConfig, AcrConnector};
use carbonmesh_model::RegistryId;
use carbonmesh_simulator::{
    CaseCounts, CaseKind, Fault, FaultPlan, FaultRule, Feed as SimFeed, Scale, Simulator,
    SimulatorConfig, SimulatorHandle, Trigger,
};

/// Rows per GreenTrace page: small, so every feed spans several pages.
const PAGE: u32 = 7;

fn config() -> SimulatorConfig {
    SimulatorConfig {
        seed: 7,
        scale: Scale::uniform(12, 30),
        cases: CaseCounts::each(1),
        ..SimulatorConfig::default()
    }
}

fn policy(max_attempts: u32) -> HttpPolicy {
    HttpPolicy {
        timeout: Duration::from_secs(10),
        max_attempts,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
        requests_per_second: NonZeroU32::new(1000).expect("non-zero"),
        ..HttpPolicy::default()
    }
}

fn connector(sim: &SimulatorHandle, max_attempts: u32) -> AcrConnector {
    let config = AcrConfig {
        page_size: PAGE,
        ..AcrConfig::new(sim.base_url())
    };
    AcrConnector::new(
        config,
        HttpClient::new(policy(max_attempts)).expect("client"),
    )
}

/// The simulator feed serving a connector feed.
fn sim_feed(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::AcrProjects,
        Feed::Issuances => SimFeed::AcrIssued,
        Feed::Retirements => SimFeed::AcrRetired,
        Feed::Cancellations => SimFeed::AcrCanceled,
        Feed::Transactions => panic!("ACR has no transactions feed"),
    }
}

/// Serials the simulator made inconsistent on purpose (their quantity disagrees).
fn injected_mismatches(sim: &SimulatorHandle) -> Vec<String> {
    sim.dataset()
        .ground_truth()
        .iter()
        .filter(|c| c.kind == CaseKind::QuantityMismatch)
        .flat_map(|c| c.records.iter())
        .filter(|r| r.registry == RegistryId::ACR)
        .filter_map(|r| r.serial.clone())
        .collect()
}

/// Fetches every page of `feed` and normalizes every record. Returns the sorted keys (project
/// ids or serials) of what normalized, the serials rejected, and the pages fetched.
async fn sync(c: &AcrConnector, feed: Feed) -> Result<(Vec<String>, Vec<String>, u64), FetchError> {
    let mut cursor: Option<String> = None;
    let mut keys = Vec::new();
    let mut rejected = Vec::new();
    let mut pages = 0;
    loop {
        let page = c.fetch_page(feed, cursor.as_deref()).await?;
        pages += 1;
        assert!(page.unreadable.is_empty(), "{feed}: {:?}", page.unreadable);
        for raw in &page.records {
            match c.normalize(raw) {
                Ok(records) => {
                    for record in records {
                        match record {
                            Record::Project(p) => keys.push(p.registry_project_id),
                            Record::Credit(credit) => {
                                let serial = credit.serial.clone().expect("a holding has a serial");
                                assert!(
                                    credit.serial_range.is_some(),
                                    "{serial} has no serial_range"
                                );
                                keys.push(serial);
                            }
                        }
                    }
                }
                Err(rejection) => rejected.push(format!(
                    "{} ({rejection})",
                    raw.field(&["holdingSerialNumber"]).unwrap_or_default()
                )),
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    keys.sort();
    Ok((keys, rejected, pages))
}

#[tokio::test]
async fn every_feed_syncs_completely_from_the_simulator() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, 2);
    let mismatches = injected_mismatches(&sim);
    for feed in c.feeds() {
        let served = sim_feed(*feed);
        let (keys, rejected, pages) = sync(&c, *feed).await.expect("sync");
        let total = sim.dataset().len(served);
        assert_eq!(pages, total.div_ceil(u64::from(PAGE)).max(1), "{feed}");
        assert_eq!(
            sim.requests(served),
            pages,
            "{feed}: one request per page, none retried"
        );
        // Only rows the simulator made inconsistent on purpose may be rejected.
        for r in &rejected {
            assert!(
                mismatches.iter().any(|s| r.starts_with(s.as_str())),
                "{feed}: unexpected rejection {r}"
            );
        }
        let mut expected = sim.dataset().served_keys(served);
        expected.retain(|k| !rejected.iter().any(|r| r.starts_with(k.as_str())));
        assert_eq!(keys.len() as u64 + rejected.len() as u64, total, "{feed}");
        assert_eq!(keys, expected, "{feed}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_with_retry_after_still_completes() {
    let sim = Simulator::start(config()).await.expect("simulator");
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::AcrRetired,
        Trigger::FirstRequests(2),
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
    )));
    let c = connector(&sim, 4);
    let started = std::time::Instant::now();
    let (keys, _, pages) = sync(&c, Feed::Retirements).await.expect("completes");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After was honoured"
    );
    assert_eq!(keys.len() as u64, sim.dataset().len(SimFeed::AcrRetired));
    assert_eq!(sim.requests(SimFeed::AcrRetired), pages + 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_become_fetch_errors() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, 2);

    // A persistent 500 on the second page: the status after every attempt.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::AcrIssued,
        Trigger::Page(1),
        Fault::Status { status: 500 },
    )));
    c.fetch_page(Feed::Issuances, None).await.expect("page 1");
    let error = c
        .fetch_page(Feed::Issuances, Some("2"))
        .await
        .expect_err("500");
    assert!(
        matches!(
            error,
            FetchError::Status {
                status: 500,
                attempts: 2,
                ..
            }
        ),
        "{error}"
    );

    // A JSON body cut in half.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::AcrCanceled,
        Trigger::Always,
        Fault::TruncatedBody,
    )));
    let error = c
        .fetch_page(Feed::Cancellations, None)
        .await
        .expect_err("truncated");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("not valid JSON")),
        "{error}"
    );

    // A page with half its rows while totalCount announces all of them.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::AcrProjects,
        Trigger::Page(0),
        Fault::ShortPage,
    )));
    let error = c
        .fetch_page(Feed::Projects, None)
        .await
        .expect_err("short page");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("totalCount")),
        "{error}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn paging_fields_match_greentrace() {
    let c = AcrConnector::new(
        AcrConfig {
            page_size: 5000,
            ..AcrConfig::default()
        },
        HttpClient::new(policy(1)).expect("client"),
    );
    let request = c.page_request(Feed::Retirements, 3).expect("request");
    assert_eq!(
        request.url(),
        "https://greentrace.ice.com/api/greentraceservice/v1/credit/registry/ACR_REGISTRY/holding-summaries/results"
    );
    let debug = format!("{request:?}");
    for field in [
        "(\"offset\", \"4000\")",
        "(\"pageNumber\", \"3\")",
        "(\"max\", \"2000\")",
        "(\"holdingStatus\", \"RETIRED\")",
    ] {
        assert!(debug.contains(field), "{field} missing from {debug}");
    }
    // A host given with the API prefix is the same host.
    assert_eq!(
        AcrConfig::new("https://greentrace.ice.com/api/greentraceservice/v1/"),
        AcrConfig::default()
    );
}
