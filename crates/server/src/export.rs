//! `carbonmesh export`: the harmonized tables, streamed page by page, as CSV or JSON lines.
//!
//! The CSV column sets are stable; the README documents them.

use std::io::Write;

use anyhow::Context;
use carbonmesh_model::{CreditRecord, Project};
use carbonmesh_store::Store;
use carbonmesh_taxonomy::Taxonomy;
use clap::ValueEnum;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum What {
    /// Projects.
    Projects,
    /// Credit records (issuances, retirements, cancellations, buffers, conversions).
    Credits,
    /// Records rejected by connectors, with their reasons.
    Rejected,
    /// Connector runs.
    Runs,
    /// Webhook deliveries in the inbox, with their verification and processing status.
    Webhooks,
    /// Webhook requests refused, counted by connector and reason.
    WebhookRejections,
    /// Alerts for an audit file: each with the facts of its evidence and its whole history.
    Alerts,
    /// Notifications to the configured endpoints: each delivery, or its latest failure.
    Notifications,
}

/// How to write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Columns of `export --what credits --format csv`.
pub const CREDIT_COLUMNS: [&str; 19] = [
    "registry",
    "project_id",
    "record_key",
    "transaction_type",
    "transaction_type_raw",
    "quantity",
    "vintage",
    "serial",
    "namespace",
    "serial_start",
    "serial_end",
    "event_date",
    "status",
    "status_raw",
    "account",
    "beneficiary",
    "reason",
    "note",
    "monitoring_period",
];

/// Columns of `export --what projects --format csv`.
pub const PROJECT_COLUMNS: [&str; 16] = [
    "registry",
    "project_id",
    "registry_project_id",
    "name",
    "developer",
    "country",
    "country_raw",
    "status",
    "status_raw",
    "methodology",
    "sector",
    "category",
    "project_type",
    "harmonized_category",
    "harmonized_type",
    "cross_references",
];

/// Records read from the store per page.
const PAGE: u32 = 5_000;

/// Writes every record of `what` to `out`; returns how many were written.
pub async fn export(
    store: &dyn Store,
    what: What,
    format: Format,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<u64> {
    let mut writer = Writer::new(format, out);
    let mut written = 0;
    match what {
        What::Credits => {
            writer.header(&CREDIT_COLUMNS)?;
            let mut after: Option<i64> = None;
            loop {
                let page = store
                    .credits_page(after, PAGE)
                    .await
                    .context("cannot read credit records")?;
                let Some(last) = page.last() else { break };
                after = Some(last.position);
                for credit in page.iter().map(|c| &c.record) {
                    writer.record(credit, || credit_row(credit))?;
                    written += 1;
                }
            }
        }
        What::Projects => {
            writer.header(&PROJECT_COLUMNS)?;
            let mut after: Option<String> = None;
            loop {
                let page = store
                    .projects_page(after.as_deref(), PAGE)
                    .await
                    .context("cannot read projects")?;
                let Some((_, last)) = page.last() else { break };
                after = Some(last.id());
                for project in page.iter().map(|(_, p)| p) {
                    let line = ProjectLine::of(project);
                    writer.record(&line, || project_row(&line))?;
                    written += 1;
                }
            }
        }
        What::Rejected => {
            writer.header(&[
                "connector",
                "source",
                "line",
                "field",
                "reason",
                "raw",
                "run_id",
                "rejected_at",
                "last_seen_at",
                "seen_count",
            ])?;
            for r in store
                .rejected(u32::MAX)
                .await
                .context("cannot read rejected records")?
            {
                writer.record(&r, || {
                    vec![
                        r.connector.clone(),
                        r.source.clone(),
                        opt(r.line),
                        r.field.clone().unwrap_or_default(),
                        r.reason.clone(),
                        r.raw.clone(),
                        opt(r.run_id),
                        r.rejected_at.to_rfc3339(),
                        r.last_seen_at.to_rfc3339(),
                        r.seen_count.to_string(),
                    ]
                })?;
                written += 1;
            }
        }
        What::Runs => {
            writer.header(&[
                "id",
                "connector",
                "trigger",
                "status",
                "started_at",
                "finished_at",
                "seen",
                "new",
                "changed",
                "unchanged",
                "rejected",
                "errors",
            ])?;
            for run in store.runs(u32::MAX).await.context("cannot read runs")? {
                writer.record(&run, || {
                    vec![
                        run.id.to_string(),
                        run.connector.clone(),
                        run.trigger.clone(),
                        run.status.to_string(),
                        run.started_at.to_rfc3339(),
                        run.finished_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        run.counts.seen.to_string(),
                        run.counts.new.to_string(),
                        run.counts.changed.to_string(),
                        run.counts.unchanged.to_string(),
                        run.counts.rejected.to_string(),
                        run.errors.join(" | "),
                    ]
                })?;
                written += 1;
            }
        }
        What::Webhooks => {
            writer.header(&[
                "connector",
                "id",
                "received_at",
                "kind",
                "verification",
                "status",
                "attempts",
                "error",
                "processed_at",
                "bytes",
            ])?;
            let mut after = None;
            loop {
                let page = store
                    .deliveries_page(after, PAGE)
                    .await
                    .context("cannot read webhook deliveries")?;
                let Some((last, _)) = page.last() else { break };
                after = Some(*last);
                for (_, d) in &page {
                    writer.record(d, || {
                        vec![
                            d.connector.clone(),
                            d.id.clone(),
                            d.received_at.to_rfc3339(),
                            d.kind.to_string(),
                            d.verification.clone(),
                            d.status.to_string(),
                            d.attempts.to_string(),
                            d.error.clone().unwrap_or_default(),
                            d.processed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                            d.payload.len().to_string(),
                        ]
                    })?;
                    written += 1;
                }
            }
        }
        What::WebhookRejections => {
            writer.header(&["connector", "reason", "count", "last_at"])?;
            for r in store
                .rejection_counts()
                .await
                .context("cannot read webhook rejections")?
            {
                let json = serde_json::json!({
                    "connector": r.connector,
                    "reason": r.reason,
                    "count": r.count,
                    "last_at": r.last_at,
                });
                writer.record(&json, || {
                    vec![
                        r.connector.clone(),
                        r.reason.clone(),
                        r.count.to_string(),
                        r.last_at.to_rfc3339(),
                    ]
                })?;
                written += 1;
            }
        }
        What::Alerts => {
            writer.header(&crate::alert_export::ALERT_COLUMNS)?;
            written = crate::alert_export::each_alert(store, PAGE, |alert| {
                writer.record(&alert, || alert.row())
            })
            .await?;
        }
        What::Notifications => {
            writer.header(&[
                "position",
                "endpoint",
                "type",
                "alert_id",
                "message_id",
                "state",
                "attempts",
                "last_error",
                "last_attempt_at",
                "delivered_at",
            ])?;
            let mut after: Option<(i64, String)> = None;
            loop {
                let page = store
                    .notifications_page(after.as_ref().map(|(p, e)| (*p, e.as_str())), PAGE)
                    .await
                    .context("cannot read notifications")?;
                let Some(last) = page.last() else { break };
                after = Some((last.position, last.endpoint.clone()));
                for n in &page {
                    writer.record(n, || {
                        vec![
                            n.position.to_string(),
                            n.endpoint.clone(),
                            n.kind.to_string(),
                            n.alert_id.clone(),
                            n.message_id.clone(),
                            n.state.as_str().to_owned(),
                            n.attempts.to_string(),
                            n.last_error.clone().unwrap_or_default(),
                            n.last_attempt_at.to_rfc3339(),
                            opt(n.delivered_at.map(|t| t.to_rfc3339())),
                        ]
                    })?;
                    written += 1;
                }
            }
        }
    }
    writer.finish()?;
    Ok(written)
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn credit_row(c: &CreditRecord) -> Vec<String> {
    let range = c.serial_range.as_ref();
    vec![
        c.registry.to_string(),
        c.project_id(),
        c.record_key.clone(),
        c.transaction_type.value.to_string(),
        c.transaction_type.raw.clone(),
        c.quantity.to_string(),
        opt(c.vintage),
        c.serial.clone().unwrap_or_default(),
        range.map(|r| r.namespace.clone()).unwrap_or_default(),
        opt(range.map(|r| r.start)),
        opt(range.map(|r| r.end)),
        opt(c.event_date),
        c.status.value.to_string(),
        c.status.raw.clone(),
        c.account.clone().unwrap_or_default(),
        c.beneficiary.clone().unwrap_or_default(),
        c.reason.clone().unwrap_or_default(),
        c.note.clone().unwrap_or_default(),
        c.monitoring_period
            .as_ref()
            .map(|p| format!("{}/{}", opt(p.start), opt(p.end)))
            .unwrap_or_default(),
    ]
}

/// A project as exported: the stored record and, beside its raw sector, category and type,
/// the harmonized category and type they map to now.
#[derive(serde::Serialize)]
struct ProjectLine<'a> {
    #[serde(flatten)]
    project: &'a Project,
    harmonized_category: Option<&'a str>,
    harmonized_type: Option<&'a str>,
}

impl<'a> ProjectLine<'a> {
    fn of(project: &'a Project) -> Self {
        let c = Taxonomy::embedded().classify(project);
        ProjectLine {
            project,
            harmonized_category: c.category.map(|c| c.id.as_str()),
            harmonized_type: c.project_type.map(|t| t.id.as_str()),
        }
    }
}

fn project_row(line: &ProjectLine<'_>) -> Vec<String> {
    let p = line.project;
    vec![
        p.registry.to_string(),
        p.id(),
        p.registry_project_id.clone(),
        p.name.clone(),
        p.developer.clone().unwrap_or_default(),
        p.country.clone().unwrap_or_default(),
        p.country_raw.clone().unwrap_or_default(),
        p.status
            .as_ref()
            .map(|s| s.value.to_string())
            .unwrap_or_default(),
        p.status.as_ref().map(|s| s.raw.clone()).unwrap_or_default(),
        p.methodology.clone().unwrap_or_default(),
        p.sector.clone().unwrap_or_default(),
        p.category.clone().unwrap_or_default(),
        p.project_type.clone().unwrap_or_default(),
        line.harmonized_category.unwrap_or_default().to_owned(),
        line.harmonized_type.unwrap_or_default().to_owned(),
        p.cross_references
            .iter()
            .map(|x| match x.registry {
                Some(r) => format!("{r}:{}", x.id),
                None => format!("other:{}", x.id),
            })
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

/// CSV rows or JSON lines, into one output.
enum Writer<'a> {
    Csv(Box<csv::Writer<&'a mut (dyn Write + Send)>>),
    Jsonl(std::io::BufWriter<&'a mut (dyn Write + Send)>),
}

impl<'a> Writer<'a> {
    fn new(format: Format, out: &'a mut (dyn Write + Send)) -> Self {
        match format {
            Format::Csv => Writer::Csv(Box::new(csv::Writer::from_writer(out))),
            Format::Jsonl => Writer::Jsonl(std::io::BufWriter::with_capacity(1 << 16, out)),
        }
    }

    fn header(&mut self, columns: &[&str]) -> anyhow::Result<()> {
        if let Writer::Csv(csv) = self {
            csv.write_record(columns)?;
        }
        Ok(())
    }

    fn record<T: serde::Serialize>(
        &mut self,
        value: &T,
        row: impl FnOnce() -> Vec<String>,
    ) -> anyhow::Result<()> {
        match self {
            Writer::Csv(csv) => csv.write_record(row())?,
            Writer::Jsonl(out) => {
                serde_json::to_writer(&mut *out, value)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Writer::Csv(mut csv) => csv.flush()?,
            Writer::Jsonl(mut out) => out.flush()?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod readme {
    use super::{CREDIT_COLUMNS, PROJECT_COLUMNS};

    /// The column names a README bullet (`- **what**: …`) lists, in order: its backticked
    /// words that are plain identifiers.
    fn documented(what: &str) -> Vec<String> {
        let readme = include_str!("../../../README.md");
        let start = format!("- **{what}**:");
        let bullet: String = readme
            .lines()
            .skip_while(|l| !l.starts_with(&start))
            .enumerate()
            .take_while(|(i, l)| *i == 0 || l.starts_with("  "))
            .map(|(_, l)| l)
            .collect::<Vec<_>>()
            .join(" ");
        bullet
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|w| w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_readme_documents_the_export_columns() {
        assert_eq!(documented("projects"), PROJECT_COLUMNS);
        assert_eq!(documented("credits"), CREDIT_COLUMNS);
    }
}
