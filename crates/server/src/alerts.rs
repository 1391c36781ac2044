//! `carbonmesh match` and `carbonmesh alerts …`: running the double-counting matcher and
//! reviewing what it found.

use std::io::Write;

use anyhow::Context;
use carbonmesh_matcher::review::{self, Action, Outcome};
use carbonmesh_matcher::{Mode, persist};
use carbonmesh_model::{Alert, AlertKind, AlertStatus, Severity};
use carbonmesh_store::Store;
use clap::{Args, Subcommand, ValueEnum};

/// `carbonmesh match`
#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Rebuild every index by sort-and-sweep instead of checking the blocks one by one (both
    /// find the same alerts)
    #[arg(long)]
    pub full: bool,
}

/// `carbonmesh alerts …`
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List alerts (all by default), newest evidence first within each severity
    List {
        /// Only alerts in this status
        #[arg(long, value_parser = parse_status)]
        status: Option<AlertStatus>,
        /// Only alerts of this kind
        #[arg(long, value_parser = parse_kind)]
        kind: Option<AlertKind>,
        /// Only alerts at least this severe (critical, high, medium, low, info)
        #[arg(long, value_parser = parse_severity)]
        min_severity: Option<Severity>,
        /// Output format
        #[arg(long, value_enum, default_value = "table")]
        format: ListFormat,
    },
    /// Show one alert with its evidence and history
    Show {
        /// The alert id
        id: String,
    },
    /// Move an alert through review: acknowledge, start-review, escalate, confirm, dismiss,
    /// reopen, assign, comment. Taken with the reviewer's API key from `CARBONMESH_API_KEY`;
    /// the history records the key's id and name and the channel `cli`
    Transition {
        /// The alert id
        id: String,
        /// The step
        #[arg(value_enum)]
        action: ActionArg,
        /// Reason code, required to dismiss: linked_conversion, sequential_transition_no_period_overlap,
        /// same_project_restatement, different_entity, data_error_upstream, policy_exempt
        #[arg(long)]
        reason: Option<String>,
        /// Note (required to dismiss and to comment)
        #[arg(long)]
        note: Option<String>,
        /// The reviewer to assign (with `assign`)
        #[arg(long)]
        assignee: Option<String>,
    },
}

/// How `alerts list` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One line per alert.
    Table,
    /// One JSON object per alert and line, evidence included.
    Jsonl,
}

/// A review step on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActionArg {
    /// new → acknowledged (assigns the actor)
    Acknowledge,
    /// acknowledged → in review
    StartReview,
    /// in review → escalated
    Escalate,
    /// → confirmed
    Confirm,
    /// → dismissed (reason and note required; a critical alert needs a second reviewer)
    Dismiss,
    /// confirmed, dismissed or resolved → in review
    Reopen,
    /// set the assignee
    Assign,
    /// add a comment
    Comment,
}

fn parse_status(s: &str) -> Result<AlertStatus, String> {
    AlertStatus::from_name(s).ok_or_else(|| format!("unknown status {s}"))
}

fn parse_kind(s: &str) -> Result<AlertKind, String> {
    AlertKind::from_name(s).ok_or_else(|| format!("unknown alert kind {s}"))
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::from_name(s).ok_or_else(|| format!("unknown severity {s}"))
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    }
}

/// Runs `carbonmesh match`.
pub async fn run_match(
    store: &dyn Store,
    args: &MatchArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mode = if args.full {
        Mode::Full
    } else {
        Mode::Incremental
    };
    let started = std::time::Instant::now();
    let report = persist::run(
        store,
        &carbonmesh_matcher::MatchSession::new(),
        mode,
        carbonmesh_matcher::now(),
    )
    .await
    .context("matching failed")?;
    writeln!(
        out,
        "matched {} credit records and {} projects ({}) in {:.2?}: {} raised, {} refreshed, {} reopened, {} resolved",
        report.records,
        report.projects,
        if args.full { "full" } else { "incremental" },
        started.elapsed(),
        report.reconciled.raised,
        report.reconciled.refreshed,
        report.reconciled.reopened,
        report.reconciled.resolved
    )?;
    for (kind, n) in &report.findings {
        writeln!(out, "  {kind:<32} {n}")?;
    }
    Ok(())
}

/// Runs `carbonmesh alerts …`.
pub async fn run_alerts(
    store: &dyn Store,
    command: AlertsCommand,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    match command {
        AlertsCommand::List {
            status,
            kind,
            min_severity,
            format,
        } => {
            let mut alerts: Vec<Alert> = persist::stored_alerts(store)
                .await?
                .into_values()
                .filter(|a| status.is_none_or(|s| a.status == s))
                .filter(|a| kind.is_none_or(|k| a.kind == k))
                .filter(|a| min_severity.is_none_or(|m| rank(a.severity) <= rank(m)))
                .collect();
            alerts.sort_by(|a, b| {
                (rank(a.severity), std::cmp::Reverse(a.last_seen), &a.id).cmp(&(
                    rank(b.severity),
                    std::cmp::Reverse(b.last_seen),
                    &b.id,
                ))
            });
            for a in &alerts {
                match format {
                    ListFormat::Jsonl => {
                        serde_json::to_writer(&mut *out, a)?;
                        writeln!(out)?;
                    }
                    ListFormat::Table => writeln!(
                        out,
                        "{}  {:<8} {:<12} {}",
                        a.id, a.severity, a.status, a.explanation
                    )?,
                }
            }
            Ok(true)
        }
        AlertsCommand::Show { id } => {
            let alert = store
                .alert(&id)
                .await?
                .with_context(|| format!("no alert {id}"))?;
            serde_json::to_writer_pretty(&mut *out, &alert)?;
            writeln!(out)?;
            writeln!(out, "history:")?;
            for e in store.alert_events(&id).await? {
                writeln!(
                    out,
                    "  {} {}{} via {} {} -> {} {}{} {}",
                    e.at.to_rfc3339(),
                    e.actor,
                    e.actor_key.map_or(String::new(), |k| format!(" ({k})")),
                    e.channel.map_or("-", |c| c.as_str()),
                    e.from_status.map_or("-".into(), |s| s.to_string()),
                    e.to_status.map_or("-".into(), |s| s.to_string()),
                    e.reason.unwrap_or_default(),
                    e.decision
                        .map_or(String::new(), |d| format!(" (decided: {d})")),
                    e.note.unwrap_or_default()
                )?;
            }
            Ok(true)
        }
        AlertsCommand::Transition {
            id,
            action,
            reason,
            note,
            assignee,
        } => {
            let reviewer = reviewer_from_env(store).await?;
            let action = match action {
                ActionArg::Acknowledge => Action::Acknowledge,
                ActionArg::StartReview => Action::StartReview,
                ActionArg::Escalate => Action::Escalate,
                ActionArg::Confirm => Action::Confirm,
                ActionArg::Dismiss => Action::Dismiss {
                    reason: reason.context("--reason is required to dismiss")?,
                },
                ActionArg::Reopen => Action::Reopen,
                ActionArg::Assign => Action::Assign {
                    assignee: assignee.context("--assignee is required to assign")?,
                },
                ActionArg::Comment => Action::Comment,
            };
            let outcome = review::act(
                store,
                &id,
                &reviewer,
                action,
                note,
                carbonmesh_matcher::now(),
            )
            .await?;
            match outcome {
                Outcome::Moved { from, to } => writeln!(out, "{id}: {from} -> {to}")?,
                Outcome::Recorded => writeln!(out, "{id}: recorded")?,
                Outcome::AwaitingSecondReviewer => writeln!(
                    out,
                    "{id}: awaiting a second reviewer; a critical alert is confirmed or dismissed \
                     only when another reviewer's key decides the same"
                )?,
            }
            Ok(true)
        }
    }
}

/// The reviewer of a command-line review step: the API key in `CARBONMESH_API_KEY`, which
/// must be a reviewer's (or an admin's), as through the API.
async fn reviewer_from_env(store: &dyn Store) -> anyhow::Result<review::Reviewer> {
    let token = std::env::var("CARBONMESH_API_KEY").map_err(|_| {
        anyhow::anyhow!(
            "review steps are taken with a reviewer's API key: set CARBONMESH_API_KEY \
             (`carbonmesh keys create --role reviewer` makes one)"
        )
    })?;
    let key = carbonmesh_api::keys::authenticate(
        store,
        &carbonmesh_api::keys::KeyUses::default(),
        token.trim(),
    )
    .await
    .context("cannot check the API key")?
    .context("CARBONMESH_API_KEY is not a valid API key (unknown or revoked)")?;
    anyhow::ensure!(
        key.role.allows(carbonmesh_model::ApiRole::Reviewer),
        "the key {} has the {} role; review steps need a reviewer's key",
        key.name,
        key.role
    );
    Ok(review::Reviewer {
        key_id: key.id,
        name: key.name,
        channel: carbonmesh_model::Channel::Cli,
    })
}
