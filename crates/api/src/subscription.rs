//! Subscriptions. They follow the store, not this process: alert histories and the record
//! change feed are polled, so a subscriber sees what every instance sharing the database
//! wrote, in order, and nothing is lost between two polls.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, Result, Subscription};
use carbonmesh_model::{AlertStatus, ApiRole};
use carbonmesh_store::Store;
use chrono::Utc;
use futures::Stream;

use crate::error::{code, coded, internal};
use crate::query::require;
use crate::types::{Alert, RecordChange};

/// How often subscriptions look for news.
#[derive(Debug, Clone, Copy)]
pub struct PollInterval(pub Duration);

/// Rows read per poll.
const BATCH: u32 = 200;

/// The subscription root.
pub struct Subscription;

/// What a subscription polls with: the store, how often, and the key it was opened with.
struct Poll {
    store: Arc<dyn Store>,
    every: Duration,
    key_id: Option<String>,
}

impl Poll {
    /// Ends the subscription once its key is revoked (or deleted): checked at every poll, so
    /// within one poll interval.
    async fn key_still_valid(&self) -> Result<()> {
        let Some(id) = &self.key_id else {
            return Ok(());
        };
        match self.store.api_key(id).await.map_err(internal)? {
            Some(key) if key.revoked_at.is_none() => Ok(()),
            _ => Err(coded(
                code::UNAUTHENTICATED,
                "the API key of this subscription was revoked; the subscription has ended",
            )),
        }
    }
}

fn setup(ctx: &Context<'_>) -> Result<Poll> {
    let actor = require(ctx, ApiRole::Observer)?;
    let store = ctx.data_unchecked::<Arc<dyn Store>>().clone();
    let every = ctx
        .data_opt::<PollInterval>()
        .map_or(Duration::from_millis(500), |p| p.0);
    Ok(Poll {
        store,
        every,
        key_id: actor.key_id.clone(),
    })
}

/// Alert history entries written after the subscription started, each with its alert.
fn alert_events(
    poll: Poll,
    wanted: impl Fn(&carbonmesh_model::AlertEvent) -> bool + Send + 'static,
) -> impl Stream<Item = Result<Alert>> {
    async_stream::try_stream! {
        let store = poll.store.clone();
        let mut position = store.alert_event_position().await.map_err(internal)?;
        let mut tick = tokio::time::interval(poll.every);
        loop {
            tick.tick().await;
            poll.key_still_valid().await?;
            loop {
                let events = store.alert_events_after(position, BATCH).await.map_err(internal)?;
                let full = events.len() == BATCH as usize;
                for (seq, event) in events {
                    position = seq;
                    // (No let chains: the stream macro expands in the 2021 edition.)
                    let alert = match wanted(&event) {
                        true => store.alert(&event.alert_id).await.map_err(internal)?,
                        false => None,
                    };
                    if let Some(alert) = alert {
                        yield Alert(alert);
                    }
                }
                if !full {
                    break;
                }
            }
        }
    }
}

#[Subscription]
impl Subscription {
    /// Alerts the matcher raises (or reopens because their evidence came back).
    async fn alert_raised(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Result<Alert>>> {
        let poll = setup(ctx)?;
        Ok(alert_events(poll, |e| {
            e.to_status == Some(AlertStatus::New)
        }))
    }

    /// Every change to an alert (review steps, comments, assignments, resolution), or to
    /// the one with `id`.
    async fn alert_changed(
        &self,
        ctx: &Context<'_>,
        id: Option<String>,
    ) -> Result<impl Stream<Item = Result<Alert>>> {
        let poll = setup(ctx)?;
        Ok(alert_events(poll, move |e| {
            id.as_deref().is_none_or(|id| e.alert_id == id)
        }))
    }

    /// Record versions written after the subscription started, of `registry` when given.
    async fn record_changed(
        &self,
        ctx: &Context<'_>,
        registry: Option<String>,
    ) -> Result<impl Stream<Item = Result<RecordChange>>> {
        let poll = setup(ctx)?;
        let registry = match registry {
            None => None,
            Some(r) => Some(
                r.parse()
                    .map_err(|_| crate::error::bad_input(format!("unknown registry `{r}`")))?,
            ),
        };
        let since = Utc::now();
        Ok(async_stream::try_stream! {
            let mut after: Option<String> = None;
            let mut tick = tokio::time::interval(poll.every);
            loop {
                tick.tick().await;
                poll.key_still_valid().await?;
                loop {
                    let page = poll.store
                        .changes(since, registry, after.as_deref(), BATCH)
                        .await
                        .map_err(internal)?;
                    for (cursor, version) in page.items {
                        after = Some(cursor);
                        yield RecordChange::from(&version);
                    }
                    if !page.has_next_page {
                        break;
                    }
                }
            }
        })
    }
}
