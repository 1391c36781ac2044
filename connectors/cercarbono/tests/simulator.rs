//! The Cercarbono connector against the carbonmesh registry simulator's EcoRegistry routes:
//! every feed in one response with the required headers, and the simulator's faults.

use carbonmesh_connector::testkit::{quick_http, sync_feed};
use carbonmesh_connector::{Connector, Feed, FetchError, Record};
use carbonmesh_connector_cercarbono::{CercarbonoConfig, CercarbonoConnector};
use carbonmesh_model::RegistryId;
use carbonmesh_simulator::formats::serial;
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed as SimFeed, FeedRow, RegistryScale, Scale,
    Simulator, SimulatorConfig, SimulatorHandle, Trigger,
};
use rust_decimal::Decimal;

fn config() -> SimulatorConfig {
    let scale = RegistryScale {
        projects: 9,
        issuance_blocks: 41,
    };
    SimulatorConfig {
        seed: 31,
        scale: Scale::uniform(2, 4).with(RegistryId::CERCARBONO, scale),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    }
}

fn connector(sim: &SimulatorHandle) -> CercarbonoConnector {
    CercarbonoConnector::new(CercarbonoConfig::new(sim.base_url()), quick_http())
}

fn sim_feed(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::CercarbonoProjects,
        Feed::Issuances => SimFeed::CercarbonoIssuances,
        Feed::Retirements => SimFeed::CercarbonoRetirements,
        other => panic!("Cercarbono has no {other} feed"),
    }
}

/// Retirements name their batch, not a range: compared by serial and quantity.
fn expected_retirements(sim: &SimulatorHandle) -> Vec<String> {
    let dataset = sim.dataset();
    let feed = SimFeed::CercarbonoRetirements;
    let mut keys: Vec<String> = (0..dataset.len(feed))
        .filter_map(|i| match dataset.row(feed, i)? {
            FeedRow::Credit(c, p) => Some(format!("{}:{}", serial::serial(&c, &p), c.quantity)),
            _ => None,
        })
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn every_feed_syncs_every_record_once() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim);
    for feed in c.feeds() {
        let served = sim_feed(*feed);
        let (records, pages) = sync_feed(&c, *feed).await.expect("sync");
        assert_eq!(pages, 1, "{feed}: one response holds everything");
        assert_eq!(sim.requests(served), 1, "{feed}: none retried");
        let mut keys = Vec::new();
        for record in records {
            match record {
                Record::Project(p) => keys.push(p.registry_project_id),
                Record::Credit(credit) => {
                    let serial = credit.serial.clone().expect("a serial");
                    if *feed == Feed::Retirements {
                        assert!(credit.serial_range.is_none(), "no positions, no range");
                        keys.push(format!("{serial}:{}", credit.quantity));
                        continue;
                    }
                    let range = credit.serial_range.clone().expect("a serial range");
                    assert_eq!(
                        (range.start, Decimal::from(range.end)),
                        (1, credit.quantity)
                    );
                    assert_eq!(range.namespace, format!("cercarbono:{serial}"));
                    keys.push(serial);
                }
            }
        }
        keys.sort();
        let expected = if *feed == Feed::Retirements {
            expected_retirements(&sim)
        } else {
            sim.dataset().served_keys(served)
        };
        assert_eq!(keys, expected, "{feed}: every row once");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_500_is_retried_and_a_cut_body_is_malformed() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim);
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::CercarbonoIssuances,
        Trigger::FirstRequests(1),
        Fault::Status { status: 500 },
    )));
    let page = c.fetch_page(Feed::Issuances, None).await.expect("retried");
    assert_eq!(
        page.records.len() as u64,
        sim.dataset().len(SimFeed::CercarbonoIssuances)
    );
    assert_eq!(sim.requests(SimFeed::CercarbonoIssuances), 2);

    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::CercarbonoRetirements,
        Trigger::Always,
        Fault::TruncatedBody,
    )));
    let error = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("cut");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("JSON")),
        "{error}"
    );
    sim.shutdown().await;
}
