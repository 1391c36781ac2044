//! Double-counting alerts and their review history.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

vocabulary_enum! {
    /// What kind of double counting, or data problem, an alert reports.
    AlertKind {
        /// Two issuances overlap in the same serial namespace.
        SerialOverlapIssuance => "serial_overlap_issuance",
        /// The same units are retired or cancelled twice, or retired while active elsewhere.
        SerialStateConflict => "serial_state_conflict",
        /// A retirement or cancellation no known issuance covers.
        UncoveredRetirement => "uncovered_retirement",
        /// A serial names another registry's units that are still active there.
        CrossRegistrySerialOverlap => "cross_registry_serial_overlap",
        /// One project issues in two registries for overlapping periods.
        CrossRegistryPeriodOverlap => "cross_registry_period_overlap",
        /// Probably the same project in two registries, with no issuance overlap yet.
        ProjectDuplicateCandidate => "project_duplicate_candidate",
        /// A conversion without a matching target issuance, or with different quantities.
        ConversionUnmatched => "conversion_unmatched",
        /// A retirement whose beneficiary or note points to a tokenization bridge.
        TokenOnRetired => "token_on_retired",
        /// A block whose serial count differs from its stated quantity.
        QuantityMismatch => "quantity_mismatch",
        /// A legitimate linked conversion, kept for the audit trail.
        LinkedConversion => "linked_conversion",
        /// A registry's last successful run is older than its schedule allows: the evidence
        /// from it may be stale.
        RegistryOverdue => "registry_overdue",
    }
}

impl AlertKind {
    /// True for alerts about carbonmesh's own operation rather than the records: the
    /// matcher neither raises nor resolves them.
    pub fn is_operational(self) -> bool {
        self == AlertKind::RegistryOverdue
    }
}

/// The id of the `registry_overdue` alert of a connector (one per connector).
pub fn registry_overdue_id(connector: &str) -> String {
    format!("{}:{connector}", AlertKind::RegistryOverdue.as_str())
}

vocabulary_enum! {
    /// How serious an alert is.
    Severity {
        /// The same units are demonstrably counted twice.
        Critical => "critical",
        /// Strong evidence that needs a registry response.
        High => "high",
        /// Probable but incomplete evidence.
        Medium => "medium",
        /// Data quality.
        Low => "low",
        /// Expected lineage, kept for the record.
        Info => "info",
    }
}

vocabulary_enum! {
    /// Where an alert stands in the review workflow.
    AlertStatus {
        /// Raised, nobody has looked yet.
        New => "new",
        /// A reviewer has taken it.
        Acknowledged => "acknowledged",
        /// Evidence is being gathered.
        InReview => "in_review",
        /// Sent to the registry's integrity team, a compliance officer or legal.
        Escalated => "escalated",
        /// A reviewer decided (confirmed or dismissed) a critical alert; another reviewer
        /// must decide the same for it to stand.
        AwaitingSecondReview => "awaiting_second_review",
        /// Double counting confirmed; terminal until reopened.
        Confirmed => "confirmed",
        /// A false positive, with a reason code; terminal until reopened.
        Dismissed => "dismissed",
        /// The evidence disappeared (a registry corrected its records).
        Resolved => "resolved",
    }
}

impl AlertStatus {
    /// Confirmed, dismissed or resolved: nothing left to do until it is reopened.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            AlertStatus::Confirmed | AlertStatus::Dismissed | AlertStatus::Resolved
        )
    }
}

/// A record involved in an alert, pinned to the version that was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlertRecordRef {
    /// The registry of the record.
    pub registry: crate::RegistryId,
    /// The registry-native record key.
    pub record_key: String,
    /// The version of the record the evidence was taken from.
    pub version: i64,
    /// The serial as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The parsed range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<crate::SerialRange>,
}

impl AlertRecordRef {
    /// What the reference names: a project (its key `<registry>:<registry project id>`
    /// without a serial) or a credit record, and the key its versions are stored under.
    pub fn target(&self) -> (crate::RecordKind, &str) {
        let project = self
            .serial
            .is_none()
            .then(|| {
                self.record_key
                    .strip_prefix(self.registry.as_str())
                    .and_then(|rest| rest.strip_prefix(':'))
            })
            .flatten();
        match project {
            Some(id) => (crate::RecordKind::Project, id),
            None => (crate::RecordKind::Credit, self.record_key.as_str()),
        }
    }
}

/// A possible double count, with the evidence a reviewer needs to verify it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Alert {
    /// Derived from the kind and the evidence, so re-running the matcher never duplicates it.
    pub id: String,
    /// What the alert reports.
    pub kind: AlertKind,
    /// How serious it is.
    pub severity: Severity,
    /// Where it stands in review.
    pub status: AlertStatus,
    /// One sentence a reviewer can read.
    pub explanation: String,
    /// The records involved.
    pub records: Vec<AlertRecordRef>,
    /// The overlapping sub-range, when the alert is about serials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap: Option<crate::SerialRange>,
    /// Units in the overlap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_units: Option<u64>,
    /// The reviewer the alert is assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// When the matcher first saw the evidence.
    pub first_seen: DateTime<Utc>,
    /// When the matcher last saw the evidence.
    pub last_seen: DateTime<Utc>,
}

vocabulary_enum! {
    /// How a history entry came to be written.
    Channel {
        /// Through the GraphQL API, with an API key.
        Api => "api",
        /// Through the `carbonmesh` command line, with an API key.
        Cli => "cli",
        /// By carbonmesh itself (the matcher).
        System => "system",
    }
}

/// One append-only entry in an alert's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlertEvent {
    /// The alert.
    pub alert_id: String,
    /// Who acted: the name of the API key (at the time), or `matcher`.
    pub actor: String,
    /// The id of the API key that acted; none for carbonmesh itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_key: Option<String>,
    /// How: API, command line or carbonmesh itself (none for entries written before
    /// channels were recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// For a decision that waits for a second reviewer: what was decided (`confirmed` or
    /// `dismissed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<AlertStatus>,
    /// When.
    pub at: DateTime<Utc>,
    /// Status before, when the status changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_status: Option<AlertStatus>,
    /// Status after, when the status changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_status: Option<AlertStatus>,
    /// Reason code, required for dismissals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free-text note or comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
