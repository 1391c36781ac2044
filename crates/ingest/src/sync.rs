//! One poll run of a connector: every feed, page by page, from the saved checkpoint.

use carbonmesh_connector::{Connector, Page};
use carbonmesh_matcher::MatchSession;
use carbonmesh_model::{RunCounts, RunStatus};
use carbonmesh_store::{Store, StoreResult};
use chrono::Utc;
use tracing::Instrument;

use crate::apply::{Seen, apply_page};

/// How a sync run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The connector run's id.
    pub run_id: i64,
    /// Complete when every feed was read to its last page; incomplete otherwise.
    pub status: RunStatus,
    /// What the run did.
    pub counts: RunCounts,
    /// One line per failure.
    pub errors: Vec<String>,
}

/// Runs one sync of `connector` now, recording it as a connector run with `trigger`.
///
/// Each feed is read from its saved checkpoint (the cursor after the last page stored by an
/// earlier run that stopped part-way), or from the start. After a page is stored its cursor
/// is saved, so a run cut short resumes where it stopped. A feed that fails stops at that
/// page; the other feeds go on; the run is then incomplete. An incomplete run never deletes
/// or marks anything stale: records are only ever upserted.
pub async fn sync(
    store: &dyn Store,
    matcher: &MatchSession,
    connector: &dyn Connector,
    trigger: &str,
    mut on_page: impl FnMut(&RunCounts),
) -> StoreResult<SyncOutcome> {
    let registry = connector.registry();
    let name = registry.as_str();
    let run_id = store.start_run(name, trigger).await?;
    // Everything the run logs (pages, retries, matching) carries its connector and run id.
    let span = tracing::info_span!("run", connector = name, run = run_id, trigger);
    run_feeds(store, matcher, connector, run_id, &mut on_page)
        .instrument(span)
        .await
}

/// Retracts what a complete run from the start did not see. Refused when the registry no
/// longer lists most of its records (a warning of the run says so). The matcher's state
/// then no longer matches the store's current records: it is rebuilt on its next use.
async fn retract_unseen(
    store: &dyn Store,
    matcher: &MatchSession,
    registry: carbonmesh_model::RegistryId,
    seen: &Seen,
    warnings: &mut Vec<String>,
) -> StoreResult<()> {
    let retraction = store.retract_unseen(registry, &seen.0, Utc::now()).await?;
    if let Some(unseen) = retraction.refused {
        let warning = format!(
            "{registry} no longer lists {unseen} of its stored credit records, more than half: \
             nothing was retracted"
        );
        tracing::warn!(%registry, unseen, "retraction refused");
        warnings.push(warning);
    } else if retraction.retracted > 0 {
        tracing::info!(%registry, retracted = retraction.retracted, "records retracted");
        matcher.forget().await;
    }
    Ok(())
}

/// The body of [`sync`] once its run is started.
async fn run_feeds(
    store: &dyn Store,
    matcher: &MatchSession,
    connector: &dyn Connector,
    run_id: i64,
    on_page: &mut impl FnMut(&RunCounts),
) -> StoreResult<SyncOutcome> {
    let registry = connector.registry();
    let name = registry.as_str();
    let mut counts = RunCounts::default();
    let mut errors = Vec::new();

    let mut warnings = Vec::new();
    // Whether every feed is read from its start: only then does the run see all the registry
    // lists, and what it did not see is retracted.
    let mut from_start = true;
    let mut seen = Seen::default();
    let read = async {
        for &feed in connector.feeds() {
            let mut cursor = store.checkpoint(name, feed.as_str()).await?;
            from_start &= cursor.is_none();
            loop {
                let page: Page = match connector
                    .fetch_page(feed, cursor.as_deref())
                    .instrument(tracing::debug_span!("page", %feed, cursor = cursor.as_deref()))
                    .await
                {
                    Ok(page) => page,
                    Err(error) => {
                        tracing::warn!(connector = name, %feed, %error, "fetch failed");
                        errors.push(format!("{feed}: {error}"));
                        break;
                    }
                };
                let applied = apply_page(
                    store,
                    matcher,
                    connector,
                    &page,
                    Some(run_id),
                    Utc::now(),
                    Some(&mut seen),
                )
                .await?;
                counts += applied.counts;
                warnings.extend(applied.warnings);
                on_page(&counts);
                // The next run starts after this page if this one stops before the end; a
                // feed read to the end starts from the beginning next time.
                store
                    .save_checkpoint(name, feed.as_str(), page.next.as_deref())
                    .await?;
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok::<_, carbonmesh_store::StoreError>(())
    };
    crate::renewing(store, run_id, read).await?;

    let status = if errors.is_empty() {
        RunStatus::Complete
    } else {
        RunStatus::Incomplete
    };
    if status == RunStatus::Complete && from_start {
        retract_unseen(store, matcher, registry, &seen, &mut warnings).await?;
    }
    drop(seen);
    // Warnings do not make a run incomplete; the run keeps them beside its errors.
    errors.extend(warnings);
    store.finish_run(run_id, status, counts, &errors).await?;
    tracing::info!(
        status = %status,
        seen = counts.seen,
        new = counts.new,
        changed = counts.changed,
        unchanged = counts.unchanged,
        rejected = counts.rejected,
        errors = errors.len(),
        "run finished"
    );
    if let Err(error) = carbonmesh_matcher::after_run(store, matcher).await {
        tracing::warn!(connector = name, %error, "matching after the run failed");
    }
    Ok(SyncOutcome {
        run_id,
        status,
        counts,
        errors,
    })
}
