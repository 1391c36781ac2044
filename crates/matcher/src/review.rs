//! The review workflow: new → acknowledged → in review → escalated → confirmed or dismissed,
//! reopening, assignment and comments. Every step is appended to the alert's history with the
//! API key that took it (id and name), the channel, when, from, to and why. Dismissing needs a
//! reason code and a note.
//!
//! The four-eyes rule: a critical alert is confirmed or dismissed only by two distinct keys.
//! The first decision moves it to `awaiting_second_review`, recording what was decided, why and
//! the note. The same decision (and, for a dismissal, the same reason) from another key makes
//! it stand; a different one is recorded as a disagreement and sends the alert back to review;
//! the first key cannot decide twice.

use carbonmesh_model::{AlertEvent, AlertStatus, Channel, Severity};
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

/// The history reason of a second reviewer's decision that differs from the first.
pub const SECOND_REVIEW_DISAGREED: &str = "second_review_disagreed";

/// Who takes a review step: an API key (its id and name) through a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewer {
    /// The key's id.
    pub key_id: String,
    /// The key's name.
    pub name: String,
    /// API or command line.
    pub channel: Channel,
}

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
    /// A critical alert was confirmed or dismissed by a first reviewer; another must decide
    /// the same.
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
                || (*action == Action::Reopen
                    && matches!(
                        from,
                        Confirmed | Dismissed | Resolved | AwaitingSecondReview
                    ))
        }
        Escalated => from == InReview,
        Confirmed | Dismissed => {
            matches!(
                from,
                Acknowledged | InReview | Escalated | AwaitingSecondReview
            )
        }
        New | Resolved | AwaitingSecondReview => false,
    };
    if !allowed {
        return Err(MatchError::NotAllowed { from, to });
    }
    Ok(Some(to))
}

/// What kind of action, without its data: what a reviewer may be offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// [`Action::Acknowledge`]
    Acknowledge,
    /// [`Action::StartReview`]
    StartReview,
    /// [`Action::Escalate`]
    Escalate,
    /// [`Action::Confirm`]
    Confirm,
    /// [`Action::Dismiss`]
    Dismiss,
    /// [`Action::Reopen`]
    Reopen,
    /// [`Action::Assign`]
    Assign,
    /// [`Action::Comment`]
    Comment,
}

impl ActionKind {
    /// Every kind, in the order a reviewer meets them.
    pub const ALL: [ActionKind; 8] = [
        ActionKind::Acknowledge,
        ActionKind::StartReview,
        ActionKind::Escalate,
        ActionKind::Confirm,
        ActionKind::Dismiss,
        ActionKind::Reopen,
        ActionKind::Assign,
        ActionKind::Comment,
    ];

    /// An action of this kind, with empty data.
    fn example(self) -> Action {
        match self {
            ActionKind::Acknowledge => Action::Acknowledge,
            ActionKind::StartReview => Action::StartReview,
            ActionKind::Escalate => Action::Escalate,
            ActionKind::Confirm => Action::Confirm,
            ActionKind::Dismiss => Action::Dismiss {
                reason: String::new(),
            },
            ActionKind::Reopen => Action::Reopen,
            ActionKind::Assign => Action::Assign {
                assignee: String::new(),
            },
            ActionKind::Comment => Action::Comment,
        }
    }
}

/// The actions a reviewer may take on an alert in status `from`. `first_decider`: whether
/// this reviewer took the first decision on a critical alert that awaits a second reviewer,
/// and so may not decide again.
pub fn allowed_actions(from: AlertStatus, first_decider: bool) -> Vec<ActionKind> {
    ActionKind::ALL
        .into_iter()
        .filter(|kind| {
            let deciding = matches!(kind, ActionKind::Confirm | ActionKind::Dismiss);
            target(&kind.example(), from).is_ok() && !(deciding && first_decider)
        })
        .collect()
}

/// The first decision a critical alert awaiting a second reviewer waits on, from its
/// `history` (oldest first).
pub fn pending_decision(history: &[AlertEvent]) -> Option<&AlertEvent> {
    history
        .iter()
        .rev()
        .find(|e| e.to_status == Some(AlertStatus::AwaitingSecondReview))
}

/// Applies `reviewer`'s action to alert `id`, appending it to the history.
pub async fn act(
    store: &dyn Store,
    id: &str,
    reviewer: &Reviewer,
    action: Action,
    note: Option<String>,
    at: DateTime<Utc>,
) -> Result<Outcome, MatchError> {
    if reviewer.name.trim().is_empty() || reviewer.key_id.trim().is_empty() {
        return Err(MatchError::Incomplete(
            "a review step is taken with an API key".into(),
        ));
    }
    let alert = store
        .alert(id)
        .await?
        .ok_or_else(|| MatchError::UnknownAlert(id.to_owned()))?;
    let from = alert.status;
    let mut event = AlertEvent {
        alert_id: id.to_owned(),
        actor: reviewer.name.clone(),
        actor_key: Some(reviewer.key_id.clone()),
        channel: Some(reviewer.channel),
        at,
        from_status: None,
        to_status: None,
        reason: None,
        note: note.clone(),
        decision: None,
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
    }
    let decides = matches!(action, Action::Confirm | Action::Dismiss { .. });
    let (to, outcome) = if decides && alert.severity == Severity::Critical {
        match four_eyes(store, id, reviewer, &mut event, from, to).await? {
            Some(step) => step,
            None => (to, Outcome::Moved { from, to }),
        }
    } else {
        (to, Outcome::Moved { from, to })
    };
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
    let assignee = (action == Action::Acknowledge).then_some(reviewer.name.as_str());
    if !store
        .transition_alert(id, from, to, assignee, &event)
        .await?
    {
        return Err(MatchError::Raced);
    }
    Ok(outcome)
}

/// The four-eyes rule for a decision (`to`: confirmed or dismissed) on a critical alert.
/// Returns where the alert goes instead and what that is, or `None` when the decision
/// stands (a second key agreeing with the first).
async fn four_eyes(
    store: &dyn Store,
    id: &str,
    reviewer: &Reviewer,
    event: &mut AlertEvent,
    from: AlertStatus,
    to: AlertStatus,
) -> Result<Option<(AlertStatus, Outcome)>, MatchError> {
    if from != AlertStatus::AwaitingSecondReview {
        // The first decision: recorded, and waiting for another key.
        event.decision = Some(to);
        return Ok(Some((
            AlertStatus::AwaitingSecondReview,
            Outcome::AwaitingSecondReviewer,
        )));
    }
    let history = store.alert_events(id).await?;
    let first = pending_decision(&history)
        .ok_or_else(|| MatchError::Incomplete("no first decision in the history".into()))?;
    if first.actor_key.as_deref() == Some(reviewer.key_id.as_str()) {
        return Err(MatchError::SameReviewer(format!(
            "{} took the first decision on this critical alert: another reviewer's key must \
             take the second",
            first.actor
        )));
    }
    let reason_of = |e: &AlertEvent| e.reason.clone().unwrap_or_default();
    let agrees = first.decision == Some(to)
        && (to != AlertStatus::Dismissed || reason_of(first) == reason_of(event));
    if agrees {
        return Ok(None);
    }
    // A different decision or reason is not an approval: both are put on record and the
    // alert goes back to review.
    let theirs = format!(
        "{} by {} ({})",
        first.decision.map_or("undecided", |d| d.as_str()),
        first.actor,
        reason_of(first)
    );
    let mine = format!("{to} by {} ({})", reviewer.name, reason_of(event));
    event.decision = Some(to);
    event.note = Some(match &event.note {
        Some(n) => format!("disagrees with {theirs}: {mine}; {n}"),
        None => format!("disagrees with {theirs}: {mine}"),
    });
    event.reason = Some(SECOND_REVIEW_DISAGREED.into());
    Ok(Some((
        AlertStatus::InReview,
        Outcome::Moved {
            from,
            to: AlertStatus::InReview,
        },
    )))
}
