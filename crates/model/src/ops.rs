//! Operational records: versions, connector runs, rejected records and webhook deliveries.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::RegistryId;

vocabulary_enum! {
    /// The kinds of record the store versions.
    RecordKind {
        /// A [`crate::Project`].
        Project => "project",
        /// A [`crate::CreditRecord`].
        Credit => "credit",
    }
}

/// Where a record came from, kept on every stored row and every version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Provenance {
    /// The file and line, or URL and page, the record was read from.
    pub source: String,
    /// sha256 (hex) of the raw bytes of the record as fetched.
    pub raw_hash: String,
    /// When it was fetched.
    pub fetched_at: DateTime<Utc>,
    /// The connector run that fetched it, if any (a hand import has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
}

/// One version of a record: written when the record first appears and each time it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecordVersion {
    /// Project or credit.
    pub kind: RecordKind,
    /// The registry.
    pub registry: RegistryId,
    /// The registry-native key (the registry project id for projects).
    pub record_key: String,
    /// 1 for the first version, then +1 per change.
    pub version: i64,
    /// sha256 (hex) of the normalized record's canonical JSON.
    pub content_hash: String,
    /// The normalized record as JSON.
    pub payload: serde_json::Value,
    /// Where this version came from.
    pub provenance: Provenance,
    /// When the store wrote it.
    pub recorded_at: DateTime<Utc>,
}

vocabulary_enum! {
    /// How a connector run ended.
    RunStatus {
        /// Still going (or the process died during it).
        Running => "running",
        /// Every page was fetched and processed.
        Complete => "complete",
        /// Some pages could not be fetched; nothing was deleted or marked stale.
        Incomplete => "incomplete",
        /// Nothing useful could be fetched.
        Failed => "failed",
        /// More rows were rejected than allowed (an import of a file that is mostly not what
        /// it was taken for); the records that passed are stored.
        Rejected => "rejected",
        /// The process running it stopped (killed, or its lease ran out) before it ended.
        Abandoned => "abandoned",
    }
}

/// One poll, import or webhook batch of one connector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConnectorRun {
    /// Store-assigned id.
    pub id: i64,
    /// The connector (its registry id, or the name of a configured generic connector).
    pub connector: String,
    /// `poll`, `import` or `webhook`.
    pub trigger: String,
    /// How it ended.
    pub status: RunStatus,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Counts of what it did.
    pub counts: RunCounts,
    /// Errors, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// What a run, import or batch upsert did to the records it saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunCounts {
    /// Records read from the source.
    pub seen: u64,
    /// Records stored for the first time.
    pub new: u64,
    /// Records whose content changed (a new version was written).
    pub changed: u64,
    /// Records identical to the stored version (nothing written).
    pub unchanged: u64,
    /// Records rejected, each kept with its reason.
    pub rejected: u64,
}

impl std::ops::AddAssign for RunCounts {
    fn add_assign(&mut self, other: Self) {
        self.seen += other.seen;
        self.new += other.new;
        self.changed += other.changed;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
    }
}

/// A record that could not be parsed or validated, kept with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RejectedRecord {
    /// The registry (or generic connector name) it came from.
    pub connector: String,
    /// The file or URL.
    pub source: String,
    /// 1-based line in a file, or position in a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The field at fault, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Why it was rejected.
    pub reason: String,
    /// The raw record as read, so nothing is lost.
    pub raw: String,
    /// The connector run, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// When it was first rejected.
    pub rejected_at: DateTime<Utc>,
    /// When it was last rejected: a record refused again (a poll reads it every time) is kept
    /// once, and counted.
    pub last_seen_at: DateTime<Utc>,
    /// How many times it was rejected.
    pub seen_count: u64,
}

vocabulary_enum! {
    /// Where a webhook delivery stands. Only verified deliveries are stored: requests refused
    /// at the door (signature, timestamp, size, format) are counted, not kept.
    DeliveryStatus {
        /// Verified and stored; not applied yet (a failed attempt waits here for its retry).
        Pending => "pending",
        /// Applied to the store.
        Applied => "applied",
        /// Given up on: the payload cannot be applied, or every attempt failed.
        Failed => "failed",
    }
}

vocabulary_enum! {
    /// What a webhook delivery carries.
    WebhookKind {
        /// Ids of projects or serials that changed: the connector fetches them.
        ChangeHint => "change_hint",
        /// Records in the registry's own format, normalized by its connector.
        RegistryFormat => "registry_format",
        /// Records in carbonmesh's common format (projects and credit records).
        CommonFormat => "common_format",
    }
}

/// A webhook delivery received from a registry, kept in the inbox until applied, and for the
/// retention period after (so a redelivery of the same id is recognised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WebhookDelivery {
    /// The sender's `webhook-id`, unique per delivery of one connector.
    pub id: String,
    /// The connector it was addressed to.
    pub connector: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// How its signature was verified (which of the connector's secrets matched).
    pub verification: String,
    /// What it carries.
    pub kind: WebhookKind,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Processing attempts so far.
    pub attempts: u32,
    /// The last error, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was applied or given up on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processed_at: Option<DateTime<Utc>>,
    /// The body as received.
    pub payload: String,
}
