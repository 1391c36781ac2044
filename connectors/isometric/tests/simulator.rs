//! The Isometric connector against the carbonmesh registry simulator's Registry API v0: every
//! feed synced through its Relay cursors with both credentials, and the simulator's faults.

use carbonmesh_connector::testkit::{quick_http, sync_feed};
use carbonmesh_connector::{Connector, Feed, FetchError, Record};
use carbonmesh_connector_isometric::{IsometricConfig, IsometricConnector};
use carbonmesh_model::RegistryId;
use carbonmesh_simulator::formats::isometric::kilograms;
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
        scale: Scale::uniform(2, 4).with(RegistryId::ISOMETRIC, scale),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    }
}

/// Nodes per page: small, so that every feed spans several pages.
const PAGE: u32 = 7;

fn connector(sim: &SimulatorHandle, credentials: bool) -> IsometricConnector {
    let mut config = IsometricConfig {
        page_size: PAGE,
        ..IsometricConfig::new(sim.base_url())
    };
    if credentials {
        config = config.with_credentials("simulated-secret", "simulated-token");
    }
    IsometricConnector::new(config, quick_http())
}

fn sim_feed(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::IsometricProjects,
        Feed::Issuances => SimFeed::IsometricIssuances,
        Feed::Retirements => SimFeed::IsometricRetirements,
        other => panic!("Isometric has no {other} feed"),
    }
}

/// Kilograms per record id, from the data set.
fn kilograms_by_id(
    sim: &SimulatorHandle,
    feed: SimFeed,
) -> std::collections::BTreeMap<String, u64> {
    let dataset = sim.dataset();
    (0..dataset.len(feed))
        .filter_map(|i| match dataset.row(feed, i)? {
            FeedRow::Credit(c, _) => Some((serial::isometric_id(&c), kilograms(&c))),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn every_feed_syncs_once_through_its_cursors() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, true);
    for feed in c.feeds() {
        let served = sim_feed(*feed);
        let (records, pages) = sync_feed(&c, *feed).await.expect("sync");
        let rows = sim.dataset().len(served);
        assert!(rows > u64::from(PAGE), "{feed}: {rows} rows fit one page");
        assert_eq!(pages as u64, rows.div_ceil(u64::from(PAGE)), "{feed}");
        assert_eq!(sim.requests(served), pages as u64, "{feed}: none retried");
        let kg = kilograms_by_id(&sim, served);
        let mut keys = Vec::new();
        for record in records {
            match record {
                Record::Project(p) => keys.push(p.registry_project_id),
                Record::Credit(credit) if credit.record_key.ends_with("#buffer") => {
                    assert!(credit.serial_range.is_none(), "{}", credit.record_key);
                }
                Record::Credit(credit) => {
                    assert!(credit.serial.is_none(), "Isometric publishes no serials");
                    let range = credit.serial_range.clone().expect("a synthetic range");
                    let expected_kg = kg[&credit.record_key];
                    assert_eq!(range.namespace, format!("isometric:{}", credit.record_key));
                    assert_eq!((range.start, range.end), (1, expected_kg));
                    assert_eq!(
                        credit.quantity,
                        Decimal::new(i64::try_from(expected_kg).expect("fits"), 3),
                        "{}",
                        credit.record_key
                    );
                    keys.push(credit.record_key);
                }
            }
        }
        keys.sort();
        assert_eq!(
            keys,
            sim.dataset().served_keys(served),
            "{feed}: every row once"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_500_is_retried_and_missing_credentials_are_refused() {
    let sim = Simulator::start(config()).await.expect("simulator");
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::IsometricRetirements,
        Trigger::FirstRequests(1),
        Fault::Status { status: 500 },
    )));
    let page = connector(&sim, true)
        .fetch_page(Feed::Retirements, None)
        .await
        .expect("retried");
    assert_eq!(page.records.len(), PAGE as usize);
    assert!(page.next.is_some());
    assert_eq!(sim.requests(SimFeed::IsometricRetirements), 2);

    let error = connector(&sim, false)
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("no credentials");
    assert!(
        matches!(error, FetchError::Status { status: 401, .. }),
        "{error}"
    );
    sim.shutdown().await;
}
