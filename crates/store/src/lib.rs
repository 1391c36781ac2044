//! carbonmesh storage: one [`Store`] trait, with a SQLite implementation (the embedded default)
//! and a PostgreSQL implementation (production, and several instances sharing one database).
//!
//! Both backends use only portable SQL: upserts with `ON CONFLICT`, `RETURNING`, row locks
//! with `SELECT … FOR UPDATE`, and a batch bound as multi-row `VALUES` (SQLite) or one array
//! per column (PostgreSQL). No advisory locks and no LISTEN/NOTIFY, so PostgreSQL-compatible
//! distributed engines work too. The current version of each record lives in its table;
//! `record_versions` keeps the versions it superseded.

mod batch;
mod error;
mod postgres;
pub mod query;
mod rows;
mod select;
mod sql;
mod sqlite;
mod stats;
mod store_impl;
mod url;

use async_trait::async_trait;
use carbonmesh_model::{
    Alert, AlertEvent, AlertStatus, ApiKey, ConnectorRun, CreditRecord, Project, Provenance,
    RecordKind, RecordVersion, RegistryId, RejectedRecord, RunCounts, RunStatus, WebhookDelivery,
};
use chrono::{DateTime, Utc};

pub use error::StoreError;
pub use postgres::PostgresStore;
pub use query::{
    AlertFilter, Change, CreditFilter, CreditOrder, DateRange, Page, ProjectFilter, ProjectOrder,
    RegistryCounts, StatRow, StatsGroup,
};
pub use sqlite::SqliteStore;
pub use url::{Backend, DatabaseUrl};

/// A record together with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamped<T> {
    /// The normalized record.
    pub record: T,
    /// Its provenance.
    pub provenance: Provenance,
}

/// Result type of the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything carbonmesh persists. One implementation per backend; the same contract tests
/// run against each.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// A number unique to this opened store within the process (not to the database): lets
    /// in-memory state built from one store be kept apart from another's.
    fn instance(&self) -> u64;

    /// Applies the embedded migrations; safe to run any number of times.
    async fn migrate(&self) -> StoreResult<()>;

    /// Inserts new projects and writes a new version for changed ones; unchanged ones are a
    /// no-op. Invalid records are kept as rejected records and the rest of the batch goes on.
    async fn upsert_projects(&self, batch: &[Stamped<Project>]) -> StoreResult<RunCounts>;

    /// Same as [`Store::upsert_projects`], for credit records.
    async fn upsert_credits(&self, batch: &[Stamped<CreditRecord>]) -> StoreResult<RunCounts>;

    /// The current version of a project, by its id (`<registry>:<registry project id>`).
    async fn project(&self, id: &str) -> StoreResult<Option<Project>>;

    /// The current version of a credit record.
    async fn credit(
        &self,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Option<CreditRecord>>;

    /// Every version of a record, oldest first.
    async fn versions(
        &self,
        kind: RecordKind,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Vec<RecordVersion>>;

    /// Number of current projects and credit records.
    async fn counts(&self) -> StoreResult<RecordCounts>;

    /// Keeps records that failed to parse or validate, with their reasons.
    async fn insert_rejected(&self, rejected: &[RejectedRecord]) -> StoreResult<()>;

    /// The most recent rejected records, newest first.
    async fn rejected(&self, limit: u32) -> StoreResult<Vec<RejectedRecord>>;

    /// Opens a connector run in status `running`, returning its id.
    async fn start_run(&self, connector: &str, trigger: &str) -> StoreResult<i64>;

    /// Closes a connector run.
    async fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        counts: RunCounts,
        errors: &[String],
    ) -> StoreResult<()>;

    /// The most recent connector runs, newest first.
    async fn runs(&self, limit: u32) -> StoreResult<Vec<ConnectorRun>>;

    /// Where `feed` of `connector` stopped when a run ended part-way, if it did.
    async fn checkpoint(&self, connector: &str, feed: &str) -> StoreResult<Option<String>>;

    /// Saves where the next run should resume `feed`; `None` clears it (read from the start).
    async fn save_checkpoint(
        &self,
        connector: &str,
        feed: &str,
        cursor: Option<&str>,
    ) -> StoreResult<()>;

    /// Claims the scheduled poll of `connector` at `tick` for `holder`; true for exactly one
    /// claimant per tick, whatever the number of instances sharing the database.
    async fn claim_tick(
        &self,
        connector: &str,
        tick: chrono::DateTime<chrono::Utc>,
        holder: &str,
    ) -> StoreResult<bool>;

    /// Current projects in id order, after `after` (`None` for the first page).
    async fn projects_page(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Project>>;

    /// Current credit records in (registry, record key) order, after `after`.
    async fn credits_page(
        &self,
        after: Option<(RegistryId, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<CreditRecord>>;

    /// Puts verified webhook deliveries in the inbox, in one transaction and in order (status
    /// `pending`; their `status`, `attempts`, `error` and `processed_at` are not read). For
    /// each, false when a delivery with the same connector and id is already there, an
    /// earlier one of the same call included: nothing is written for it then.
    async fn insert_deliveries(&self, deliveries: &[WebhookDelivery]) -> StoreResult<Vec<bool>>;

    /// Puts one verified webhook delivery in the inbox, as [`Store::insert_deliveries`].
    async fn insert_delivery(&self, delivery: &WebhookDelivery) -> StoreResult<bool> {
        let inserted = self
            .insert_deliveries(std::slice::from_ref(delivery))
            .await?;
        Ok(inserted.first().copied().unwrap_or(false))
    }

    /// Claims up to `limit` pending deliveries whose lease is free or ran out at `now`,
    /// oldest first, for `holder` until `lease_until`, counting an attempt on each. A delivery
    /// is claimed by one holder at a time, whatever the number of instances.
    async fn claim_deliveries(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDelivery>>;

    /// Records how processing a claimed delivery ended. False when `holder` no longer holds
    /// it (its lease ran out and another worker took it): nothing is written then.
    async fn finish_delivery(
        &self,
        connector: &str,
        id: &str,
        holder: &str,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// One delivery, by connector and id.
    async fn delivery(&self, connector: &str, id: &str) -> StoreResult<Option<WebhookDelivery>>;

    /// Deliveries in the order they arrived, after position `after` (`None` for the first
    /// page), each with its position.
    async fn deliveries_page(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, WebhookDelivery)>>;

    /// Deliveries in the inbox by status.
    async fn delivery_counts(&self) -> StoreResult<DeliveryCounts>;

    /// Deletes applied and failed deliveries received before `received_before`; pending ones
    /// are kept whatever their age. Returns how many were deleted.
    async fn prune_deliveries(&self, received_before: DateTime<Utc>) -> StoreResult<u64>;

    /// Counts one webhook request refused at the door.
    async fn count_rejection(
        &self,
        connector: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Refused webhook requests, by connector and reason.
    async fn rejection_counts(&self) -> StoreResult<Vec<RejectionCount>>;

    /// Current credit records with their versions, in (registry, record key) order, after
    /// `after`: what the matcher loads.
    async fn credits_page_versioned(
        &self,
        after: Option<(RegistryId, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, CreditRecord)>>;

    /// Current projects with their versions, in id order, after `after`.
    async fn projects_page_versioned(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, Project)>>;

    /// The current version of a credit record.
    async fn credit_version(
        &self,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Option<i64>>;

    /// Inserts or replaces an alert (evidence, status, assignee, first and last seen) and
    /// appends `event` to its history, in one transaction.
    async fn save_alert(&self, alert: &Alert, event: Option<&AlertEvent>) -> StoreResult<()>;

    /// Moves an alert from status `from` to `to` (and sets the assignee when given) and
    /// appends `event`, in one transaction. False, writing nothing, when the alert is not in
    /// status `from` any more (another reviewer moved it first) or does not exist.
    async fn transition_alert(
        &self,
        id: &str,
        from: AlertStatus,
        to: AlertStatus,
        assignee: Option<&str>,
        event: &AlertEvent,
    ) -> StoreResult<bool>;

    /// Appends an entry (a comment, an assignment, a dismissal request) to an alert's
    /// history.
    async fn add_alert_event(&self, event: &AlertEvent) -> StoreResult<()>;

    /// One alert.
    async fn alert(&self, id: &str) -> StoreResult<Option<Alert>>;

    /// Alerts in id order, after `after`.
    async fn alerts_page(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Alert>>;

    /// An alert's history, oldest first.
    async fn alert_events(&self, id: &str) -> StoreResult<Vec<AlertEvent>>;

    // -----------------------------------------------------------------------------------
    // Read queries for the API (see [`query`]).

    /// Current projects matching `filter`, in `order`, after cursor `after`.
    async fn query_projects(
        &self,
        filter: &ProjectFilter,
        order: ProjectOrder,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<Project>>;

    /// Number of current projects matching `filter`.
    async fn count_projects(&self, filter: &ProjectFilter) -> StoreResult<u64>;

    /// Current credit records matching `filter`, in `order`, after cursor `after`.
    async fn query_credits(
        &self,
        filter: &CreditFilter,
        order: CreditOrder,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<CreditRecord>>;

    /// Number of current credit records matching `filter`.
    async fn count_credits(&self, filter: &CreditFilter) -> StoreResult<u64>;

    /// Current credit records of every registry whose serial range in `namespace` overlaps
    /// `start..=end`, at most `limit`, by range start. Fast on a namespace of millions of
    /// blocks, long blocks that contain the range included.
    async fn credits_overlapping(
        &self,
        namespace: &str,
        start: u64,
        end: u64,
        limit: u32,
    ) -> StoreResult<Vec<CreditRecord>>;

    /// The current projects among `ids` (missing ones left out), in any order.
    async fn projects_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Project>>;

    /// The current credit records among `keys` (missing ones left out), in any order.
    async fn credits_by_keys(
        &self,
        keys: &[(RegistryId, String)],
    ) -> StoreResult<Vec<CreditRecord>>;

    /// The first `per_project` credit records (by registry and key) of each project in
    /// `project_ids`, in one query.
    async fn credits_of_projects(
        &self,
        project_ids: &[String],
        per_project: u32,
    ) -> StoreResult<Vec<CreditRecord>>;

    /// The histories of alerts `ids`, each oldest first, in one query.
    async fn alert_events_of(&self, ids: &[String]) -> StoreResult<Vec<AlertEvent>>;

    /// Alerts matching `filter`, most severe first, then newest evidence (`last_seen`), then
    /// id; after cursor `after`.
    async fn query_alerts(
        &self,
        filter: &AlertFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<Alert>>;

    /// Number of alerts matching `filter`.
    async fn count_alerts(&self, filter: &AlertFilter) -> StoreResult<u64>;

    /// Issued, retired and cancelled totals of the credit records matching `filter`, by
    /// `group`, in key order (records without a key last).
    async fn statistics(
        &self,
        group: StatsGroup,
        filter: &CreditFilter,
    ) -> StoreResult<Vec<StatRow>>;

    /// Every record version written at or after `since` (current and superseded ones), of
    /// `registry` when given, oldest first, after cursor `after`.
    async fn changes(
        &self,
        since: DateTime<Utc>,
        registry: Option<RegistryId>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<Change>>;

    /// Current projects and credit records per registry.
    async fn registry_counts(&self) -> StoreResult<Vec<RegistryCounts>>;

    /// The position of the newest alert history entry (0 when there is none).
    async fn alert_event_position(&self) -> StoreResult<i64>;

    /// Alert history entries after position `after`, oldest first, each with its position:
    /// the feed alert subscriptions follow.
    async fn alert_events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<(i64, AlertEvent)>>;

    /// Rejected records, newest first, of `connector` when given, after cursor `after`.
    async fn rejected_page(
        &self,
        connector: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<RejectedRecord>>;

    /// Stores a new API key with the sha256 (hex) of its token; the token itself is never
    /// stored. Fails if the id or the hash is already there.
    async fn insert_api_key(&self, key: &ApiKey, sha256_hex: &str) -> StoreResult<()>;

    /// The API key whose token has this sha256 (hex), revoked or not: the caller refuses a
    /// key whose `revoked_at` is set.
    async fn api_key_by_hash(&self, sha256_hex: &str) -> StoreResult<Option<ApiKey>>;

    /// Every API key, revoked ones included, by creation time then id.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>>;

    /// Revokes an API key at `at`. False when there is no such key or it is already revoked.
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Records that an API key was used at `at`.
    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;

    /// How many of the embedded migrations are not applied to the database (0 when the
    /// schema is up to date). Reads only: never creates the migrations table.
    async fn pending_migrations(&self) -> StoreResult<u64>;
}

/// How processing a webhook delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Applied: done.
    Applied,
    /// Failed this time; stays pending and may be claimed again from `at`.
    Retry {
        /// Why it failed.
        error: String,
        /// When to try again.
        at: DateTime<Utc>,
    },
    /// Given up on.
    Failed {
        /// Why.
        error: String,
    },
}

/// Webhook deliveries in the inbox, by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Waiting to be applied (including those waiting for a retry).
    pub pending: u64,
    /// Applied.
    pub applied: u64,
    /// Given up on.
    pub failed: u64,
}

/// How many webhook requests were refused for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionCount {
    /// The connector the request was addressed to (`(unknown)` for an unknown one).
    pub connector: String,
    /// The reason, e.g. `invalid signature`.
    pub reason: String,
    /// How many times.
    pub count: u64,
    /// The last time.
    pub last_at: DateTime<Utc>,
}

/// How many current records the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordCounts {
    /// Current projects.
    pub projects: u64,
    /// Current credit records.
    pub credits: u64,
    /// Versions of either kind.
    pub versions: u64,
    /// Rejected records.
    pub rejected: u64,
}

/// The next [`Store::instance`] number.
pub(crate) fn next_instance() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Opens the store a URL names (`sqlite:…`, a file path, or `postgres://…`), creating a
/// SQLite file on first use. Does not migrate.
pub async fn connect(url: &DatabaseUrl) -> StoreResult<Box<dyn Store>> {
    Ok(match url.backend() {
        Backend::Sqlite => Box::new(SqliteStore::open(url).await?),
        Backend::Postgres => Box::new(PostgresStore::open(url).await?),
    })
}
