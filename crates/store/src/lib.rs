//! carbonmesh storage: SQLite (the embedded default) and PostgreSQL (production, and several
//! instances sharing one database), behind one [`Store`] made of one trait per domain:
//!
//! | trait | what it keeps | module |
//! |---|---|---|
//! | [`RecordStore`] | projects and credit records, their versions, bulk loads | `records` |
//! | [`RunStore`] | connector runs, rejected records, checkpoints, schedule claims | `runs` |
//! | [`InboxStore`] | the webhook inbox and refused requests | `inbox` |
//! | [`AlertStore`] | double-counting alerts and their review history | `alerts` |
//! | [`KeyStore`] | API keys | `keys` |
//! | [`NotificationStore`] | where each notification endpoint stands, and each delivery | `notifications` |
//! | [`QueryStore`] | the API's read queries and statistics | `queries` |
//!
//! Records are kept compactly (see `docs/storage.md`): typed columns, exact integer
//! quantities, binary hashes, provenance as references, repeated strings as integers of one
//! dictionary. Statistics are answered from totals maintained with every write.
//!
//! Only portable SQL is used (upserts with `ON CONFLICT`, `RETURNING`, row locks), no advisory
//! locks and no LISTEN/NOTIFY, so PostgreSQL-compatible distributed engines work too.

mod alerts;
mod db;
mod error;
mod holder;
mod inbox;
mod keys;
mod notifications;
mod postgres;
mod queries;
pub mod query;
mod records;
mod runs;
mod sqlite;
mod store;
mod terms;
mod totals;
mod url;

use async_trait::async_trait;
use carbonmesh_model::{
    Alert, AlertEvent, AlertStatus, ApiKey, ConnectorRun, CreditRecord, NotificationDelivery,
    Project, Provenance, RecordKind, RecordVersion, RegistryId, RejectedRecord, RunCounts,
    RunStatus, WebhookDelivery,
};
use chrono::{DateTime, Utc};

pub use error::StoreError;
pub use holder::RUN_LEASE;
pub use query::{
    AlertFacets, AlertFilter, Beneficiary, Change, CreditFilter, CreditOrder, DateRange,
    FacetCount, Page, ProjectFilter, ProjectOrder, ProjectRollup, RawKind, RegistryCounts, StatRow,
    StatsGroup, VocabularyCount,
};
pub use records::{Batch, BulkLoad, key_hash};
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

/// Everything carbonmesh persists: one implementation per backend, the same contract tests
/// for both.
#[async_trait]
pub trait Store:
    RecordStore
    + RunStore
    + InboxStore
    + AlertStore
    + KeyStore
    + NotificationStore
    + QueryStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Applies the embedded migrations (and carries records of an older layout over); safe
    /// to run any number of times.
    async fn migrate(&self) -> StoreResult<()>;

    /// How many of the embedded migrations are not applied to the database (0 when the
    /// schema is up to date). Reads only: never creates the migrations table.
    async fn pending_migrations(&self) -> StoreResult<u64>;

    /// Whether the database takes writes now (false on a read-only file, a full disk, a
    /// standby server or a read-only transaction default).
    async fn writable(&self) -> StoreResult<bool>;
}

/// Projects and credit records: the current version of each, and the versions it superseded.
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// Inserts new projects and writes a new version for changed ones; unchanged ones are a
    /// no-op. Invalid records are kept as rejected records and the rest of the batch goes on.
    async fn upsert_projects(&self, batch: &[Stamped<Project>]) -> StoreResult<RunCounts>;

    /// Same as [`RecordStore::upsert_projects`], for credit records.
    async fn upsert_credits(&self, batch: &[Stamped<CreditRecord>]) -> StoreResult<RunCounts>;

    /// Starts a bulk load: many credit records, usually into a table small beside them, in
    /// one transaction that [`BulkLoad::finish`] commits. See [`BulkLoad`].
    async fn bulk_load(&self, expected_records: u64) -> StoreResult<Box<dyn BulkLoad>>;

    /// The current version of a project, by its id (`<registry>:<registry project id>`).
    async fn project(&self, id: &str) -> StoreResult<Option<Project>>;

    /// The current version of a credit record.
    async fn credit(
        &self,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Option<CreditRecord>>;

    /// The current version number of a credit record.
    async fn credit_version(
        &self,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Option<i64>>;

    /// Every version of a record, oldest first.
    async fn versions(
        &self,
        kind: RecordKind,
        registry: RegistryId,
        record_key: &str,
    ) -> StoreResult<Vec<RecordVersion>>;

    /// Number of current projects and credit records, versions and rejected records.
    async fn counts(&self) -> StoreResult<RecordCounts>;

    /// Current projects with their versions, in id order, after `after`.
    async fn projects_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, Project)>>;

    /// Retracts the current credit records of `registry` whose keys are not in `seen`
    /// (each key's [`key_hash`] with probe 0): records the registry no longer publishes,
    /// after a sync that read all of it. Each gets a new version marked retracted at `at`;
    /// current queries and the totals leave it out, and it reads as it was before `at`.
    /// Refused (nothing retracted) when more than half of the registry's records are unseen.
    async fn retract_unseen(
        &self,
        registry: RegistryId,
        seen: &std::collections::HashSet<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<Retraction>;

    /// Current credit records with their versions, in the order they were first stored,
    /// after the position `after` (`None` for the first page), each with its position: what
    /// the matcher loads and exports walk.
    async fn credits_page(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<CreditPosition>>;

    /// The raw hashes of `registry`'s current credit records that runs of this version of
    /// carbonmesh wrote, once per record (a row that gave two records is there twice): the rows
    /// an import can count as unchanged without normalizing them again.
    async fn raw_hashes_of_this_version(&self, registry: RegistryId) -> StoreResult<Vec<[u8; 32]>>;

    /// Current credit records after the position `after` and before `before`, in position
    /// order, `limit` at a time, each with only what the matcher groups records by before it
    /// reads them whole.
    async fn match_keys(
        &self,
        after: Option<i64>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MatchKey>>;

    /// The current credit records at `positions`, with their versions, in position order
    /// (positions of retracted or unknown records are left out).
    async fn credits_at(&self, positions: &[i64]) -> StoreResult<Vec<CreditPosition>>;

    /// The ids of the projects the run `run` wrote last.
    async fn projects_written_by(&self, run: i64) -> StoreResult<Vec<String>>;
}

/// A current credit record as [`RecordStore::match_keys`] reads it: where it is, its registry
/// and project,
/// its serial range, its type and status, and the run that wrote it last.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchKey {
    /// Where it is in the order records were first stored.
    pub position: i64,
    /// Its registry.
    pub registry: RegistryId,
    /// Its project's id (`registry:id`), shared between the records of one project.
    pub project: std::sync::Arc<str>,
    /// Its serial range: namespace (shared), first and last unit.
    pub range: Option<(std::sync::Arc<str>, u64, u64)>,
    /// Its transaction type.
    pub kind: carbonmesh_model::TransactionType,
    /// Its unit status.
    pub status: carbonmesh_model::UnitStatus,
    /// The run that wrote its current version (none for a retraction's own versions).
    pub run: Option<i64>,
}

/// The version of carbonmesh recorded on the runs it makes.
pub const CARBONMESH_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What [`RecordStore::retract_unseen`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retraction {
    /// Records retracted.
    pub retracted: u64,
    /// Set, with how many records the registry no longer listed, when that was more than
    /// half of them: nothing was retracted.
    pub refused: Option<u64>,
}

/// A credit record read in store order: its position, version and content.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditPosition {
    /// Where it is in the order records were first stored.
    pub position: i64,
    /// Its current version.
    pub version: i64,
    /// The record.
    pub record: CreditRecord,
}

/// Connector runs, the records they rejected, where their feeds stopped, and the schedule.
#[async_trait]
pub trait RunStore: Send + Sync {
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

    /// Tells that the run `id` is still alive: its lease runs [`RUN_LEASE`] from now.
    async fn renew_run(&self, id: i64) -> StoreResult<()>;

    /// Ends as `abandoned`, with the reason, every run still `running` whose process is gone
    /// (a process of this host that no longer exists) or whose lease ran out before `now`
    /// (held by another host); returns their ids.
    async fn abandon_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<i64>>;

    /// The most recent connector runs, newest first.
    async fn runs(&self, limit: u32) -> StoreResult<Vec<ConnectorRun>>;

    /// When each connector's last complete run finished, by connector.
    async fn last_complete_runs(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>>;

    /// Keeps records that failed to parse or validate, with their reasons.
    async fn insert_rejected(&self, rejected: &[RejectedRecord]) -> StoreResult<()>;

    /// The most recent rejected records, newest first.
    async fn rejected(&self, limit: u32) -> StoreResult<Vec<RejectedRecord>>;

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
        tick: DateTime<Utc>,
        holder: &str,
    ) -> StoreResult<bool>;
}

/// The webhook inbox: verified deliveries kept until applied, and requests refused at the door.
#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Puts verified webhook deliveries in the inbox, in one transaction and in order (status
    /// `pending`; their `status`, `attempts`, `error` and `processed_at` are not read). For
    /// each, false when a delivery with the same connector and id is already there, an
    /// earlier one of the same call included: nothing is written for it then.
    async fn insert_deliveries(&self, deliveries: &[WebhookDelivery]) -> StoreResult<Vec<bool>>;

    /// Puts one verified webhook delivery in the inbox, as [`InboxStore::insert_deliveries`].
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
}

/// Double-counting alerts and their append-only review history.
#[async_trait]
pub trait AlertStore: Send + Sync {
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

    /// The histories of alerts `ids`, each oldest first, in one query.
    async fn alert_events_of(&self, ids: &[String]) -> StoreResult<Vec<AlertEvent>>;

    /// The position of the newest alert history entry (0 when there is none).
    async fn alert_event_position(&self) -> StoreResult<i64>;

    /// Alert history entries after position `after`, oldest first, each with its position:
    /// the feed alert subscriptions follow.
    async fn alert_events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<(i64, AlertEvent)>>;
}

/// Notifications to configured endpoints. Each endpoint follows the alert history (the
/// positions of [`AlertStore::alert_events_after`]) in order, delivered for by one holder at a
/// time.
#[async_trait]
pub trait NotificationStore: Send + Sync {
    /// Claims `endpoint` for `holder` until `lease_until` when no one holds it, its lease ran
    /// out at `now`, or `holder` holds it already. An endpoint met for the first time starts at
    /// position `start` (entries up to it are not announced). Returns the endpoint's position
    /// (the last entry it was given or skipped) when claimed, `None` when another holder has
    /// it.
    async fn claim_endpoint(
        &self,
        endpoint: &str,
        holder: &str,
        start: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<i64>>;

    /// Moves `endpoint` to `position`, past entries that announce nothing to it. False (nothing
    /// written) when `holder` no longer holds it.
    async fn skip_notification(
        &self,
        endpoint: &str,
        holder: &str,
        position: i64,
    ) -> StoreResult<bool>;

    /// Logs an attempt to deliver a notification (a notification already logged counts one
    /// attempt more, so the count survives restarts); a delivered one also moves its endpoint
    /// to its position, in the same transaction. False (nothing written) when `holder` no longer
    /// holds the endpoint.
    async fn record_notification(
        &self,
        holder: &str,
        delivery: &NotificationDelivery,
    ) -> StoreResult<bool>;

    /// Logged deliveries in (position, endpoint) order, after `after`.
    async fn notifications_page(
        &self,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationDelivery>>;
}

/// API keys, kept by the sha256 of their token.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a new API key with the sha256 (hex) of its token; the token itself is never
    /// stored. Fails if the id or the hash is already there.
    async fn insert_api_key(&self, key: &ApiKey, sha256_hex: &str) -> StoreResult<()>;

    /// The API key whose token has this sha256 (hex), revoked or not: the caller refuses a
    /// key whose `revoked_at` is set.
    async fn api_key_by_hash(&self, sha256_hex: &str) -> StoreResult<Option<ApiKey>>;

    /// The API key `id`, revoked or not.
    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKey>>;

    /// Every API key, revoked ones included, by creation time then id.
    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>>;

    /// Revokes an API key at `at`. False when there is no such key or it is already revoked.
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Records that an API key was used at `at`.
    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<()>;
}

/// The API's read queries (see [`query`]).
#[async_trait]
pub trait QueryStore: Send + Sync {
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

    /// Current credit records whose serial, as published, is `serial` and names no unit
    /// range (a batch serial without positions), at most `limit`, by key.
    async fn credits_with_unranged_serial(
        &self,
        serial: &str,
        limit: u32,
    ) -> StoreResult<Vec<CreditRecord>>;

    /// The serial namespaces of stored credit records that begin with `prefix` (e.g. every
    /// `cadt:` organisation's), in order.
    async fn namespaces_with_prefix(&self, prefix: &str) -> StoreResult<Vec<String>>;

    /// The current projects among `ids` (missing ones left out), in any order.
    async fn projects_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Project>>;

    /// Beneficiaries whose harmonized name holds the words of `search`, one per harmonized
    /// name across registries with every spelling, most units first, at most `limit`.
    async fn beneficiaries(&self, search: &str, limit: u32) -> StoreResult<Vec<Beneficiary>>;

    /// The project `id` as it stood at `at`: the version then current, or none when it was
    /// first written later.
    async fn project_as_of(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<Project>>;

    /// The roll-ups of the projects among `ids` that have credit records, in any order:
    /// answered from the totals kept with every write.
    async fn project_rollups(&self, ids: &[String]) -> StoreResult<Vec<ProjectRollup>>;

    /// The current credit records among `keys` (missing ones left out), in any order.
    async fn credits_by_keys(
        &self,
        keys: &[(RegistryId, String)],
    ) -> StoreResult<Vec<CreditRecord>>;

    /// The first `per_project` credit records (in the order they were first stored) of each
    /// project in `project_ids`, in one query.
    async fn credits_of_projects(
        &self,
        project_ids: &[String],
        per_project: u32,
    ) -> StoreResult<Vec<CreditRecord>>;

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

    /// Alerts matching `filter` counted by status, severity, kind, assignee and registry,
    /// each facet under the filter's other conditions.
    async fn alert_facets(&self, filter: &AlertFilter) -> StoreResult<AlertFacets>;

    /// Issued, retired and cancelled totals of the credit records matching `filter`, by
    /// `group`, in key order (records without a key last). Answered from the totals kept
    /// with every write; an event-date filter reads the records of those days instead.
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

    /// Every raw sector, category and project type current projects carry, with how many
    /// projects carry it, by registry.
    async fn project_vocabulary(&self) -> StoreResult<Vec<VocabularyCount>>;

    /// Every combination of registry, raw sector, category and project type the current
    /// projects carry, with how many projects carry it.
    async fn project_kinds(&self) -> StoreResult<Vec<(RawKind, u64)>>;

    /// Rejected records, newest first, of `connector` when given, after cursor `after`.
    async fn rejected_page(
        &self,
        connector: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<RejectedRecord>>;
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

/// Opens the store a URL names (`sqlite:…`, a file path, or `postgres://…`), creating a
/// SQLite file on first use. Does not migrate.
pub async fn connect(url: &DatabaseUrl) -> StoreResult<Box<dyn Store>> {
    Ok(Box::new(store::SqlStore::open(url).await?))
}
