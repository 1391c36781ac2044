//! The CAR connector against the carbonmesh registry simulator's APX routes: every report
//! downloaded through the report page and its form, and the simulator's faults.

use std::num::NonZeroU32;
use std::time::Duration;

use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy, Record};
use carbonmesh_connector_car::{CarConfig, CarConnector};
use carbonmesh_model::{RegistryId, TransactionType};
use carbonmesh_simulator::formats::serial;
use carbonmesh_simulator::{
    CaseCounts, CaseKind, Fault, FaultPlan, FaultRule, Feed as SimFeed, FeedRow, Scale, Simulator,
    SimulatorConfig, SimulatorHandle, Trigger,
};

fn config() -> SimulatorConfig {
    SimulatorConfig {
        seed: 11,
        scale: Scale::uniform(12, 30),
        cases: CaseCounts::each(1),
        ..SimulatorConfig::default()
    }
}

fn connector(sim: &SimulatorHandle, max_attempts: u32) -> CarConnector {
    let policy = HttpPolicy {
        timeout: Duration::from_secs(10),
        max_attempts,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
        requests_per_second: NonZeroU32::new(1000).expect("non-zero"),
        ..HttpPolicy::default()
    };
    CarConnector::new(
        CarConfig::new(sim.base_url()),
        HttpClient::new(policy).expect("client"),
    )
}

/// The simulator feed serving a connector feed.
fn sim_feed(feed: Feed) -> SimFeed {
    match feed {
        Feed::Projects => SimFeed::CarProjects,
        Feed::Issuances => SimFeed::CarIssuances,
        Feed::Retirements => SimFeed::CarRetirements,
        Feed::Cancellations => SimFeed::CarCancellations,
        Feed::Transactions => panic!("CAR has no transactions feed"),
    }
}

/// The key a row is compared by: the project id for projects, the serial for retirements and
/// cancellations, and `project:vintage:quantity` for issuances (report 112 has no serials).
fn issuance_key(project: &str, vintage: Option<i32>, quantity: impl std::fmt::Display) -> String {
    format!("{project}:{vintage:?}:{quantity}")
}

/// What a feed serves, read from the data set rather than over HTTP, sorted.
fn expected(sim: &SimulatorHandle, feed: SimFeed) -> Vec<String> {
    let dataset = sim.dataset();
    let mut keys: Vec<String> = (0..dataset.len(feed))
        .filter_map(|i| match dataset.row(feed, i)? {
            FeedRow::Project(p) => Some(p.registry_id()),
            FeedRow::Credit(c, p) if feed == SimFeed::CarIssuances => Some(issuance_key(
                &p.registry_id(),
                Some(c.vintage()),
                c.quantity,
            )),
            FeedRow::Credit(c, p) => Some(serial::serial(&c, &p)),
            FeedRow::Arb(_) => None,
        })
        .collect();
    keys.sort();
    keys
}

/// Serials the simulator made inconsistent on purpose (their quantity disagrees).
fn injected_mismatches(sim: &SimulatorHandle) -> Vec<String> {
    sim.dataset()
        .ground_truth()
        .iter()
        .filter(|c| c.kind == CaseKind::QuantityMismatch)
        .flat_map(|c| c.records.iter())
        .filter(|r| r.registry == RegistryId::CAR)
        .filter_map(|r| r.serial.clone())
        .collect()
}

#[tokio::test]
async fn every_report_downloads_through_its_page_and_form() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, 2);
    let mismatches = injected_mismatches(&sim);
    for feed in c.feeds() {
        let served = sim_feed(*feed);
        let mut cursor: Option<String> = None;
        let mut keys = Vec::new();
        let mut rejected = Vec::new();
        let mut pages = 0;
        loop {
            let page = c.fetch_page(*feed, cursor.as_deref()).await.expect("page");
            pages += 1;
            assert!(page.unreadable.is_empty(), "{feed}: {:?}", page.unreadable);
            for raw in &page.records {
                let records = match c.normalize(raw) {
                    Ok(records) => records,
                    Err(rejection) => {
                        let serial = raw
                            .field(&["Offset Credit Serial Numbers"])
                            .unwrap_or_default();
                        rejected.push((serial, rejection.to_string()));
                        continue;
                    }
                };
                for record in records {
                    match record {
                        Record::Project(p) => keys.push(p.registry_project_id),
                        Record::Credit(credit) => {
                            if let Some(serial) = &credit.serial {
                                assert!(
                                    credit.serial_range.is_some(),
                                    "{serial} has no serial_range"
                                );
                            }
                            match (*feed, credit.transaction_type.value) {
                                (Feed::Issuances, TransactionType::Issuance) => {
                                    keys.push(issuance_key(
                                        &credit.registry_project_id,
                                        credit.vintage,
                                        credit.quantity,
                                    ));
                                }
                                // Buffer and conversion amounts of an issuance row: none
                                // are served, so one would be counted as a surplus below.
                                (Feed::Issuances, _) => keys.push(credit.record_key),
                                _ => keys.push(credit.serial.clone().expect("serial")),
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
        assert_eq!(pages, 1, "{feed}: a report is one download");
        assert_eq!(
            sim.requests(served),
            1,
            "{feed}: one download, none retried"
        );
        // Only rows the simulator made inconsistent on purpose may be rejected.
        for (serial, reason) in &rejected {
            assert!(
                mismatches.contains(serial),
                "{feed}: unexpected rejection of {serial}: {reason}"
            );
        }
        let mut expected = expected(&sim, served);
        expected.retain(|k| !rejected.iter().any(|(s, _)| s == k));
        keys.sort();
        assert_eq!(
            keys.len() + rejected.len(),
            usize::try_from(sim.dataset().len(served)).expect("fits"),
            "{feed}"
        );
        assert_eq!(keys, expected, "{feed}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_429_storm_with_retry_after_still_completes() {
    let sim = Simulator::start(config()).await.expect("simulator");
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::CarRetirements,
        Trigger::FirstRequests(2),
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
    )));
    let c = connector(&sim, 4);
    let started = std::time::Instant::now();
    let page = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect("completes");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After was honoured"
    );
    assert_eq!(
        page.records.len() as u64,
        sim.dataset().len(SimFeed::CarRetirements)
    );
    assert_eq!(sim.requests(SimFeed::CarRetirements), 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn faults_become_fetch_errors() {
    let sim = Simulator::start(config()).await.expect("simulator");
    let c = connector(&sim, 2);

    // A persistent 500 on the download.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::CarIssuances,
        Trigger::Always,
        Fault::Status { status: 500 },
    )));
    let error = c.fetch_page(Feed::Issuances, None).await.expect_err("500");
    match &error {
        FetchError::Status {
            status: 500,
            attempts: 2,
            url,
        } => assert!(url.ends_with("/myModule/include/rptdownload.asp"), "{url}"),
        other => panic!("expected Status 500, got {other}"),
    }

    // A CSV cut in the middle of a row.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::CarCancellations,
        Trigger::Always,
        Fault::TruncatedBody,
    )));
    let error = c
        .fetch_page(Feed::Cancellations, None)
        .await
        .expect_err("truncated");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("truncated")),
        "{error}"
    );

    // A renamed column: the error names the column CAR's export should have.
    sim.set_faults(FaultPlan::none().with(FaultRule::on(
        SimFeed::CarRetirements,
        Trigger::Always,
        Fault::RenameColumn {
            from: "Offset Credit Serial Numbers".to_owned(),
            to: "Offset Credit Serials".to_owned(),
        },
    )));
    let error = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("renamed column");
    match &error {
        FetchError::Malformed { reason, url } => {
            assert!(
                reason.contains("missing required column")
                    && reason.contains("\"Offset Credit Serial Numbers\""),
                "{reason}"
            );
            assert!(url.ends_with("/myModule/rpt/myrpt.asp?r=206"), "{url}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
    sim.shutdown().await;
}
