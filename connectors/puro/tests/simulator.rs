//! The Puro.earth connector against the carbonmesh registry simulator's registry pages: every
//! page read out of its server-component stream, and the simulator's faults.

use carbonmesh_connector::testkit::{block_keys, quick_http, sync_feed};
use carbonmesh_connector::{Connector, Feed, FetchError};
use carbonmesh_connector_puro::{PuroConfig, PuroConnector};
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
        scale: Scale::uniform(2, 4).with(RegistryId::PURO, scale),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    }
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
        let (records, pages) = sync_feed(&c, *feed).await.expect("sync");
        assert_eq!(pages, 1, "{feed}: one page holds everything");
        assert_eq!(sim.requests(served), 1, "{feed}: none retried");
        let keys = block_keys(&records, "puro:");
        assert_eq!(
            keys,
            sim.dataset().served_keys(served),
            "{feed}: every row once"
        );
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
