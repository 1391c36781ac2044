//! Registries gone quiet: a connector that has not completed a run for several ticks of its
//! schedule raises an operational alert (`registry_overdue`), so reviewers know how fresh the
//! evidence is and notification endpoints hear of it; the alert resolves itself once a run
//! completes. Users of other registry data services have learned of frozen data weeks late.

use std::collections::HashMap;

use carbonmesh_model::{
    Alert, AlertEvent, AlertKind, AlertStatus, Channel, Severity, registry_overdue_id,
};
use carbonmesh_store::{Store, StoreResult};
use chrono::{DateTime, Utc};

use crate::Schedule;

/// Who the history names for these alerts.
const ACTOR: &str = "carbonmesh";

/// The time by which a connector on `schedule` whose last complete run finished at `since`
/// must have completed another: `runs` ticks later.
pub fn deadline(schedule: &Schedule, since: DateTime<Utc>, runs: u32) -> Option<DateTime<Utc>> {
    let mut tick = since;
    for _ in 0..runs.max(1) {
        tick = schedule.next_after(tick)?;
    }
    Some(tick)
}

/// What one check changed, by connector.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FreshnessReport {
    /// Connectors found overdue (their alert raised or reopened).
    pub raised: Vec<String>,
    /// Connectors that completed a run again (their alert resolved).
    pub resolved: Vec<String>,
}

/// Checks every scheduled connector at `now`: one that has not completed a run within `runs`
/// ticks of its schedule since its last complete run (or since `watching_since`, when it never
/// completed one) raises a `registry_overdue` alert; a connector whose alert is open and that
/// completed a run since resolves it. Alerts a reviewer decided are left as they are.
pub async fn check_freshness(
    store: &dyn Store,
    scheduled: &[(String, Schedule)],
    watching_since: DateTime<Utc>,
    now: DateTime<Utc>,
    runs: u32,
) -> StoreResult<FreshnessReport> {
    let last: HashMap<String, DateTime<Utc>> =
        store.last_complete_runs().await?.into_iter().collect();
    let mut report = FreshnessReport::default();
    for (connector, schedule) in scheduled {
        let completed = last.get(connector).copied();
        let since = completed.unwrap_or(watching_since);
        let due = deadline(schedule, since, runs);
        let overdue = due.is_some_and(|due| now > due);
        let id = registry_overdue_id(connector);
        let existing = store.alert(&id).await?;
        let event = |from: Option<AlertStatus>, to: AlertStatus, note: String| AlertEvent {
            alert_id: id.clone(),
            actor: ACTOR.into(),
            actor_key: None,
            channel: Some(Channel::System),
            decision: None,
            at: now,
            from_status: from,
            to_status: Some(to),
            reason: None,
            note: Some(note),
        };
        match (overdue, existing) {
            (true, None) => {
                let explanation = explain(connector, schedule, completed, since, due, runs);
                let alert = Alert {
                    id: id.clone(),
                    kind: AlertKind::RegistryOverdue,
                    severity: Severity::High,
                    status: AlertStatus::New,
                    explanation: explanation.clone(),
                    records: Vec::new(),
                    overlap: None,
                    overlap_units: None,
                    assignee: None,
                    first_seen: now,
                    last_seen: now,
                };
                let e = event(None, AlertStatus::New, explanation);
                store.save_alert(&alert, Some(&e)).await?;
                report.raised.push(connector.clone());
            }
            (true, Some(alert)) if alert.status == AlertStatus::Resolved => {
                let explanation = explain(connector, schedule, completed, since, due, runs);
                let e = event(Some(AlertStatus::Resolved), AlertStatus::New, explanation);
                if store
                    .transition_alert(&id, AlertStatus::Resolved, AlertStatus::New, None, &e)
                    .await?
                {
                    report.raised.push(connector.clone());
                }
            }
            (false, Some(alert)) if !alert.status.is_closed() => {
                let note = match completed {
                    Some(at) => format!("{connector} completed a run at {}", at.to_rfc3339()),
                    None => format!("{connector} is no longer overdue"),
                };
                let e = event(Some(alert.status), AlertStatus::Resolved, note);
                if store
                    .transition_alert(&id, alert.status, AlertStatus::Resolved, None, &e)
                    .await?
                {
                    report.resolved.push(connector.clone());
                }
            }
            // Open already, or decided by a reviewer: left as it is.
            _ => {}
        }
    }
    Ok(report)
}

fn explain(
    connector: &str,
    schedule: &Schedule,
    completed: Option<DateTime<Utc>>,
    since: DateTime<Utc>,
    due: Option<DateTime<Utc>>,
    runs: u32,
) -> String {
    let when = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let last = match completed {
        Some(_) => format!("No run of {connector} has completed since {}", when(since)),
        None => format!(
            "No run of {connector} has completed since carbonmesh began watching it at {}",
            when(since)
        ),
    };
    let due = due.map(when).unwrap_or_default();
    format!(
        "{last}; on its schedule `{}`, {runs} runs were due by {due}. Its records may be stale.",
        schedule.expression()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_deadline_is_a_number_of_ticks_after_the_last_run() {
        let daily = Schedule::parse("0 17 3 * * *").expect("cron");
        let last = Utc
            .with_ymd_and_hms(2026, 12, 1, 3, 20, 0)
            .single()
            .expect("time");
        let due = deadline(&daily, last, 3).expect("due");
        assert_eq!(
            due,
            Utc.with_ymd_and_hms(2026, 12, 4, 3, 17, 0)
                .single()
                .expect("time")
        );
        // At least one tick, whatever is configured.
        let next = deadline(&daily, last, 0).expect("due");
        assert_eq!(
            next,
            Utc.with_ymd_and_hms(2026, 12, 2, 3, 17, 0)
                .single()
                .expect("time")
        );
    }
}
