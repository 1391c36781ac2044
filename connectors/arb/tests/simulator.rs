//! The ARB connector against the carbonmesh registry simulator's issuance table: the table
//! synced whole, its projects cross-referenced to the ACR, CAR and Verra projects the simulator
//! generated, and the simulator's faults.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::time::Duration;

use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy, Record};
use carbonmesh_connector_arb::{ArbConfig, ArbConnector};
use carbonmesh_model::{RegistryId, TransactionType};
use carbonmesh_simulator::{
    CaseCounts, Fault, FaultPlan, FaultRule, Feed as SimFeed, FeedRow, ProjectInfo, Scale,
    Simulator, SimulatorConfig, SimulatorHandle, Trigger,
};

fn config() -> SimulatorConfig {
    SimulatorConfig {
        seed: 5,
        scale: Scale::uniform(12, 40),
        cases: CaseCounts::each(1),
        ..SimulatorConfig::default()
    }
}

fn connector(sim: &SimulatorHandle, max_attempts: u32) -> ArbConnector {
    let policy = HttpPolicy {
        timeout: Duration::from_secs(10),
        max_attempts,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
        requests_per_second: NonZeroU32::new(1000).expect("non-zero"),
        ..HttpPolicy::default()
    };
    ArbConnector::new(
        ArbConfig::new(sim.base_url()),
        HttpClient::new(policy).expect("client"),
    )
}

/// The id carbonmesh stores for a project of the registry the credits came from.
fn registry_project_id(project: &ProjectInfo) -> String {
    match project.registry {
        RegistryId::VERRA => format!("VCS{}", project.number),
        _ => project.registry_id(),
    }
}

/// Every project the simulator's ACR, CAR and Verra project feeds serve.
fn generated_projects(sim: &SimulatorHandle) -> BTreeSet<(RegistryId, String)> {
    let dataset = sim.dataset();
    [
        SimFeed::AcrProjects,
        SimFeed::CarProjects,
        SimFeed::VerraProjects,
    ]
    .into_iter()
    .flat_map(|feed| (0..dataset.len(feed)).filter_map(move |i| dataset.row(feed, i)))
    .filter_map(|row| match row {
        FeedRow::Project(p) => Some((p.registry, registry_project_id(&p))),
        _ => None,
    })
    .collect()
}

#[tokio::test]
async fn the_table_syncs_and_cross_references_resolve() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, 2);
    let dataset = sim.dataset();

    // Counted from the data set: issuance ids, and the source project of each CARB project.
    let mut expected_issuances = Vec::new();
    let mut expected_sources: BTreeMap<String, (RegistryId, String)> = BTreeMap::new();
    for i in 0..dataset.len(SimFeed::ArbIssuances) {
        if let Some(FeedRow::Arb(row)) = dataset.row(SimFeed::ArbIssuances, i) {
            expected_issuances.push(row.issuance_id.clone());
            expected_sources.insert(
                row.project.arb_project_id(),
                (row.source_registry, registry_project_id(&row.project)),
            );
        }
    }
    expected_issuances.sort();
    let generated = generated_projects(&sim);
    let sources: BTreeSet<RegistryId> = expected_sources.values().map(|(r, _)| *r).collect();
    assert_eq!(
        sources,
        BTreeSet::from([RegistryId::ACR, RegistryId::CAR, RegistryId::VERRA]),
        "the table draws on all three registries"
    );

    let mut issuances = Vec::new();
    let mut projects = BTreeSet::new();
    for feed in c.feeds() {
        let mut cursor: Option<String> = None;
        loop {
            let page = c.fetch_page(*feed, cursor.as_deref()).await.expect("page");
            assert!(page.unreadable.is_empty(), "{:?}", page.unreadable);
            for raw in &page.records {
                let records = c
                    .normalize(raw)
                    .unwrap_or_else(|r| panic!("{} rejected: {r}", raw.location()));
                for record in records {
                    match record {
                        Record::Project(p) => {
                            let (registry, id) = expected_sources
                                .get(&p.registry_project_id)
                                .unwrap_or_else(|| panic!("unknown {}", p.registry_project_id));
                            let reference = p
                                .cross_references
                                .iter()
                                .find(|x| x.relation == "arb_offset_project")
                                .expect("a cross-reference to the offset project registry");
                            assert_eq!(reference.registry, Some(*registry));
                            assert_eq!(&reference.id, id);
                            assert!(
                                generated.contains(&(*registry, reference.id.clone())),
                                "{registry} {} is not a project the simulator generated",
                                reference.id
                            );
                            projects.insert(p.registry_project_id);
                        }
                        Record::Credit(credit) => {
                            // The table publishes no serials.
                            assert!(credit.serial.is_none() && credit.serial_range.is_none());
                            if credit.transaction_type.value == TransactionType::Issuance {
                                issuances.push(credit.record_key);
                            }
                        }
                    }
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    issuances.sort();
    assert_eq!(issuances, expected_issuances);
    assert_eq!(
        projects,
        expected_sources.keys().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(sim.requests(SimFeed::ArbIssuances), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_with_retry_after_still_completes() {
    let sim = Simulator::start(config()).await.expect("simulator");
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::ArbIssuances,
        Trigger::FirstRequests(2),
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
    )));
    let c = connector(&sim, 4);
    let started = std::time::Instant::now();
    let page = c
        .fetch_page(Feed::Issuances, None)
        .await
        .expect("completes");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After was honoured"
    );
    assert_eq!(
        page.records.len() as u64,
        sim.dataset().len(SimFeed::ArbIssuances)
    );
    assert_eq!(sim.requests(SimFeed::ArbIssuances), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_become_fetch_errors() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, 2);

    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::ArbIssuances,
        Trigger::Always,
        Fault::Status { status: 500 },
    )));
    let error = c.fetch_page(Feed::Issuances, None).await.expect_err("500");
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

    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::ArbIssuances,
        Trigger::Always,
        Fault::TruncatedBody,
    )));
    let error = c
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("truncated");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("truncated")),
        "{error}"
    );

    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::ArbIssuances,
        Trigger::Always,
        Fault::RenameColumn {
            from: "OPR Project ID".to_owned(),
            to: "OPR Project Identifier".to_owned(),
        },
    )));
    let error = c
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("renamed column");
    assert!(
        matches!(&error, FetchError::Malformed { reason, url }
            if reason.contains("missing required column")
                && reason.contains("\"OPR Project ID\"")
                && url.ends_with(ArbConfig::TABLE_PATH)),
        "{error}"
    );
    sim.shutdown().await;
}

#[test]
fn the_default_host_is_carbs() {
    assert_eq!(
        ArbConfig::default().table_url(),
        "https://ww2.arb.ca.gov/resources/documents/arb-offset-credit-issuance-table"
    );
}
