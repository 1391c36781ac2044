//! The CAD Trust connector against the carbonmesh registry simulator's node routes: projects
//! and units synced through `page`/`limit`, and the simulator's faults.

use carbonmesh_connector::testkit::{block_keys, quick_http, sync_feed};
use carbonmesh_connector::{Connector, Feed, FetchError};
use carbonmesh_connector_cadt::{CadtConfig, CadtConnector};
use carbonmesh_model::RegistryId;
use carbonmesh_simulator::formats::serial;
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
        scale: Scale::uniform(2, 4).with(RegistryId::CADT, scale),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    }
}

/// Records per page: small, so that every feed spans several pages.
const PAGE: u32 = 4;

fn connector(sim: &SimulatorHandle) -> CadtConnector {
    let config = CadtConfig {
        page_limit: PAGE,
        ..CadtConfig::new(sim.base_url())
    };
    CadtConnector::new(config, quick_http())
}

fn sim_feed(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::CadtProjects,
        Feed::Transactions => SimFeed::CadtUnits,
        other => panic!("a CAD Trust node has no {other} feed"),
    }
}

#[tokio::test]
async fn every_feed_syncs_once_through_its_pages() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim);
    for feed in c.feeds() {
        let served = sim_feed(*feed);
        let (records, pages) = sync_feed(&c, *feed).await.expect("sync");
        let rows = sim.dataset().len(served);
        assert!(rows > u64::from(PAGE), "{feed}: {rows} rows fit one page");
        assert_eq!(pages as u64, rows.div_ceil(u64::from(PAGE)), "{feed}");
        assert_eq!(sim.requests(served), pages as u64, "{feed}: none retried");
        let keys = block_keys(&records, &format!("cadt:{}:", serial::CADT_ORG_UID));
        assert_eq!(
            keys,
            sim.dataset().served_keys(served),
            "{feed}: every row once"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_500_is_retried_and_a_short_page_before_the_last_is_malformed() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim);
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::CadtUnits,
        Trigger::FirstRequests(1),
        Fault::Status { status: 500 },
    )));
    let page = c
        .fetch_page(Feed::Transactions, None)
        .await
        .expect("retried");
    assert_eq!(page.records.len(), PAGE as usize);
    assert_eq!(sim.requests(SimFeed::CadtUnits), 2);

    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::CadtProjects,
        Trigger::Page(0),
        Fault::ShortPage,
    )));
    let error = c.fetch_page(Feed::Projects, None).await.expect_err("short");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("short page")),
        "{error}"
    );
    sim.shutdown().await;
}
