//! What `/healthz` and `/readyz` report. One background task checks the database (counts,
//! migrations, writes) every few seconds and keeps the last result; the probes answer from it
//! at once, so a load balancer's probe never queues behind the queries it is meant to watch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonmesh_store::{Store, StoreError};
use tokio::sync::{Notify, watch};

/// How often the database is checked when nobody asks.
const EVERY: Duration = Duration::from_secs(2);

/// How long `/readyz` waits for a check it asked for before answering from the last one.
const FRESH_WAIT: Duration = Duration::from_millis(200);

/// A last check older than this means the database is too slow to answer: not ready.
const LATE: Duration = Duration::from_secs(10);

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// Projects stored.
    pub projects: u64,
    /// Credit records stored.
    pub credits: u64,
    /// Embedded migrations not applied.
    pub pending_migrations: u64,
    /// Whether the database takes writes.
    pub writable: bool,
}

/// The last check: when it ended and what it found (or why it failed).
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// When the check started.
    pub started: Instant,
    /// When the check ended.
    pub at: Instant,
    /// What it found.
    pub result: Result<Checked, String>,
}

/// The database's state as last checked, shared by the probes.
#[derive(Clone)]
pub struct Health {
    last: watch::Receiver<Option<Arc<Snapshot>>>,
    wake: Arc<Notify>,
}

impl Health {
    /// Starts checking `store` in the background (the first check at once), for as long as
    /// the runtime runs.
    pub fn start(store: Arc<dyn Store>) -> Health {
        let (sender, last) = watch::channel(None);
        let wake = Arc::new(Notify::new());
        let woken = wake.clone();
        tokio::spawn(async move {
            loop {
                let started = Instant::now();
                let result = check(store.as_ref()).await.map_err(|e| e.to_string());
                if let Err(error) = &result {
                    tracing::warn!(%error, "database check failed");
                }
                let snapshot = Snapshot {
                    started,
                    at: Instant::now(),
                    result,
                };
                if sender.send(Some(Arc::new(snapshot))).is_err() {
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(EVERY) => {}
                    _ = woken.notified() => {}
                }
            }
        });
        Health { last, wake }
    }

    /// The last check, `None` before the first has ended.
    pub fn last(&self) -> Option<Arc<Snapshot>> {
        self.last.borrow().clone()
    }

    /// Asks for a check now and waits a little for one that started after the asking;
    /// then the last check, fresh or not.
    pub async fn fresh(&self) -> Option<Arc<Snapshot>> {
        let asked = Instant::now();
        let mut last = self.last.clone();
        self.wake.notify_one();
        let _ = tokio::time::timeout(
            FRESH_WAIT,
            last.wait_for(|s| s.as_ref().is_some_and(|s| s.started >= asked)),
        )
        .await;
        self.last()
    }
}

async fn check(store: &dyn Store) -> Result<Checked, StoreError> {
    let counts = store.counts().await?;
    Ok(Checked {
        projects: counts.projects,
        credits: counts.credits,
        pending_migrations: store.pending_migrations().await?,
        writable: store.writable().await?,
    })
}

/// Why an instance is not ready, or `None` when it is.
pub fn not_ready(snapshot: Option<&Snapshot>) -> Option<String> {
    let Some(snapshot) = snapshot else {
        return Some("the database has not been checked yet".into());
    };
    match &snapshot.result {
        Err(_) => Some("database unreachable".into()),
        Ok(c) if c.pending_migrations > 0 => Some(format!(
            "{} database migration(s) not applied: run carbonmesh migrate",
            c.pending_migrations
        )),
        Ok(c) if !c.writable => {
            Some("the database does not take writes (read-only, full or a standby)".into())
        }
        Ok(_) if snapshot.at.elapsed() > LATE => Some(format!(
            "the database has not answered a check for {} s",
            snapshot.at.elapsed().as_secs()
        )),
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(result: Result<Checked, String>, age: Duration) -> Snapshot {
        Snapshot {
            started: Instant::now() - age,
            at: Instant::now() - age,
            result,
        }
    }

    fn fine() -> Checked {
        Checked {
            projects: 1,
            credits: 2,
            pending_migrations: 0,
            writable: true,
        }
    }

    #[test]
    fn ready_only_when_checked_lately_migrated_and_writable() {
        assert_eq!(not_ready(Some(&snapshot(Ok(fine()), Duration::ZERO))), None);
        assert!(not_ready(None).is_some());
        let late = not_ready(Some(&snapshot(Ok(fine()), Duration::from_secs(30))));
        assert!(late.is_some_and(|r| r.contains("has not answered")));
        let behind = Checked {
            pending_migrations: 2,
            ..fine()
        };
        let reason = not_ready(Some(&snapshot(Ok(behind), Duration::ZERO)));
        assert!(reason.is_some_and(|r| r.contains("carbonmesh migrate")));
        let read_only = Checked {
            writable: false,
            ..fine()
        };
        let reason = not_ready(Some(&snapshot(Ok(read_only), Duration::ZERO)));
        assert!(reason.is_some_and(|r| r.contains("does not take writes")));
        let down = not_ready(Some(&snapshot(Err("refused".into()), Duration::ZERO)));
        assert_eq!(down.as_deref(), Some("database unreachable"));
    }
}
