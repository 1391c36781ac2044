//! The Puro.earth connector against the carbonmesh registry simulator's registry pages: every
//! page read out of its server-component stream, and the simulator's faults.

use carbonmesh_connector::testkit::quick_http;
use carbonmesh_connector::{Connector, Feed, FetchError, Record};
use carbonmesh_connector_puro::{PuroConfig, PuroConnector};
use carbonmesh_model::RegistryId;
use carbonmesh_simulator::formats::serial;
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed as SimFeed, FeedRow, RegistryScale, Scale,
    Simulator, SimulatorConfig, SimulatorHandle, Trigger,
};
use rust_decimal::Decimal;

/// More pages than any feed of the test data set has.
const MAX_PAGES: usize = 200;

fn config() -> SimulatorConfig {
    let scale = RegistryScale {
        projects: 9,
        issuance_blocks: 41,
    };
    SimulatorConfig {
        seed: 31,
        scale: Scale::uniform(2, 4).with(RegistryId::Puro, scale),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    }
}

/// Every record of `feed`, following `next` (bounded); every row must normalize. Returns the
/// records and the number of pages.
async fn sync(c: &PuroConnector, feed: Feed) -> Result<(Vec<Record>, usize), FetchError> {
    let mut cursor: Option<String> = None;
    let mut out = Vec::new();
    for pages in 1..=MAX_PAGES {
        let page = c.fetch_page(feed, cursor.as_deref()).await?;
        assert!(page.unreadable.is_empty(), "{feed}: {:?}", page.unreadable);
        for raw in &page.records {
            let records = c
                .normalize(raw)
                .unwrap_or_else(|r| panic!("{feed}: line {} rejected: {r}", raw.line));
            out.extend(records);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok((out, pages)),
        }
    }
    panic!("{feed}: more than {MAX_PAGES} pages");
}

/// What a feed serves, read from the data set: project ids, or serials.
fn expected(sim: &SimulatorHandle, feed: SimFeed) -> Vec<String> {
    let dataset = sim.dataset();
    let mut keys: Vec<String> = (0..dataset.len(feed))
        .filter_map(|i| match dataset.row(feed, i)? {
            FeedRow::Project(p) => Some(p.registry_id()),
            FeedRow::Credit(c, p) => Some(serial::serial(&c, &p)),
            FeedRow::Arb(_) => None,
        })
        .collect();
    keys.sort();
    keys
}

fn connector(sim: &SimulatorHandle) -> PuroConnector {
    PuroConnector::new(PuroConfig::new(sim.base_url()), quick_http())
}

fn sim_feed(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::PuroProjects,
        Feed::Issuances => SimFeed::PuroIssuances,
        Feed::Retirements => SimFeed::PuroRetirements,
        other => panic!("Puro has no {other} feed"),
    }
}

#[tokio::test]
async fn every_page_syncs_every_record_once() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim);
    for feed in c.feeds() {
        let served = sim_feed(*feed);
        let (records, pages) = sync(&c, *feed).await.expect("sync");
        assert_eq!(pages, 1, "{feed}: one page holds everything");
        assert_eq!(sim.requests(served), 1, "{feed}: none retried");
        let mut keys = Vec::new();
        for record in records {
            match record {
                Record::Project(p) => keys.push(p.registry_project_id),
                Record::Credit(credit) => {
                    let serial = credit.serial.clone().expect("a serial");
                    let range = credit.serial_range.clone().expect("a serial range");
                    assert_eq!(Decimal::from(range.quantity()), credit.quantity, "{serial}");
                    assert!(range.namespace.starts_with("puro:"), "{}", range.namespace);
                    keys.push(serial);
                }
            }
        }
        keys.sort();
        assert_eq!(keys, expected(&sim, served), "{feed}: every row once");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_500_is_retried_and_a_cut_page_is_malformed() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim);
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::PuroRetirements,
        Trigger::FirstRequests(1),
        Fault::Status { status: 503 },
    )));
    let page = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect("retried");
    assert_eq!(
        page.records.len() as u64,
        sim.dataset().len(SimFeed::PuroRetirements)
    );
    assert_eq!(sim.requests(SimFeed::PuroRetirements), 2);

    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::PuroIssuances,
        Trigger::Always,
        Fault::TruncatedBody,
    )));
    let error = c.fetch_page(Feed::Issuances, None).await.expect_err("cut");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
    sim.shutdown().await;
}
