//! `carbonmesh export --what alerts`: every alert for an audit file, with the facts of each
//! record of its evidence (the version the evidence was taken from) and its whole history.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use carbonmesh_model::{
    Alert, AlertEvent, AlertRecordRef, CreditRecord, Project, Provenance, RecordKind,
};
use carbonmesh_store::Store;
use serde::Serialize;

use crate::export::cell::{Cell, Column, int, text, timestamp};

/// Columns of `export --what alerts`.
pub const ALERT_COLUMNS: [Column; 14] = [
    text("id"),
    text("kind"),
    text("severity"),
    text("status"),
    text("explanation"),
    text("namespace"),
    int("overlap_start"),
    int("overlap_end"),
    int("overlap_units"),
    text("assignee"),
    timestamp("first_seen"),
    timestamp("last_seen"),
    text("evidence"),
    text("history"),
];

/// An alert as the audit file holds it.
#[derive(Debug, Serialize)]
pub struct AuditedAlert {
    /// The alert as stored.
    #[serde(flatten)]
    pub alert: Alert,
    /// Each record of the evidence with its facts, in the alert's order.
    pub evidence: Vec<Evidence>,
    /// Every history entry, oldest first.
    pub history: Vec<AlertEvent>,
}

/// One record of an alert's evidence.
#[derive(Debug, Serialize)]
pub struct Evidence {
    /// What the alert names.
    #[serde(flatten)]
    pub reference: AlertRecordRef,
    /// `credit` or `project`.
    pub kind: RecordKind,
    /// The version shown: the one the evidence names, or the oldest kept when that one is
    /// gone; none when the record itself is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shown_version: Option<i64>,
    /// The credit record at that version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<CreditRecord>,
    /// The project at that version, or the credit record's project as stored now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<Project>,
    /// Where that version was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

impl Evidence {
    /// One line a reader of the CSV can check against the registry.
    fn line(&self) -> String {
        let r = &self.reference;
        let mut facts = vec![format!("{} {} v{}", r.registry, r.record_key, r.version)];
        if let Some(c) = &self.credit {
            facts.push(format!("{} of {}", c.transaction_type.value, c.quantity));
            facts.extend(c.vintage.map(|v| format!("vintage {v}")));
            facts.extend(c.event_date.map(|d| format!("on {d}")));
            facts.extend(c.account.as_ref().map(|a| format!("account {a}")));
            facts.extend(c.beneficiary.as_ref().map(|b| format!("beneficiary {b}")));
            facts.extend(c.serial.as_ref().map(|s| format!("serial {s}")));
            facts.push(format!("project {}", c.project_id()));
        }
        if let Some(p) = &self.project {
            facts.push(format!("{:?}", p.name));
            facts.extend(p.country.as_ref().map(|c| format!("country {c}")));
            facts.extend(p.developer.as_ref().map(|d| format!("developer {d}")));
            facts.extend(p.registry_url.as_ref().map(|u| format!("page {u}")));
        }
        match (&self.provenance, self.shown_version) {
            (Some(p), Some(v)) if v != r.version => {
                facts.push(format!("shown as version {v}, from {}", p.source));
            }
            (Some(p), _) => facts.push(format!("from {}", p.source)),
            (None, _) => facts.push("no longer stored".to_owned()),
        }
        facts.join(", ")
    }
}

/// One line per history entry: when, who, how, what and why.
fn history_line(e: &AlertEvent) -> String {
    let mut line = format!(
        "{} {}{} via {}",
        e.at.to_rfc3339(),
        e.actor,
        e.actor_key
            .as_deref()
            .map_or(String::new(), |k| format!(" ({k})")),
        e.channel.map_or("-", |c| c.as_str())
    );
    if let (Some(from), Some(to)) = (e.from_status, e.to_status) {
        line.push_str(&format!(": {from} -> {to}"));
    } else if let Some(to) = e.to_status {
        line.push_str(&format!(": -> {to}"));
    }
    if let Some(decision) = e.decision {
        line.push_str(&format!(", decided {decision}"));
    }
    if let Some(reason) = &e.reason {
        line.push_str(&format!(", reason {reason}"));
    }
    if let Some(note) = &e.note {
        line.push_str(&format!(", note: {note}"));
    }
    line
}

impl AuditedAlert {
    /// The row: evidence and history one entry per line of their cells.
    pub fn row(&self) -> Vec<Cell<'_>> {
        let a = &self.alert;
        let overlap = a.overlap.as_ref();
        vec![
            Cell::text(&a.id),
            Cell::text(a.kind.to_string()),
            Cell::text(a.severity.to_string()),
            Cell::text(a.status.to_string()),
            Cell::text(&a.explanation),
            Cell::opt_text(overlap.map(|o| o.namespace.as_str())),
            Cell::opt_uint(overlap.map(|o| o.start)),
            Cell::opt_uint(overlap.map(|o| o.end)),
            Cell::opt_uint(a.overlap_units),
            Cell::opt_text(a.assignee.as_deref()),
            Cell::Time(a.first_seen),
            Cell::Time(a.last_seen),
            Cell::text(
                self.evidence
                    .iter()
                    .map(Evidence::line)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            Cell::text(
                self.history
                    .iter()
                    .map(history_line)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        ]
    }
}

/// The facts of one reference: the version it names, else the oldest kept; a credit record
/// with its project as stored now. `projects` caches the projects read.
async fn evidence(
    store: &dyn Store,
    reference: &AlertRecordRef,
    projects: &mut HashMap<String, Option<Project>>,
) -> anyhow::Result<Evidence> {
    let (kind, key) = reference.target();
    let cannot = || {
        format!(
            "cannot read {} {}",
            reference.registry, reference.record_key
        )
    };
    let versions = store
        .versions(kind, reference.registry, key)
        .await
        .with_context(cannot)?;
    let shown = match versions.iter().position(|v| v.version == reference.version) {
        Some(i) => versions.into_iter().nth(i),
        None => versions.into_iter().next(),
    };
    let mut out = Evidence {
        reference: reference.clone(),
        kind,
        shown_version: shown.as_ref().map(|v| v.version),
        credit: None,
        project: None,
        provenance: None,
    };
    let Some(shown) = shown else {
        return Ok(out);
    };
    out.provenance = Some(shown.provenance);
    match kind {
        RecordKind::Project => {
            out.project = Some(serde_json::from_value(shown.payload).with_context(cannot)?);
        }
        RecordKind::Credit => {
            let credit: CreditRecord =
                serde_json::from_value(shown.payload).with_context(cannot)?;
            let id = credit.project_id();
            if !projects.contains_key(&id) {
                let project = store.project(&id).await.with_context(cannot)?;
                projects.insert(id.clone(), project);
            }
            out.project = projects.get(&id).cloned().flatten();
            out.credit = Some(credit);
        }
    }
    Ok(out)
}

/// Every alert in id order with its evidence and history, a page at a time; `each` gets them.
pub async fn each_alert(
    store: &dyn Store,
    page: u32,
    mut each: impl FnMut(AuditedAlert) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut after: Option<String> = None;
    let mut written = 0;
    let mut projects = HashMap::new();
    loop {
        let alerts = store
            .alerts_page(after.as_deref(), page)
            .await
            .context("cannot read alerts")?;
        let Some(last) = alerts.last() else { break };
        after = Some(last.id.clone());
        let ids: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
        let mut history: BTreeMap<String, Vec<AlertEvent>> = BTreeMap::new();
        for e in store
            .alert_events_of(&ids)
            .await
            .context("cannot read alert history")?
        {
            history.entry(e.alert_id.clone()).or_default().push(e);
        }
        for alert in alerts {
            let mut evidence_of = Vec::with_capacity(alert.records.len());
            for r in &alert.records {
                evidence_of.push(evidence(store, r, &mut projects).await?);
            }
            let history = history.remove(&alert.id).unwrap_or_default();
            each(AuditedAlert {
                alert,
                evidence: evidence_of,
                history,
            })?;
            written += 1;
        }
    }
    Ok(written)
}
