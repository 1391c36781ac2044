//! The simulator's injected cases, synced through every built-in connector into a SQLite
//! store with the matcher hooked into ingest: the alerts equal the ground truth (every case
//! found, nothing else), legitimate look-alikes raise nothing, and a full run finds the same.

use std::collections::BTreeSet;

use carbonmesh_matcher::{Mode, persist};
use carbonmesh_model::{Alert, AlertKind, AlertStatus, RegistryId, Severity};
use carbonmesh_server::{connectors, demo};
use carbonmesh_simulator::{
    CaseCounts, CaseKind, InjectedCase, RecordRef, Scale, Simulator, SimulatorConfig,
};
use carbonmesh_store::{DatabaseUrl, Store};

fn kind_of(case: CaseKind) -> Option<AlertKind> {
    Some(match case {
        CaseKind::OverlappingIssuance => AlertKind::SerialOverlapIssuance,
        CaseKind::DoubleRetirement => AlertKind::SerialStateConflict,
        CaseKind::UncoveredRetirement => AlertKind::UncoveredRetirement,
        CaseKind::QuantityMismatch => AlertKind::QuantityMismatch,
        CaseKind::CrossRegistryProject => AlertKind::CrossRegistryPeriodOverlap,
        CaseKind::ConversionWithoutTarget | CaseKind::ConversionQuantityMismatch => {
            AlertKind::ConversionUnmatched
        }
        CaseKind::BridgeRetirement => AlertKind::TokenOnRetired,
        CaseKind::ForeignActiveUnits => AlertKind::CrossRegistrySerialOverlap,
        CaseKind::ConversionMatched | CaseKind::ContainedRetirement | CaseKind::AdjacentRanges => {
            return None;
        }
    })
}

/// The identities a case's records show up under in alerts: serials for credit rows,
/// `<registry>:<id>` for projects.
fn case_keys(case: &InjectedCase) -> BTreeSet<String> {
    case.records
        .iter()
        .filter(|r| r.role != "arb_issuance")
        .map(|r| match &r.serial {
            Some(s) => s.clone(),
            None => project_key(r),
        })
        .collect()
}

/// A case project's id as alerts name it: `<registry>:<registry project id>`.
fn project_key(r: &RecordRef) -> String {
    let prefix = match r.registry {
        RegistryId::VERRA => "VCS",
        RegistryId::GOLD_STANDARD => "GS",
        _ => "",
    };
    format!("{}:{prefix}{}", r.registry, r.key)
}

fn alert_keys(alert: &Alert) -> BTreeSet<String> {
    alert
        .records
        .iter()
        .flat_map(|r| [r.serial.clone(), Some(r.record_key.clone())])
        .flatten()
        .collect()
}

/// Whether the alert is about the case: same kind, and its evidence names every record of
/// the case (a conversion's cancellation and the issuance it came from share a serial).
fn matches(alert: &Alert, case: &InjectedCase) -> bool {
    let keys = alert_keys(alert);
    let wanted = case_keys(case);
    // Overlap cases: the alert's overlap lies in the injected one. (Registries publishing
    // current-state sub-blocks report the overlap against a sub-block of the issuance.)
    if let Some(o) = &case.overlap {
        return alert
            .overlap
            .as_ref()
            .is_some_and(|a| a.namespace == o.namespace && a.start <= o.end && o.start <= a.end)
            && wanted.iter().any(|k| keys.contains(k));
    }
    match case.kind {
        CaseKind::ConversionWithoutTarget | CaseKind::ConversionQuantityMismatch => {
            wanted.iter().any(|k| keys.contains(k))
        }
        // The projects identify it; the issuance named may be published as sub-blocks.
        CaseKind::CrossRegistryProject => case
            .records
            .iter()
            .filter(|r| r.role == "project")
            .all(|r| keys.contains(&project_key(r))),
        _ => wanted.iter().all(|k| keys.contains(k)),
    }
}

async fn active_alerts(store: &dyn Store) -> Vec<Alert> {
    persist::stored_alerts(store)
        .await
        .expect("alerts")
        .into_values()
        .filter(|a| a.status != AlertStatus::Resolved && a.severity != Severity::Info)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_equal_the_ground_truth() {
    let cases = CaseCounts::each(2);
    let simulator = Simulator::start(SimulatorConfig {
        seed: 7,
        scale: Scale::uniform(40, 200),
        cases,
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator");
    let truth = carbonmesh_simulator::ground_truth(&SimulatorConfig {
        seed: 7,
        scale: Scale::uniform(40, 200),
        cases,
        ..SimulatorConfig::default()
    })
    .expect("ground truth");

    let kinds: BTreeSet<String> = truth.iter().map(|c| format!("{:?}", c.kind)).collect();
    assert_eq!(kinds.len(), 12, "every case kind is injected: {kinds:?}");

    let dir = tempfile::tempdir().expect("temporary directory");
    let url = DatabaseUrl::Sqlite(dir.path().join("carbonmesh.db"));
    let store = carbonmesh_store::connect(&url).await.expect("store");
    store.migrate().await.expect("migrate");
    for registry in connectors::built_in()
        .into_iter()
        .filter(|r| carbonmesh_simulator::Feed::simulated(*r))
    {
        let settings = demo::simulator_settings(registry, &simulator.base_url());
        let connector = connectors::build(registry, &settings).expect("connector");
        let outcome = carbonmesh_ingest::sync(
            store.as_ref(),
            &carbonmesh_matcher::MatchSession::new(),
            connector.as_ref(),
            "poll",
            |_| {},
        )
        .await
        .expect("sync");
        assert!(
            outcome.errors.is_empty(),
            "{registry}: {:?}",
            outcome.errors
        );
    }

    // Incremental: what the ingest hook stored while syncing.
    let incremental = active_alerts(store.as_ref()).await;
    let mut unexplained: Vec<&Alert> = incremental.iter().collect();
    for case in &truth {
        let found: Vec<&Alert> = incremental.iter().filter(|a| matches(a, case)).collect();
        match kind_of(case.kind) {
            Some(kind) => {
                let hits: Vec<&&Alert> = found.iter().filter(|a| a.kind == kind).collect();
                assert_eq!(hits.len(), 1, "{case:?} found as {found:#?}");
                unexplained.retain(|a| a.id != hits[0].id);
            }
            None => assert!(found.is_empty(), "look-alike {case:?} raised {found:#?}"),
        }
    }
    assert!(
        unexplained.is_empty(),
        "alerts beyond the ground truth: {unexplained:#?}"
    );
    // The legitimate conversions are recorded as links.
    let links = persist::stored_alerts(store.as_ref())
        .await
        .expect("alerts")
        .into_values()
        .filter(|a| a.kind == AlertKind::LinkedConversion)
        .count();
    assert!(links >= 2, "{links} linked conversions");

    // Full: the same alerts, nothing raised or resolved.
    let ids: BTreeSet<String> = incremental.iter().map(|a| a.id.clone()).collect();
    let report = persist::run(
        store.as_ref(),
        &carbonmesh_matcher::MatchSession::new(),
        Mode::Full,
        carbonmesh_matcher::now(),
    )
    .await
    .expect("full run");
    assert_eq!(report.reconciled.raised, 0, "{report:?}");
    assert_eq!(report.reconciled.resolved, 0, "{report:?}");
    let full: BTreeSet<String> = active_alerts(store.as_ref())
        .await
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(full, ids);
    let again = persist::run(
        store.as_ref(),
        &carbonmesh_matcher::MatchSession::new(),
        Mode::Incremental,
        carbonmesh_matcher::now(),
    )
    .await
    .expect("incremental run");
    assert_eq!((again.reconciled.raised, again.reconciled.resolved), (0, 0));
    simulator.shutdown().await;
}
