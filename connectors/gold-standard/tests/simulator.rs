//! The Gold Standard connector against the registry simulator: a sync over every feed, and
//! faults.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use carbonmesh_connector::testkit::sync_feed;
use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy, Record};
use carbonmesh_connector_gold_standard::{GoldStandardConfig, GoldStandardConnector};
use carbonmesh_model::RegistryId;
use carbonmesh_simulator::formats::serial;
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed as SimFeed, FeedRow, RegistryScale, Scale,
    Simulator, SimulatorConfig, SimulatorHandle, Trigger,
};
use rust_decimal::prelude::ToPrimitive;

/// A few hundred Gold Standard records, with one injected case of every kind.
fn config() -> SimulatorConfig {
    SimulatorConfig {
        seed: 11,
        scale: Scale {
            gold_standard: RegistryScale {
                projects: 160,
                issuance_blocks: 60,
            },
            ..Scale::uniform(4, 20)
        },
        cases: CaseCounts::each(1),
        ..SimulatorConfig::default()
    }
}

/// Few attempts and short back-off, so that faults show quickly.
fn connector(sim: &SimulatorHandle, attempts: u32) -> GoldStandardConnector {
    let http = HttpClient::new(HttpPolicy {
        timeout: Duration::from_secs(10),
        max_attempts: attempts,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
        requests_per_second: NonZeroU32::new(1000).expect("non-zero"),
        user_agent: carbonmesh_connector_gold_standard::BROWSER_USER_AGENT.into(),
    })
    .expect("client");
    GoldStandardConnector::new(
        GoldStandardConfig {
            base_url: sim.base_url(),
        },
        http,
    )
}

/// The simulator route a connector feed reads.
fn route(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::GoldStandardProjects,
        _ => SimFeed::GoldStandardCredits,
    }
}

/// What a feed holds, read from the data set itself: project numbers, or credit serials with
/// their quantities.
fn served(sim: &SimulatorHandle, feed: SimFeed) -> BTreeMap<String, u64> {
    let dataset = sim.dataset();
    let mut out = BTreeMap::new();
    for row in (0..dataset.len(feed)).filter_map(|i| dataset.row(feed, i)) {
        let (key, n) = match row {
            FeedRow::Project(p) => (format!("GS{}", p.number), 1),
            FeedRow::Credit(r, p) => (serial::serial(&r, &p), r.quantity),
            FeedRow::Arb(_) => continue,
        };
        *out.entry(key).or_insert(0) += n;
    }
    out
}

/// What the connector read, in the shape of [`served`].
fn read(records: &[Record]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for r in records {
        let (key, n) = match r {
            Record::Project(p) => (p.registry_project_id.clone(), 1),
            Record::Credit(c) => (
                c.serial.clone().unwrap_or_default(),
                c.quantity.to_u64().unwrap_or_default(),
            ),
        };
        *out.entry(key).or_insert(0) += n;
    }
    out
}

#[tokio::test]
async fn a_sync_reads_every_record_the_simulator_serves() {
    let sim = Simulator::start(config()).await.expect("start");
    let c = connector(&sim, 2);
    assert_eq!(c.feeds(), &[Feed::Projects, Feed::Transactions]);
    for &feed in c.feeds() {
        let (records, pages) = sync_feed(&c, feed).await.expect("sync");
        let pages = pages as u64;
        let rows = sim.dataset().len(route(feed));
        assert!(rows >= 150, "{feed}: {rows} rows is too small a test");
        assert_eq!(records.len() as u64, rows, "{feed}: one record per row");
        assert_eq!(read(&records), served(&sim, route(feed)), "{feed}");
        // Pages of 150 projects and 25 credits, and no request past the announced total.
        let size = if feed == Feed::Projects { 150 } else { 25 };
        assert_eq!(pages, rows.div_ceil(size), "{feed}: pages");
        assert_eq!(sim.requests(route(feed)), pages, "{feed}: requests");
        for r in &records {
            if let Record::Credit(credit) = r {
                assert_eq!(credit.registry, RegistryId::GOLD_STANDARD);
                if credit.serial.is_some() {
                    let range = credit.serial_range.as_ref().expect("a serial has a range");
                    assert!(range.start <= range.end);
                }
            }
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_with_retry_after_still_completes() {
    let sim = Simulator::start(config()).await.expect("start");
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::GoldStandardCredits,
        Trigger::FirstRequests(2),
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
    )));
    let c = connector(&sim, 4);
    let started = Instant::now();
    let (records, pages) = sync_feed(&c, Feed::Transactions).await.expect("completes");
    let pages = pages as u64;
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured"
    );
    assert_eq!(
        read(&records),
        served(&sim, SimFeed::GoldStandardCredits),
        "nothing lost to the storm"
    );
    assert_eq!(sim.requests(SimFeed::GoldStandardCredits), pages + 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn broken_pages_fail_the_fetch() {
    let sim = Simulator::start(config()).await.expect("start");
    let c = connector(&sim, 2);
    let on_page_1 = |fault| {
        FaultPlan::none().with(FaultRule::on(
            SimFeed::GoldStandardCredits,
            Trigger::Page(1),
            fault,
        ))
    };

    // A persistent 500 on one page: the status, after every attempt.
    sim.set_faults(on_page_1(Fault::Status { status: 500 }));
    let error = sync_feed(&c, Feed::Transactions).await.expect_err("500");
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

    // A body cut half way.
    sim.set_faults(on_page_1(Fault::TruncatedBody));
    let error = sync_feed(&c, Feed::Transactions).await.expect_err("cut");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("not valid JSON")),
        "{error}"
    );

    // Half a page before the end, where X-Total-Count announces a full one.
    sim.set_faults(on_page_1(Fault::ShortPage));
    let error = sync_feed(&c, Feed::Transactions).await.expect_err("short");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("x-total-count")),
        "{error}"
    );

    // The same page of projects: short too.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::GoldStandardProjects,
        Trigger::Page(0),
        Fault::ShortPage,
    )));
    let error = sync_feed(&c, Feed::Projects).await.expect_err("short");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
    sim.shutdown().await;
}
