//! The review workflow: new → acknowledged → in review → escalated → confirmed or dismissed,
//! reopening, assignment and comments. Every step is appended to the alert's history with who,
//! when, from, to and why. Dismissing needs a reason code and a note; dismissing a critical
//! alert needs a second reviewer, who approves a dismissal another reviewer requested.

use carbonmesh_model::{AlertEvent, AlertStatus, Severity};
use carbonmesh_store::Store;
use chrono::{DateTime, Utc};

use crate::MatchError;

/// Reason codes a dismissal must carry.
pub const DISMISSAL_REASONS: [&str; 6] = [
    "linked_conversion",
    "sequential_transition_no_period_overlap",
    "same_project_restatement",
    "different_entity",
    "data_error_upstream",
    "policy_exempt",
];

/// The history reason of a dismissal request awaiting a second reviewer.
pub const DISMISSAL_REQUESTED: &str = "dismissal_requested";

/// A reviewer's action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Take the alert (new → acknowledged), optionally assigning it.
    Acknowledge,
    /// Start gathering evidence (acknowledged → in review).
    StartReview,
    /// Send it to the registry's integrity team, compliance or legal (in review → escalated).
    Escalate,
    /// Double counting confirmed (acknowledged, in review or escalated → confirmed).
    Confirm,
    /// A false positive (acknowledged, in review or escalated → dismissed).
    Dismiss {
        /// One of [`DISMISSAL_REASONS`].
        reason: String,
    },
    /// Back to review after a decision or a resolution (confirmed, dismissed, resolved → in review).
    Reopen,
    /// Set the assignee, no status change.
    Assign {
        /// The reviewer.
        assignee: String,
    },
    /// A comment, no status change.
    Comment,
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The status moved.
    Moved {
        /// From.
        from: AlertStatus,
        /// To.
        to: AlertStatus,
    },
    /// A history entry was added, the status did not change.
    Recorded,
    /// A critical alert's dismissal was requested; a second reviewer must approve it by
    /// dismissing it too.
    AwaitingSecondReviewer,
}

fn target(action: &Action, from: AlertStatus) -> Result<Option<AlertStatus>, MatchError> {
    use AlertStatus::*;
    let to = match action {
        Action::Acknowledge => Acknowledged,
        Action::StartReview => InReview,
        Action::Escalate => Escalated,
        Action::Confirm => Confirmed,
        Action::Dismiss { .. } => Dismissed,
        Action::Reopen => InReview,
        Action::Assign { .. } | Action::Comment => return Ok(None),
    };
    let allowed = match to {
        Acknowledged => from == New,
        InReview => {
            matches!(from, Acknowledged)
                || (*action == Action::Reopen && matches!(from, Confirmed | Dismissed | Resolved))
        }
        Escalated => from == InReview,
        Confirmed | Dismissed => matches!(from, Acknowledged | InReview | Escalated),
        New | Resolved => false,
    };
    if !allowed {
        return Err(MatchError::NotAllowed { from, to });
    }
    Ok(Some(to))
}

/// Applies a reviewer's action to alert `id`, appending it to the history.
pub async fn act(
    store: &dyn Store,
    id: &str,
    actor: &str,
    action: Action,
    note: Option<String>,
    at: DateTime<Utc>,
) -> Result<Outcome, MatchError> {
    if actor.trim().is_empty() || actor == crate::persist::MATCHER_ACTOR {
        return Err(MatchError::Incomplete(
            "a reviewer must name themselves".into(),
        ));
    }
    let alert = store
        .alert(id)
        .await?
        .ok_or_else(|| MatchError::UnknownAlert(id.to_owned()))?;
    let from = alert.status;
    let mut event = AlertEvent {
        alert_id: id.to_owned(),
        actor: actor.to_owned(),
        at,
        from_status: None,
        to_status: None,
        reason: None,
        note: note.clone(),
    };
    let Some(to) = target(&action, from)? else {
        if let Action::Assign { assignee } = &action {
            event.reason = Some("assigned".into());
            event.note = Some(match &note {
                Some(n) => format!("assigned to {assignee}: {n}"),
                None => format!("assigned to {assignee}"),
            });
            let moved = store
                .transition_alert(id, from, from, Some(assignee), &event)
                .await?;
            if !moved {
                return Err(MatchError::Raced);
            }
        } else {
            if note.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return Err(MatchError::Incomplete("a comment needs a note".into()));
            }
            event.reason = Some("comment".into());
            store.add_alert_event(&event).await?;
        }
        return Ok(Outcome::Recorded);
    };
    if let Action::Dismiss { reason } = &action {
        if !DISMISSAL_REASONS.contains(&reason.as_str()) {
            return Err(MatchError::Incomplete(format!(
                "dismissal reason {reason} is not one of {}",
                DISMISSAL_REASONS.join(", ")
            )));
        }
        if note.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(MatchError::Incomplete("a dismissal needs a note".into()));
        }
        event.reason = Some(reason.clone());
        if alert.severity == Severity::Critical {
            // Four eyes: a request by someone else, since the alert last changed status.
            let history = store.alert_events(id).await?;
            let since = history
                .iter()
                .rposition(|e| e.to_status.is_some())
                .map_or(0, |i| i + 1);
            let requested_by_other = history[since..]
                .iter()
                .any(|e| e.reason.as_deref() == Some(DISMISSAL_REQUESTED) && e.actor != actor);
            if !requested_by_other {
                event.reason = Some(DISMISSAL_REQUESTED.into());
                event.note = Some(format!("{reason}: {}", note.unwrap_or_default()));
                store.add_alert_event(&event).await?;
                return Ok(Outcome::AwaitingSecondReviewer);
            }
        }
    }
    event.from_status = Some(from);
    event.to_status = Some(to);
    if event.reason.is_none() {
        event.reason = Some(
            match action {
                Action::Reopen => "reopened",
                Action::Confirm => "confirmed",
                _ => "review",
            }
            .into(),
        );
    }
    let assignee = (action == Action::Acknowledge).then_some(actor);
    if !store
        .transition_alert(id, from, to, assignee, &event)
        .await?
    {
        return Err(MatchError::Raced);
    }
    Ok(Outcome::Moved { from, to })
}
