//! The BioCarbon connector against the carbonmesh registry simulator's Global CarbonTrace
//! routes: Laravel pages with the `x-api-key`, cancellations per project, and the simulator's
//! faults.

use carbonmesh_connector::testkit::{block_keys, quick_http, sync_feed};
use carbonmesh_connector::{Connector, Feed, FetchError};
use carbonmesh_connector_biocarbon::{BiocarbonConfig, BiocarbonConnector};
use carbonmesh_model::RegistryId;
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed as SimFeed, RegistryScale, Scale, Simulator,
    SimulatorConfig, SimulatorHandle, Trigger,
};

fn config() -> SimulatorConfig {
    let scale = RegistryScale {
        projects: 9,
        issuance_blocks: 41,
    };
    SimulatorConfig {
        seed: 31,
        scale: Scale::uniform(2, 4).with(RegistryId::BIOCARBON, scale),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    }
}

/// Records per page: small, so that every feed spans several pages.
const PAGE: u32 = 4;

fn connector(sim: &SimulatorHandle, key: bool) -> BiocarbonConnector {
    let config = BiocarbonConfig {
        api_key: key.then(|| "simulated-public-key".to_owned()),
        page_size: PAGE,
        ..BiocarbonConfig::new(sim.base_url())
    };
    BiocarbonConnector::new(config, quick_http())
}

fn sim_feed(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::BiocarbonProjects,
        Feed::Issuances => SimFeed::BiocarbonIssuances,
        Feed::Retirements => SimFeed::BiocarbonRetirements,
        Feed::Cancellations => SimFeed::BiocarbonCancellations,
        Feed::Transactions => panic!("BioCarbon has no transactions feed"),
    }
}

#[tokio::test]
async fn every_feed_syncs_once_through_its_pages() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, true);
    let projects = sim.dataset().len(SimFeed::BiocarbonProjects);
    for feed in c.feeds() {
        let served = sim_feed(*feed);
        let (records, pages) = sync_feed(&c, *feed).await.expect("sync");
        let paged = if *feed == Feed::Cancellations {
            projects
        } else {
            sim.dataset().len(served)
        };
        assert_eq!(pages as u64, paged.div_ceil(u64::from(PAGE)), "{feed}");
        let requests = if *feed == Feed::Cancellations {
            projects
        } else {
            pages as u64
        };
        assert_eq!(sim.requests(served), requests, "{feed}: none retried");
        let keys = block_keys(&records, "biocarbon:");
        assert_eq!(
            keys,
            sim.dataset().served_keys(served),
            "{feed}: every row once"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_500_is_retried_and_short_pages_and_missing_keys_are_malformed() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, true);
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::BiocarbonRetirements,
        Trigger::FirstRequests(1),
        Fault::Status { status: 500 },
    )));
    let page = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect("retried");
    assert_eq!(page.records.len(), PAGE as usize);
    assert_eq!(sim.requests(SimFeed::BiocarbonRetirements), 2);

    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::BiocarbonIssuances,
        Trigger::Page(0),
        Fault::ShortPage,
    )));
    let error = c
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("short");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("announces")),
        "{error}"
    );

    sim.set_faults(FaultPlan::none());
    let error = connector(&sim, false)
        .fetch_page(Feed::Projects, None)
        .await
        .expect_err("no key");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("403")),
        "{error}"
    );
    sim.shutdown().await;
}
