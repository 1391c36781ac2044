//! Notifications: what carbonmesh sends to the endpoints a compliance team configures when an
//! alert is raised, escalated, confirmed, dismissed or reopened, and the log of each delivery.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Alert, AlertEvent, AlertStatus};

/// What happened to an alert.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum NotificationType {
    /// The matcher found new evidence of double counting.
    #[serde(rename = "alert.raised")]
    Raised,
    /// A reviewer escalated the alert.
    #[serde(rename = "alert.escalated")]
    Escalated,
    /// Double counting confirmed (by two reviewers for a critical alert).
    #[serde(rename = "alert.confirmed")]
    Confirmed,
    /// Dismissed as a false positive, with a reason code.
    #[serde(rename = "alert.dismissed")]
    Dismissed,
    /// A decided or resolved alert is open again (a reviewer reopened it, or its evidence came
    /// back).
    #[serde(rename = "alert.reopened")]
    Reopened,
}

impl NotificationType {
    /// The name in payloads (`alert.raised`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raised => "alert.raised",
            Self::Escalated => "alert.escalated",
            Self::Confirmed => "alert.confirmed",
            Self::Dismissed => "alert.dismissed",
            Self::Reopened => "alert.reopened",
        }
    }

    /// The type a name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Raised,
            Self::Escalated,
            Self::Confirmed,
            Self::Dismissed,
            Self::Reopened,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }

    /// What a history entry announces, if anything: entries that change no status (comments,
    /// assignments) or move an alert within review announce nothing.
    pub fn of(event: &AlertEvent) -> Option<Self> {
        use AlertStatus as S;
        match (event.from_status, event.to_status?) {
            (None, S::New) => Some(Self::Raised),
            (Some(from), to) if from.is_closed() && !to.is_closed() => Some(Self::Reopened),
            (_, S::Escalated) => Some(Self::Escalated),
            (_, S::Confirmed) => Some(Self::Confirmed),
            (_, S::Dismissed) => Some(Self::Dismissed),
            _ => None,
        }
    }
}

impl std::fmt::Display for NotificationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of a notification (JSON), signed as Standard Webhooks prescribe: the
/// `webhook-id` header is the same on every attempt of one notification, so receivers drop
/// repeats by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlertNotification {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: NotificationType,
    /// When it happened (the history entry's time).
    pub timestamp: DateTime<Utc>,
    /// The alert and the history entry.
    pub data: NotificationData,
}

/// What a notification carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotificationData {
    /// The position of the history entry in carbonmesh's alert history (increasing): the
    /// order in which an endpoint receives notifications.
    pub position: i64,
    /// The history entry: who, through which channel, from and to which status, why.
    pub event: AlertEvent,
    /// The alert as it stands when the notification is first sent, with its evidence.
    pub alert: Alert,
}

/// Where a notification's delivery to one endpoint stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not yet accepted: the endpoint answered with an error or not at all, and it is tried
    /// again with growing delays.
    Retrying,
    /// The endpoint answered 2xx.
    Delivered,
}

impl DeliveryState {
    /// The name in exports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
        }
    }

    /// The state a name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Retrying, Self::Delivered]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// One notification to one endpoint: how its delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NotificationDelivery {
    /// The endpoint's name in the configuration.
    pub endpoint: String,
    /// The position of the history entry announced.
    pub position: i64,
    /// The alert.
    pub alert_id: String,
    /// What was announced.
    #[serde(rename = "type")]
    pub kind: NotificationType,
    /// The `webhook-id` of every attempt.
    pub message_id: String,
    /// Delivered, or still being tried.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: u32,
    /// What the last failed attempt met (status code or connection error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the last attempt was made.
    pub last_attempt_at: DateTime<Utc>,
    /// When the endpoint accepted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;

    fn event(from: Option<AlertStatus>, to: Option<AlertStatus>) -> AlertEvent {
        AlertEvent {
            alert_id: "a".into(),
            actor: "ana".into(),
            actor_key: None,
            channel: Some(Channel::Api),
            decision: None,
            at: DateTime::<Utc>::UNIX_EPOCH,
            from_status: from,
            to_status: to,
            reason: None,
            note: None,
        }
    }

    #[test]
    fn history_entries_announce_raises_decisions_and_reopenings() {
        use AlertStatus as S;
        let of = |from, to| NotificationType::of(&event(from, to));
        assert_eq!(of(None, Some(S::New)), Some(NotificationType::Raised));
        assert_eq!(
            of(Some(S::InReview), Some(S::Escalated)),
            Some(NotificationType::Escalated)
        );
        assert_eq!(
            of(Some(S::AwaitingSecondReview), Some(S::Confirmed)),
            Some(NotificationType::Confirmed)
        );
        assert_eq!(
            of(Some(S::Acknowledged), Some(S::Dismissed)),
            Some(NotificationType::Dismissed)
        );
        assert_eq!(
            of(Some(S::Resolved), Some(S::New)),
            Some(NotificationType::Reopened)
        );
        assert_eq!(
            of(Some(S::Dismissed), Some(S::InReview)),
            Some(NotificationType::Reopened)
        );
        // Steps within review, comments and the matcher resolving an alert announce nothing.
        assert_eq!(of(Some(S::New), Some(S::Acknowledged)), None);
        assert_eq!(
            of(Some(S::Acknowledged), Some(S::AwaitingSecondReview)),
            None
        );
        assert_eq!(of(None, None), None);
        assert_eq!(of(Some(S::New), Some(S::Resolved)), None);
        for t in [
            NotificationType::Raised,
            NotificationType::Escalated,
            NotificationType::Confirmed,
            NotificationType::Dismissed,
            NotificationType::Reopened,
        ] {
            assert_eq!(NotificationType::from_name(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).ok(),
                Some(serde_json::Value::String(t.as_str().into()))
            );
        }
    }
}
