//! The mutation root: the review workflow for reviewers, syncs and API keys for admins. Every
//! mutation acts as the calling key's name: review steps land in the alert's history, syncs
//! in the run's trigger, keys in their `createdBy`.

use async_graphql::{Context, Enum, Object, Result, SimpleObject};
use carbonmesh_matcher::MatchError;
use carbonmesh_matcher::review::{self, Action, Outcome};
use carbonmesh_model::{self as model, ApiRole};
use chrono::{DateTime, Utc};

use crate::error::{bad_input, code, coded, internal};
use crate::query::{require, store};
use crate::types::Alert;

/// The server's connectors: starts a run on request and says when each runs next; the
/// server provides it.
#[async_trait::async_trait]
pub trait SyncTrigger: Send + Sync {
    /// Starts a run of `connector` in the background, triggered by `actor`. Errors name an
    /// unknown connector or one already running.
    async fn trigger(&self, connector: &str, actor: &str) -> Result<(), String>;

    /// The connectors that run on a schedule here, with their next run after `now`.
    fn schedules(&self, now: DateTime<Utc>) -> Vec<ConnectorSchedule>;
}

/// A connector's schedule on this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorSchedule {
    /// The connector (registry id).
    pub connector: String,
    /// Its cron expression.
    pub expression: String,
    /// Its next run.
    pub next_run: Option<DateTime<Utc>>,
}

/// What a review step did.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ReviewOutcome {
    /// The status moved.
    Moved,
    /// A history entry was added; the status did not change.
    Recorded,
    /// A critical alert was confirmed or dismissed by a first reviewer; another reviewer's
    /// key must decide the same for it to stand.
    AwaitingSecondReviewer,
}

/// The result of a review step.
#[derive(SimpleObject)]
pub struct ReviewResult {
    /// What happened.
    pub outcome: ReviewOutcome,
    /// The alert after the step.
    pub alert: Alert,
}

/// An API key (never its token).
#[derive(SimpleObject, Clone)]
pub struct ApiKey {
    /// Key id.
    pub id: String,
    /// Who or what uses it; review steps are recorded under this name.
    pub name: String,
    /// `observer`, `reviewer` or `admin`.
    pub role: String,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&model::ApiKey> for ApiKey {
    fn from(k: &model::ApiKey) -> Self {
        ApiKey {
            id: k.id.clone(),
            name: k.name.clone(),
            role: k.role.as_str().to_owned(),
            prefix: k.prefix.clone(),
            created_by: k.created_by.clone(),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// A new API key and its token, shown once.
#[derive(SimpleObject)]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKey,
    /// The token: carbonmesh keeps only its sha256, so this is the only time it is shown.
    pub token: String,
}

/// The caller.
#[derive(SimpleObject)]
pub struct Viewer {
    /// The key's name, or `anonymous`.
    pub name: String,
    /// The role, or null when anonymous access is off and no key was given.
    pub role: Option<String>,
}

/// A connector run that was started.
#[derive(SimpleObject)]
pub struct SyncStarted {
    /// The connector.
    pub connector: String,
    /// Who asked.
    pub triggered_by: String,
}

/// The mutation root.
pub struct Mutation;

async fn step(
    ctx: &Context<'_>,
    id: String,
    action: Action,
    note: Option<String>,
) -> Result<ReviewResult> {
    let actor = require(ctx, ApiRole::Reviewer)?;
    let reviewer = review::Reviewer {
        key_id: actor
            .key_id
            .clone()
            .ok_or_else(|| coded(code::UNAUTHENTICATED, "review steps need an API key"))?,
        name: actor.name.clone(),
        channel: model::Channel::Api,
    };
    let store = store(ctx);
    let outcome = review::act(
        store.as_ref(),
        &id,
        &reviewer,
        action,
        note,
        carbonmesh_matcher::now(),
    )
    .await
    .map_err(|e| match e {
        e @ MatchError::UnknownAlert(_) => coded(code::NOT_FOUND, e.to_string()),
        MatchError::Incomplete(message) => bad_input(message),
        e @ (MatchError::NotAllowed { .. } | MatchError::Raced | MatchError::SameReviewer(_)) => {
            coded(code::CONFLICT, e.to_string())
        }
        other => internal(other),
    })?;
    let alert = store
        .alert(&id)
        .await
        .map_err(internal)?
        .ok_or_else(|| coded(code::NOT_FOUND, format!("no alert {id}")))?;
    Ok(ReviewResult {
        outcome: match outcome {
            Outcome::Moved { .. } => ReviewOutcome::Moved,
            Outcome::Recorded => ReviewOutcome::Recorded,
            Outcome::AwaitingSecondReviewer => ReviewOutcome::AwaitingSecondReviewer,
        },
        alert: Alert(alert),
    })
}

#[Object]
impl Mutation {
    /// Take an alert (new → acknowledged); it is assigned to the caller.
    async fn acknowledge_alert(
        &self,
        ctx: &Context<'_>,
        id: String,
        note: Option<String>,
    ) -> Result<ReviewResult> {
        step(ctx, id, Action::Acknowledge, note).await
    }

    /// Assign an alert to a reviewer.
    async fn assign_alert(
        &self,
        ctx: &Context<'_>,
        id: String,
        assignee: String,
        note: Option<String>,
    ) -> Result<ReviewResult> {
        if assignee.trim().is_empty() {
            return Err(bad_input("assignee is empty"));
        }
        step(ctx, id, Action::Assign { assignee }, note).await
    }

    /// Comment on an alert.
    async fn comment_on_alert(
        &self,
        ctx: &Context<'_>,
        id: String,
        note: String,
    ) -> Result<ReviewResult> {
        step(ctx, id, Action::Comment, Some(note)).await
    }

    /// Start gathering evidence (acknowledged → in review).
    async fn start_alert_review(
        &self,
        ctx: &Context<'_>,
        id: String,
        note: Option<String>,
    ) -> Result<ReviewResult> {
        step(ctx, id, Action::StartReview, note).await
    }

    /// Send an alert to the registry's integrity team, compliance or legal (in review →
    /// escalated).
    async fn escalate_alert(
        &self,
        ctx: &Context<'_>,
        id: String,
        note: Option<String>,
    ) -> Result<ReviewResult> {
        step(ctx, id, Action::Escalate, note).await
    }

    /// Confirm the double counting.
    async fn confirm_alert(
        &self,
        ctx: &Context<'_>,
        id: String,
        note: Option<String>,
    ) -> Result<ReviewResult> {
        step(ctx, id, Action::Confirm, note).await
    }

    /// Dismiss a false positive with a reason code (`linked_conversion`,
    /// `sequential_transition_no_period_overlap`, `same_project_restatement`,
    /// `different_entity`, `data_error_upstream`, `policy_exempt`) and a note. A critical
    /// alert needs a second reviewer: the first dismissal is a request.
    async fn dismiss_alert(
        &self,
        ctx: &Context<'_>,
        id: String,
        reason: String,
        note: String,
    ) -> Result<ReviewResult> {
        step(ctx, id, Action::Dismiss { reason }, Some(note)).await
    }

    /// Reopen a confirmed, dismissed or resolved alert (→ in review).
    async fn reopen_alert(
        &self,
        ctx: &Context<'_>,
        id: String,
        note: Option<String>,
    ) -> Result<ReviewResult> {
        step(ctx, id, Action::Reopen, note).await
    }

    /// Start a connector run now (admins).
    async fn trigger_sync(&self, ctx: &Context<'_>, connector: String) -> Result<SyncStarted> {
        let actor = require(ctx, ApiRole::Admin)?;
        let trigger = ctx
            .data_opt::<std::sync::Arc<dyn SyncTrigger>>()
            .ok_or_else(|| coded(code::CONFLICT, "this server runs no connectors"))?;
        trigger
            .trigger(&connector, &actor.name)
            .await
            .map_err(bad_input)?;
        tracing::info!(%connector, actor = %actor.name, "sync triggered through the API");
        Ok(SyncStarted {
            connector,
            triggered_by: actor.name.clone(),
        })
    }

    /// Create an API key (admins). The token is in the answer and nowhere else.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        name: String,
        role: String,
    ) -> Result<CreatedApiKey> {
        let actor = require(ctx, ApiRole::Admin)?;
        let role: ApiRole = role.parse().map_err(|_| {
            bad_input(format!(
                "unknown role `{role}`: observer, reviewer or admin"
            ))
        })?;
        if name.trim().is_empty() || name.len() > 100 {
            return Err(bad_input("name must have 1 to 100 characters"));
        }
        let (key, token) = crate::keys::create(store(ctx).as_ref(), &name, role, &actor.name)
            .await
            .map_err(|e| match e {
                crate::keys::CreateError::Name(message) => coded(code::CONFLICT, message),
                crate::keys::CreateError::Store(e) => internal(e),
            })?;
        tracing::info!(key = %key.id, actor = %actor.name, "API key created");
        Ok(CreatedApiKey {
            key: ApiKey::from(&key),
            token,
        })
    }

    /// Revoke an API key (admins); it stops working at once.
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: String) -> Result<bool> {
        let actor = require(ctx, ApiRole::Admin)?;
        let revoked = store(ctx)
            .revoke_api_key(&id, Utc::now())
            .await
            .map_err(internal)?;
        if !revoked {
            return Err(coded(code::NOT_FOUND, format!("no active API key {id}")));
        }
        tracing::info!(key = %id, actor = %actor.name, "API key revoked");
        Ok(true)
    }
}
