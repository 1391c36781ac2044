//! The ART connector against the carbonmesh registry simulator's GreenTrace tenant
//! `ART_REGISTRY`: every feed synced page by page over HTTP, and the simulator's faults.

use carbonmesh_connector::testkit::{block_keys, credits, quick_http, sync_feed};
use carbonmesh_connector::{Connector, Feed, FetchError};
use carbonmesh_connector_art::{ArtConfig, ArtConnector};
use carbonmesh_model::RegistryId;
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed as SimFeed, RegistryScale, Scale, Simulator,
    SimulatorConfig, SimulatorHandle, Trigger,
};

/// Rows per page: small, so that every feed spans several pages.
const PAGE: u32 = 7;
fn config() -> SimulatorConfig {
    let art = RegistryScale {
        projects: 9,
        issuance_blocks: 41,
    };
    SimulatorConfig {
        seed: 29,
        scale: Scale::uniform(2, 4).with(RegistryId::ART, art),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    }
}

fn connector(sim: &SimulatorHandle) -> ArtConnector {
    let config = ArtConfig {
        page_size: PAGE,
        ..ArtConfig::new(sim.base_url())
    };
    ArtConnector::new(config, quick_http())
}

fn sim_feed(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::ArtProjects,
        Feed::Issuances => SimFeed::ArtIssued,
        Feed::Retirements => SimFeed::ArtRetired,
        Feed::Cancellations => SimFeed::ArtCanceled,
        Feed::Transactions => panic!("ART has no transactions feed"),
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
        for credit in credits(&records) {
            let prefix = match feed {
                Feed::Issuances => "issued:",
                Feed::Retirements => "retired:",
                _ => "cancelled:",
            };
            let serial = credit.serial.as_deref().unwrap_or_default();
            assert_eq!(credit.record_key, format!("{prefix}{serial}"));
        }
        let keys = block_keys(&records, "art:");
        assert_eq!(
            keys,
            sim.dataset().served_keys(served),
            "{feed}: every row once"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_500_is_retried_and_a_short_page_is_malformed() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim);
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::ArtRetired,
        Trigger::FirstRequests(1),
        Fault::Status { status: 500 },
    )));
    let page = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect("retried");
    assert_eq!(page.records.len(), PAGE as usize);
    assert_eq!(sim.requests(SimFeed::ArtRetired), 2);

    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::ArtIssued,
        Trigger::Page(1),
        Fault::ShortPage,
    )));
    c.fetch_page(Feed::Issuances, None)
        .await
        .expect("page 1 is whole");
    let error = c
        .fetch_page(Feed::Issuances, Some("2"))
        .await
        .expect_err("short page");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("totalCount")),
        "{error}"
    );
    sim.shutdown().await;
}
