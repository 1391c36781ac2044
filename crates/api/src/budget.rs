//! Expensive operations (statistics and totals, which read aggregates or count rows) share a
//! few slots and a time limit: many at once wait briefly, then are refused with a clear error
//! instead of queueing without end behind each other and everything else.

use std::future::Future;
use std::time::Duration;

use async_graphql::{Context, Result};
use tokio::sync::Semaphore;

use crate::error::{code, coded};

/// The instance's budget for expensive operations.
pub struct Expensive {
    slots: Semaphore,
    max: usize,
    limit: Duration,
}

impl Expensive {
    /// `max` at once, each (its wait for a slot included) stopped after `limit`.
    pub fn new(max: usize, limit: Duration) -> Self {
        let max = max.max(1);
        Expensive {
            slots: Semaphore::new(max),
            max,
            limit,
        }
    }

    /// Runs `work` (the operation `what`) in a slot, within the limit.
    pub async fn run<T>(&self, what: &str, work: impl Future<Output = Result<T>>) -> Result<T> {
        let deadline = tokio::time::Instant::now() + self.limit;
        let _slot = tokio::time::timeout_at(deadline, self.slots.acquire())
            .await
            .map_err(|_| {
                coded(
                    code::BUSY,
                    format!(
                        "{what}: {} expensive queries are already running and none ended within \
                         {} ms; retry shortly",
                        self.max,
                        self.limit.as_millis()
                    ),
                )
            })?
            .map_err(|_| coded(code::BUSY, format!("{what}: the server is stopping")))?;
        tokio::time::timeout_at(deadline, work).await.map_err(|_| {
            coded(
                code::TIMEOUT,
                format!(
                    "{what} took longer than {} ms and was stopped; narrow the filter",
                    self.limit.as_millis()
                ),
            )
        })?
    }
}

/// Runs `work` within the schema's budget for expensive operations (without one, as is).
pub async fn expensive<T>(
    ctx: &Context<'_>,
    what: &str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    match ctx.data_opt::<std::sync::Arc<Expensive>>() {
        Some(budget) => budget.run(what, work).await,
        None => work.await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(error: &async_graphql::Error) -> String {
        error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn over_budget_operations_are_refused_and_slow_ones_stopped() {
        let budget = Expensive::new(1, Duration::from_millis(100));
        // Another operation holds the one slot past the limit: refused.
        let held = budget.slots.try_acquire().expect("a free slot");
        let refused = budget
            .run("statistics", async { Ok(2) })
            .await
            .expect_err("no slot");
        assert!(code_of(&refused).contains("BUSY"), "{refused:?}");
        assert!(
            refused.message.contains("retry shortly"),
            "{}",
            refused.message
        );
        drop(held);
        // An operation running past the limit: stopped.
        let stopped = budget
            .run("statistics", async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(1)
            })
            .await
            .expect_err("too slow");
        assert!(code_of(&stopped).contains("TIMEOUT"), "{stopped:?}");
        // The slot is free again.
        assert_eq!(
            budget
                .run("statistics", async { Ok(3) })
                .await
                .expect("ran"),
            3
        );
    }
}
