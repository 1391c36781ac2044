//! Polling each connector on its cron schedule, once per tick across every instance.

use std::str::FromStr;
use std::sync::Arc;

use carbonmesh_connector::Connector;
use carbonmesh_matcher::MatchSession;
use carbonmesh_store::Store;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::sync::sync;

/// A cron schedule. Accepts the `cron` crate's form with seconds first
/// (`sec min hour day-of-month month day-of-week [year]`) and the common five-field crontab
/// form, which is read as running at second 0.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: String,
    schedule: cron::Schedule,
}

/// A schedule expression that does not parse.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid schedule `{expression}`: {reason} (use `sec min hour day month weekday`, e.g. `0 15 3 * * *`)"
)]
pub struct ScheduleError {
    expression: String,
    reason: String,
}

impl Schedule {
    /// Parses a cron expression.
    pub fn parse(expression: &str) -> Result<Self, ScheduleError> {
        let trimmed = expression.trim();
        let fields = trimmed.split_whitespace().count();
        let full = if fields == 5 {
            format!("0 {trimmed}")
        } else {
            trimmed.to_owned()
        };
        let schedule = cron::Schedule::from_str(&full).map_err(|e| ScheduleError {
            expression: expression.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            expression: trimmed.to_owned(),
            schedule,
        })
    }

    /// The first tick strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.after(&after).next()
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }
}

/// Polls `connector` at every tick of `schedule` until `shutdown` turns true.
///
/// Before each poll the instance claims the tick in the store; only the instance whose claim
/// lands polls, so any number of instances sharing a database poll once per tick.
pub async fn run_schedule(
    store: Arc<dyn Store>,
    matcher: MatchSession,
    connector: Arc<dyn Connector>,
    schedule: Schedule,
    instance: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let registry = connector.registry();
    let name = registry.as_str();
    loop {
        let Some(tick) = schedule.next_after(Utc::now()) else {
            tracing::info!(connector = name, "schedule has no further ticks");
            return;
        };
        let wait = (tick - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
        match store.claim_tick(name, tick, &instance).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(connector = name, %tick, "another instance polls this tick");
                continue;
            }
            Err(error) => {
                tracing::warn!(connector = name, %error, "cannot claim schedule tick");
                continue;
            }
        }
        // The run logs its own summary, inside its span.
        if let Err(error) = sync(store.as_ref(), &matcher, connector.as_ref(), "poll", |_| {}).await
        {
            tracing::error!(connector = name, %error, "poll failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn accepts_six_and_five_field_expressions() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("date");
        let six = Schedule::parse("0 15 3 * * *").expect("six fields");
        assert_eq!(
            six.next_after(at),
            Utc.with_ymd_and_hms(2026, 1, 1, 3, 15, 0).single()
        );
        let five = Schedule::parse("15 3 * * *").expect("five fields");
        assert_eq!(five.next_after(at), six.next_after(at));
        let error = Schedule::parse("every day").expect_err("not cron");
        assert!(error.to_string().contains("every day"));
    }
}
