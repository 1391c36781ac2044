//! The Verra connector against the registry simulator: a sync over every feed, and faults.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use carbonmesh_connector::testkit::sync_feed;
use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy, Record};
use carbonmesh_connector_verra::{VerraConfig, VerraConnector};
use carbonmesh_model::{RegistryId, SerialRange};
use carbonmesh_simulator::formats::serial;
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed as SimFeed, FeedRow, RegistryScale, Scale,
    Simulator, SimulatorConfig, SimulatorHandle, Trigger,
};
use rust_decimal::prelude::ToPrimitive;

/// A few hundred Verra records, with one injected case of every kind.
fn config() -> SimulatorConfig {
    SimulatorConfig {
        seed: 7,
        scale: Scale {
            verra: RegistryScale {
                projects: 30,
                issuance_blocks: 60,
            },
            ..Scale::uniform(2, 4)
        },
        cases: CaseCounts::each(1),
        ..SimulatorConfig::default()
    }
}

/// Few attempts and short back-off, so that faults show quickly.
fn connector(sim: &SimulatorHandle, attempts: u32) -> VerraConnector {
    let http = HttpClient::new(HttpPolicy {
        timeout: Duration::from_secs(10),
        max_attempts: attempts,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
        requests_per_second: NonZeroU32::new(1000).expect("non-zero"),
        ..HttpPolicy::default()
    })
    .expect("client");
    VerraConnector::new(
        VerraConfig {
            page_size: 7,
            export_page_size: 50,
            ..VerraConfig::at(sim.base_url())
        },
        http,
    )
}

/// The simulator route a connector feed reads.
fn route(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::VerraProjects,
        Feed::Issuances => SimFeed::VerraIssuances,
        Feed::Retirements => SimFeed::VerraRetirements,
        Feed::Cancellations => SimFeed::VerraCancellations,
        Feed::Transactions => SimFeed::VerraTransactions,
    }
}

/// What a feed holds, read from the data set itself: project numbers, or credit serials with
/// their quantities.
fn served(sim: &SimulatorHandle, feed: SimFeed) -> BTreeMap<String, u64> {
    let dataset = sim.dataset();
    let mut out = BTreeMap::new();
    for row in (0..dataset.len(feed)).filter_map(|i| dataset.row(feed, i)) {
        let (key, n) = match row {
            FeedRow::Project(p) => (format!("VCS{}", p.number), 1),
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
            Record::Credit(c) => {
                let serial = c.serial.clone().unwrap_or_default();
                (serial, c.quantity.to_u64().unwrap_or_default())
            }
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
        let expected = served(&sim, route(feed));
        let rows = sim.dataset().len(route(feed));
        assert!(rows >= 30, "{feed}: {rows} rows is too small a test");
        assert_eq!(records.len() as u64, rows, "{feed}: one record per row");
        assert!(pages > 2, "{feed}: {pages} pages");
        assert_eq!(read(&records), expected, "{feed}: what was read");
        for r in &records {
            if let Record::Credit(credit) = r {
                assert_eq!(credit.registry, RegistryId::VERRA);
                if credit.serial.is_some() {
                    let range: &SerialRange =
                        credit.serial_range.as_ref().expect("a serial has a range");
                    assert!(range.start <= range.end);
                }
            }
        }
    }
    // Platts pages by POST body; the export by `$skip` with the empty page that ends it.
    assert_eq!(
        sim.requests(SimFeed::VerraProjects),
        sim.dataset().len(SimFeed::VerraProjects).div_ceil(7)
    );
    assert_eq!(
        sim.requests(SimFeed::VerraTransactions),
        sim.dataset().len(SimFeed::VerraTransactions).div_ceil(50) + 1
    );

    // The Platts event feeds read whole on request too.
    for feed in [Feed::Issuances, Feed::Retirements, Feed::Cancellations] {
        let (records, _) = sync_feed(&c, feed).await.expect("sync");
        assert_eq!(read(&records), served(&sim, route(feed)), "{feed}");
    }
    sim.shutdown().await;
}

fn on(feed: SimFeed, when: Trigger, fault: Fault) -> FaultPlan {
    FaultPlan::none().with(FaultRule::on(feed, when, fault))
}

#[tokio::test]
async fn a_429_storm_with_retry_after_still_completes() {
    let sim = Simulator::start(config()).await.expect("start");
    let c = connector(&sim, 4);
    for (feed, route) in [
        (Feed::Projects, SimFeed::VerraProjects),
        (Feed::Transactions, SimFeed::VerraTransactions),
    ] {
        sim.set_faults(on(
            route,
            Trigger::EveryNth(3),
            Fault::TooManyRequests {
                retry_after_secs: 1,
            },
        ));
        let started = Instant::now();
        let (records, _) = sync_feed(&c, feed).await.expect("completes");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After honoured"
        );
        assert_eq!(read(&records), served(&sim, route), "{feed}: nothing lost");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn broken_pages_fail_the_fetch() {
    let sim = Simulator::start(config()).await.expect("start");
    let c = connector(&sim, 2);

    // A persistent 500 on one page: the status, after every attempt.
    for (feed, route) in [
        (Feed::Projects, SimFeed::VerraProjects),
        (Feed::Transactions, SimFeed::VerraTransactions),
    ] {
        sim.set_faults(on(route, Trigger::Page(1), Fault::Status { status: 500 }));
        let error = sync_feed(&c, feed).await.expect_err("500");
        assert!(
            matches!(
                error,
                FetchError::Status {
                    status: 500,
                    attempts: 2,
                    ..
                }
            ),
            "{feed}: {error}"
        );
    }

    // Bodies cut half way: a JSON document, and a CSV that stops mid-row.
    sim.set_faults(on(
        SimFeed::VerraProjects,
        Trigger::Page(1),
        Fault::TruncatedBody,
    ));
    let error = sync_feed(&c, Feed::Projects).await.expect_err("cut");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("not valid JSON")),
        "{error}"
    );
    sim.set_faults(on(
        SimFeed::VerraTransactions,
        Trigger::Page(1),
        Fault::TruncatedBody,
    ));
    let error = sync_feed(&c, Feed::Transactions).await.expect_err("cut");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("truncated")),
        "{error}"
    );

    // Half a Platts page before the end, where `totalCount` announces a full one.
    sim.set_faults(on(
        SimFeed::VerraProjects,
        Trigger::Page(1),
        Fault::ShortPage,
    ));
    let error = sync_feed(&c, Feed::Projects).await.expect_err("short");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("total")),
        "{error}"
    );

    // A renamed column: the error names the column the export no longer has.
    sim.set_faults(on(
        SimFeed::VerraTransactions,
        Trigger::Page(0),
        Fault::RenameColumn {
            from: "Serial Number".into(),
            to: "Serial No".into(),
        },
    ));
    let error = sync_feed(&c, Feed::Transactions)
        .await
        .expect_err("renamed");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("Serial Number")),
        "{error}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_short_export_page_loses_no_row() {
    // The CSV export announces no total: paging goes on from where a short page stopped, and
    // ends on the first empty page.
    let sim = Simulator::start(config()).await.expect("start");
    let c = connector(&sim, 2);
    sim.set_faults(on(
        SimFeed::VerraTransactions,
        Trigger::Page(1),
        Fault::ShortPage,
    ));
    let (records, _) = sync_feed(&c, Feed::Transactions).await.expect("sync");
    assert_eq!(
        read(&records),
        served(&sim, SimFeed::VerraTransactions),
        "every row"
    );
    sim.shutdown().await;
}
