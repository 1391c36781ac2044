//! Stored alerts and the review workflow, against SQLite and PostgreSQL: alerts raised from
//! records, every review step with its history, the four-eyes rule for critical decisions,
//! racing reviewers, and an alert that resolves itself when a registry corrects its record
//! and reopens when the evidence comes back.

use std::sync::Arc;

use carbonmesh_matcher::review::{self, Action, Outcome, Reviewer};
use carbonmesh_matcher::{MatchError, Mode, persist};
use carbonmesh_model::{
    AlertKind, AlertStatus, Channel, CreditRecord, Normalized, Provenance, RegistryId, SerialRange,
    Severity, TransactionType, UnitStatus,
};
use carbonmesh_store::{Stamped, Store};
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;

// The storage tests' databases: a temporary SQLite file, a fresh PostgreSQL database.
#[allow(dead_code)]
#[path = "../../store/tests/support/mod.rs"]
#[macro_use]
mod support;

/// The reviewer with the API key of `name` (key id `key-<name>`).
fn key(name: &str) -> Reviewer {
    Reviewer {
        key_id: format!("key-{name}"),
        name: name.to_owned(),
        channel: Channel::Api,
    }
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, minute, 0)
        .single()
        .expect("valid time")
}

/// A Verra retirement of units `start..=end` for `beneficiary`.
fn retirement(key: &str, start: u64, end: u64, beneficiary: &str) -> Stamped<CreditRecord> {
    Stamped {
        record: CreditRecord {
            registry: RegistryId::VERRA,
            record_key: key.into(),
            registry_project_id: "VCS1507".into(),
            transaction_type: Normalized::new(TransactionType::Retirement, "Retirement"),
            quantity: Decimal::from(end - start + 1),
            serial: Some(format!(
                "9001-{start}-{end}-VCS-VCU-263-VER-PE-14-1507-01012019-31122019-0"
            )),
            serial_range: Some(SerialRange {
                namespace: "verra".into(),
                start,
                end,
            }),
            vintage: Some(2019),
            monitoring_period: None,
            event_date: chrono::NaiveDate::from_ymd_opt(2021, 3, 4),
            status: Normalized::new(UnitStatus::Retired, "Retired"),
            account: None,
            beneficiary: Some(beneficiary.into()),
            reason: None,
            note: None,
        },
        provenance: Provenance {
            source: format!("transactions.csv:{key}"),
            raw_hash: carbonmesh_model::sha256_hex(key.as_bytes()),
            fetched_at: at(0),
            run_id: None,
        },
    }
}

/// Two retirements of the same units by different beneficiaries: one double-use alert.
async fn double_retirement(store: &dyn Store) -> String {
    store
        .upsert_credits(&[
            retirement("ret-a", 1_001, 1_100, "Acme Airlines"),
            retirement("ret-b", 1_051, 1_150, "Globex Shipping"),
        ])
        .await
        .expect("upsert");
    let report = persist::run(
        store,
        &carbonmesh_matcher::MatchSession::new(),
        Mode::Full,
        at(1),
    )
    .await
    .expect("match");
    assert_eq!(report.reconciled.raised, 1, "{report:?}");
    let page = store.alerts_page(None, 100).await.expect("alerts");
    assert_eq!(page.len(), 1, "{page:#?}");
    let alert = &page[0];
    assert_eq!(alert.kind, AlertKind::SerialStateConflict);
    assert_eq!(alert.status, AlertStatus::New);
    let overlap = alert.overlap.as_ref().expect("overlap");
    assert_eq!((overlap.start, overlap.end), (1_051, 1_100));
    assert_eq!(alert.overlap_units, Some(50));
    alert.id.clone()
}

/// A history entry as (actor, from, to, reason).
type Step = (
    String,
    Option<AlertStatus>,
    Option<AlertStatus>,
    Option<String>,
);

fn workflow_error(result: Result<Outcome, MatchError>) -> String {
    match result {
        Err(
            e @ (MatchError::UnknownAlert(_)
            | MatchError::NotAllowed { .. }
            | MatchError::Incomplete(_)
            | MatchError::SameReviewer(_)
            | MatchError::Raced),
        ) => e.to_string(),
        other => panic!("expected a refused step, got {other:?}"),
    }
}

async fn every_step_is_in_the_history(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let id = double_retirement(store).await;

    // Out of order: a new alert cannot be confirmed or escalated.
    let refused = review::act(store, &id, &key("ana"), Action::Escalate, None, at(2)).await;
    assert!(workflow_error(refused).contains("cannot be moved"));

    let step = |who: &'static str, action: Action, note: Option<&str>, minute: u32| {
        let note = note.map(str::to_owned);
        let id = id.clone();
        async move { review::act(store, &id, &key(who), action, note, at(minute)).await }
    };
    assert_eq!(
        step("ana", Action::Acknowledge, None, 3)
            .await
            .expect("ack"),
        Outcome::Moved {
            from: AlertStatus::New,
            to: AlertStatus::Acknowledged
        }
    );
    let alert = store.alert(&id).await.expect("read").expect("alert");
    assert_eq!(alert.assignee.as_deref(), Some("ana"));

    step(
        "ana",
        Action::Assign {
            assignee: "ben".into(),
        },
        None,
        4,
    )
    .await
    .expect("assign");
    assert!(workflow_error(step("ben", Action::Comment, Some("  "), 5).await).contains("note"));
    step(
        "ben",
        Action::Comment,
        Some("Both retirements cite the same VCUs."),
        5,
    )
    .await
    .expect("comment");
    step("ben", Action::StartReview, None, 6)
        .await
        .expect("review");
    step("ben", Action::Escalate, None, 7)
        .await
        .expect("escalate");
    // Double use is critical: ben's confirmation waits for a second key, ana's makes it stand.
    assert_eq!(
        step("ben", Action::Confirm, None, 8)
            .await
            .expect("confirm"),
        Outcome::AwaitingSecondReviewer
    );
    step("ana", Action::Confirm, None, 8)
        .await
        .expect("second confirmation");
    step("ben", Action::Reopen, Some("Registry asked again."), 9)
        .await
        .expect("reopen");

    // A dismissal needs a known reason code and a note.
    let unknown = Action::Dismiss {
        reason: "looks_fine".into(),
    };
    assert!(workflow_error(step("ben", unknown, Some("n"), 10).await).contains("reason"));
    let dismiss = || Action::Dismiss {
        reason: "data_error_upstream".into(),
    };
    assert!(workflow_error(step("ben", dismiss(), None, 10).await).contains("note"));
    assert_eq!(
        step(
            "ben",
            dismiss(),
            Some("Verra corrected the second retirement."),
            10,
        )
        .await
        .expect("request"),
        Outcome::AwaitingSecondReviewer
    );
    step("ana", dismiss(), Some("Agreed: upstream data error."), 11)
        .await
        .expect("dismiss");
    let alert = store.alert(&id).await.expect("read").expect("alert");
    assert_eq!(alert.status, AlertStatus::Dismissed);
    assert_eq!(alert.assignee.as_deref(), Some("ben"));

    // Only a key reviews.
    let nobody = Reviewer {
        key_id: String::new(),
        ..key("matcher")
    };
    let refused = review::act(store, &id, &nobody, Action::Reopen, None, at(12)).await;
    assert!(workflow_error(refused).contains("API key"));

    let history = store.alert_events(&id).await.expect("history");
    let moves: Vec<Step> = history
        .iter()
        .map(|e| {
            (
                e.actor.clone(),
                e.from_status,
                e.to_status,
                e.reason.clone(),
            )
        })
        .collect();
    use AlertStatus::*;
    let s = |x: &str| Some(x.to_owned());
    assert_eq!(
        moves,
        vec![
            ("matcher".into(), None, Some(New), s("raised")),
            ("ana".into(), Some(New), Some(Acknowledged), s("review")),
            ("ana".into(), None, None, s("assigned")),
            ("ben".into(), None, None, s("comment")),
            (
                "ben".into(),
                Some(Acknowledged),
                Some(InReview),
                s("review")
            ),
            ("ben".into(), Some(InReview), Some(Escalated), s("review")),
            (
                "ben".into(),
                Some(Escalated),
                Some(AwaitingSecondReview),
                s("confirmed")
            ),
            (
                "ana".into(),
                Some(AwaitingSecondReview),
                Some(Confirmed),
                s("confirmed")
            ),
            ("ben".into(), Some(Confirmed), Some(InReview), s("reopened")),
            (
                "ben".into(),
                Some(InReview),
                Some(AwaitingSecondReview),
                s("data_error_upstream")
            ),
            (
                "ana".into(),
                Some(AwaitingSecondReview),
                Some(Dismissed),
                s("data_error_upstream")
            ),
        ]
    );
    // Who acted is the key, through its channel; first decisions say what they decided.
    assert!(history[1..].iter().all(|e| e.actor_key.as_deref()
        == Some(format!("key-{}", e.actor).as_str())
        && e.channel == Some(Channel::Api)));
    assert_eq!(history[0].channel, Some(Channel::System));
    assert_eq!(history[6].decision, Some(Confirmed));
    assert_eq!(history[9].decision, Some(Dismissed));
    // Oldest first, with the time of each step.
    assert!(history.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(
        history[3].note.as_deref(),
        Some("Both retirements cite the same VCUs.")
    );
}

async fn critical_decisions_need_two_distinct_keys(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let id = double_retirement(store).await;
    let alert = store.alert(&id).await.expect("read").expect("alert");
    // Double use of retired units is critical by the taxonomy.
    assert_eq!(alert.severity, Severity::Critical);
    let act = |who: Reviewer, action: Action, minute: u32| {
        let id = id.clone();
        async move {
            review::act(
                store,
                &id,
                &who,
                action,
                Some("Same beneficiary group.".into()),
                at(minute),
            )
            .await
        }
    };
    let dismiss = |reason: &str| Action::Dismiss {
        reason: reason.into(),
    };
    let status = || async { store.alert(&id).await.expect("read").expect("alert").status };
    act(key("ana"), Action::Acknowledge, 2).await.expect("ack");
    assert_eq!(
        act(key("ana"), dismiss("different_entity"), 3)
            .await
            .expect("first decision"),
        Outcome::AwaitingSecondReviewer
    );
    assert_eq!(status().await, AlertStatus::AwaitingSecondReview);
    // The same key cannot be the second pair of eyes, whatever name it gives.
    let ana_again = Reviewer {
        name: "someone else".into(),
        ..key("ana")
    };
    let refused = act(ana_again, dismiss("different_entity"), 4).await;
    assert!(workflow_error(refused).contains("another reviewer"));
    assert_eq!(status().await, AlertStatus::AwaitingSecondReview);

    // A second key with another reason disagrees: on record, and back to review.
    assert_eq!(
        act(key("ben"), dismiss("data_error_upstream"), 5)
            .await
            .expect("disagree"),
        Outcome::Moved {
            from: AlertStatus::AwaitingSecondReview,
            to: AlertStatus::InReview
        }
    );
    let history = store.alert_events(&id).await.expect("history");
    let last = history.last().expect("an entry");
    assert_eq!(
        last.reason.as_deref(),
        Some(review::SECOND_REVIEW_DISAGREED)
    );
    let note = last.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("dismissed by ana (different_entity)")
            && note.contains("dismissed by ben (data_error_upstream)"),
        "{note}"
    );

    // Agreement from two keys makes a decision stand, confirmations as dismissals.
    act(key("ben"), Action::Confirm, 6).await.expect("first");
    assert_eq!(
        act(key("eve"), Action::Confirm, 7).await.expect("second"),
        Outcome::Moved {
            from: AlertStatus::AwaitingSecondReview,
            to: AlertStatus::Confirmed
        }
    );
    act(key("eve"), Action::Reopen, 8).await.expect("reopen");
    act(key("eve"), dismiss("different_entity"), 9)
        .await
        .expect("first");
    act(key("ana"), dismiss("different_entity"), 10)
        .await
        .expect("second");
    assert_eq!(status().await, AlertStatus::Dismissed);
}

async fn racing_reviewers_move_an_alert_once(store: Arc<dyn Store>) {
    let id = double_retirement(store.as_ref()).await;
    let tasks: Vec<_> = ["ana", "ben", "eve", "joe"]
        .into_iter()
        .map(|who| {
            let store = store.clone();
            let id = id.clone();
            tokio::spawn(async move {
                review::act(
                    store.as_ref(),
                    &id,
                    &key(who),
                    Action::Acknowledge,
                    None,
                    at(2),
                )
                .await
            })
        })
        .collect();
    let mut moved = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(Outcome::Moved { .. }) => moved += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(MatchError::NotAllowed { .. } | MatchError::Raced) => {}
            Err(e) => panic!("store failed: {e}"),
        }
    }
    assert_eq!(moved, 1);
    let history = store.alert_events(&id).await.expect("history");
    assert_eq!(
        history
            .iter()
            .filter(|e| e.to_status == Some(AlertStatus::Acknowledged))
            .count(),
        1
    );
}

async fn corrected_evidence_resolves_and_returning_evidence_reopens(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let id = double_retirement(store).await;
    // The registry corrects the second retirement: it no longer overlaps the first.
    store
        .upsert_credits(&[retirement("ret-b", 1_101, 1_200, "Globex Shipping")])
        .await
        .expect("correct");
    let report = persist::run(
        store,
        &carbonmesh_matcher::MatchSession::new(),
        Mode::Incremental,
        at(5),
    )
    .await
    .expect("match");
    assert_eq!(report.reconciled.resolved, 1, "{report:?}");
    let alert = store.alert(&id).await.expect("read").expect("alert");
    assert_eq!(alert.status, AlertStatus::Resolved);
    // Re-running finds nothing new.
    let again = persist::run(
        store,
        &carbonmesh_matcher::MatchSession::new(),
        Mode::Full,
        at(6),
    )
    .await
    .expect("match");
    assert_eq!((again.reconciled.raised, again.reconciled.resolved), (0, 0));

    // The registry reverts its correction: the same overlap, so the same alert, reopened,
    // with both steps in its history.
    store
        .upsert_credits(&[retirement("ret-b", 1_051, 1_150, "Globex Shipping")])
        .await
        .expect("regress");
    let report = persist::run(
        store,
        &carbonmesh_matcher::MatchSession::new(),
        Mode::Full,
        at(7),
    )
    .await
    .expect("match");
    assert_eq!(report.reconciled.reopened, 1, "{report:?}");
    let alerts = store.alerts_page(None, 100).await.expect("alerts");
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert_eq!(alert.status, AlertStatus::New);
    assert_eq!(
        alert.overlap.as_ref().map(|o| (o.start, o.end)),
        Some((1_051, 1_100))
    );
    let statuses: Vec<Option<AlertStatus>> = store
        .alert_events(&id)
        .await
        .expect("history")
        .iter()
        .map(|e| e.to_status)
        .collect();
    assert_eq!(
        statuses,
        vec![
            Some(AlertStatus::New),
            Some(AlertStatus::Resolved),
            Some(AlertStatus::New)
        ]
    );
}

async fn alerts_page_in_id_order(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let template = {
        double_retirement(store).await;
        store.alerts_page(None, 1).await.expect("alerts").remove(0)
    };
    for i in 0..25 {
        let mut a = template.clone();
        a.id = format!("test-{i:03}");
        a.explanation = format!("alert {i}");
        store.save_alert(&a, None).await.expect("save");
    }
    // Saving again replaces, never duplicates.
    let mut a = template.clone();
    a.id = "test-007".into();
    a.severity = Severity::Low;
    store.save_alert(&a, None).await.expect("save again");
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.alerts_page(after.as_deref(), 7).await.expect("page");
        if page.is_empty() {
            break;
        }
        after = page.last().map(|a| a.id.clone());
        seen.extend(page.into_iter().map(|a| (a.id, a.severity)));
    }
    assert_eq!(seen.len(), 26);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(seen.contains(&("test-007".to_owned(), Severity::Low)));
    assert!(store.alert("test-999").await.expect("read").is_none());
    assert!(
        !store
            .transition_alert(
                "test-999",
                AlertStatus::New,
                AlertStatus::Acknowledged,
                None,
                &carbonmesh_model::AlertEvent {
                    alert_id: "test-999".into(),
                    actor: "ana".into(),
                    at: at(3),
                    from_status: Some(AlertStatus::New),
                    to_status: Some(AlertStatus::Acknowledged),
                    reason: None,
                    note: None,
                    actor_key: None,
                    channel: None,
                    decision: None,
                },
            )
            .await
            .expect("transition")
    );
}

// Every test once per backend: `sqlite::name` and `postgres::name`.
per_backend!(
    store: [
        every_step_is_in_the_history,
        critical_decisions_need_two_distinct_keys,
        racing_reviewers_move_an_alert_once,
        corrected_evidence_resolves_and_returning_evidence_reopens,
        alerts_page_in_id_order,
    ],
);
