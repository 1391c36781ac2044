//! The data path from a connector to the store.
//!
//! A sync run fetches every feed of a connector page by page, normalizes each raw record, and
//! upserts the results; a file import does the same from files downloaded by hand. Both keep
//! every rejected record with its reason and record a connector run. The scheduler polls each
//! connector on its cron schedule, once per tick across every instance sharing the database,
//! and the freshness check raises an alert for a connector that stopped completing runs.

mod apply;
pub mod freshness;
mod import;
mod schedule;
mod sync;

pub use apply::{Applied, apply_common, apply_records};

/// Runs `work` for the connector run `run_id` while renewing the run's lease, so that other
/// processes do not take it for abandoned.
pub(crate) async fn renewing<T>(
    store: &dyn carbonmesh_store::Store,
    run_id: i64,
    work: impl std::future::Future<Output = T>,
) -> T {
    let renew = async {
        let every = (carbonmesh_store::RUN_LEASE / 4)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(60));
        loop {
            tokio::time::sleep(every).await;
            // A SQLite load holds the writer until it commits: the renewal waits, and the
            // holder's process (alive, on this host) is what keeps the run.
            if let Err(error) = store.renew_run(run_id).await {
                tracing::debug!(run_id, %error, "cannot renew the run's lease");
            }
        }
    };
    tokio::select! {
        out = work => out,
        () = renew => unreachable!("the renewal never ends"),
    }
}
pub use import::{
    ImportError, ImportOptions, ImportOutcome, ImportProgress, RejectLimit, import_file,
    import_file_reporting,
};
pub use schedule::{Schedule, ScheduleError, run_schedule};
pub use sync::{SyncOutcome, sync};
