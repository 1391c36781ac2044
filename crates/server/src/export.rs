//! `carbonmesh export`: the harmonized tables, streamed page by page, as CSV, JSON lines or
//! Parquet.
//!
//! The column sets are stable, the same in CSV and Parquet, and each ends with
//! `generated_at`, when the export started; the README documents them.

pub mod cell;
pub mod decimal;
pub mod parquet;

use std::io::Write;

use anyhow::Context;
use carbonmesh_model::{CreditRecord, Project};
use carbonmesh_store::{CreditFilter, CreditOrder, ProjectFilter, ProjectOrder, Store};
use carbonmesh_taxonomy::Taxonomy;
use chrono::{DateTime, SubsecRound, Utc};
use clap::ValueEnum;
use serde::Serialize;

use self::cell::{Cell, Column, date, decimal as dec, int, rfc3339, text, timestamp};
use self::parquet::{GENERATED_AT_COLUMN, ParquetWriter};

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
    /// Apache Parquet: typed columns (exact decimals, dates, UTC timestamps).
    Parquet,
}

impl What {
    /// The table's name, as a Parquet schema and a file name use it.
    pub fn table(self) -> &'static str {
        match self {
            What::Projects => "projects",
            What::Credits => "credits",
            What::Rejected => "rejected",
            What::Runs => "runs",
            What::Webhooks => "webhooks",
            What::WebhookRejections => "webhook_rejections",
            What::Alerts => "alerts",
            What::Notifications => "notifications",
        }
    }

    /// The table's columns, before the `generated_at` every export ends with.
    pub fn columns(self) -> &'static [Column] {
        match self {
            What::Projects => &PROJECT_COLUMNS,
            What::Credits => &CREDIT_COLUMNS,
            What::Rejected => &REJECTED_COLUMNS,
            What::Runs => &RUN_COLUMNS,
            What::Webhooks => &WEBHOOK_COLUMNS,
            What::WebhookRejections => &WEBHOOK_REJECTION_COLUMNS,
            What::Alerts => &crate::alert_export::ALERT_COLUMNS,
            What::Notifications => &NOTIFICATION_COLUMNS,
        }
    }
}

impl Format {
    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

/// Columns of `export --what credits`.
pub const CREDIT_COLUMNS: [Column; 19] = [
    text("registry"),
    text("project_id"),
    text("record_key"),
    text("transaction_type"),
    text("transaction_type_raw"),
    dec("quantity"),
    int("vintage"),
    text("serial"),
    text("namespace"),
    int("serial_start"),
    int("serial_end"),
    date("event_date"),
    text("status"),
    text("status_raw"),
    text("account"),
    text("beneficiary"),
    text("reason"),
    text("note"),
    text("monitoring_period"),
];

/// Columns of `export --what projects`.
pub const PROJECT_COLUMNS: [Column; 16] = [
    text("registry"),
    text("project_id"),
    text("registry_project_id"),
    text("name"),
    text("developer"),
    text("country"),
    text("country_raw"),
    text("status"),
    text("status_raw"),
    text("methodology"),
    text("sector"),
    text("category"),
    text("project_type"),
    text("harmonized_category"),
    text("harmonized_type"),
    text("cross_references"),
];

/// Columns of `export --what rejected`.
pub const REJECTED_COLUMNS: [Column; 10] = [
    text("connector"),
    text("source"),
    int("line"),
    text("field"),
    text("reason"),
    text("raw"),
    int("run_id"),
    timestamp("rejected_at"),
    timestamp("last_seen_at"),
    int("seen_count"),
];

/// Columns of `export --what runs`.
pub const RUN_COLUMNS: [Column; 12] = [
    int("id"),
    text("connector"),
    text("trigger"),
    text("status"),
    timestamp("started_at"),
    timestamp("finished_at"),
    int("seen"),
    int("new"),
    int("changed"),
    int("unchanged"),
    int("rejected"),
    text("errors"),
];

/// Columns of `export --what webhooks`.
pub const WEBHOOK_COLUMNS: [Column; 10] = [
    text("connector"),
    text("id"),
    timestamp("received_at"),
    text("kind"),
    text("verification"),
    text("status"),
    int("attempts"),
    text("error"),
    timestamp("processed_at"),
    int("bytes"),
];

/// Columns of `export --what webhook-rejections`.
pub const WEBHOOK_REJECTION_COLUMNS: [Column; 4] = [
    text("connector"),
    text("reason"),
    int("count"),
    timestamp("last_at"),
];

/// Columns of `export --what notifications`.
pub const NOTIFICATION_COLUMNS: [Column; 10] = [
    int("position"),
    text("endpoint"),
    text("type"),
    text("alert_id"),
    text("message_id"),
    text("state"),
    int("attempts"),
    text("last_error"),
    timestamp("last_attempt_at"),
    timestamp("delivered_at"),
];

/// Records read from the store per page.
const PAGE: u32 = 5_000;

/// The instant an export stamps its rows with: now, to the second.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// Writes every record of `what` to `out`, each row stamped `generated_at`; returns how many
/// were written.
pub async fn export(
    store: &dyn Store,
    what: What,
    format: Format,
    generated_at: DateTime<Utc>,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<u64> {
    export_many(store, what, generated_at, vec![(format, out)]).await
}

/// As [`export`], of the records as carbonmesh held them at `as_of` (credits and projects
/// only: the other tables keep no versions); `None` is now.
pub async fn export_as_of(
    store: &dyn Store,
    what: What,
    format: Format,
    generated_at: DateTime<Utc>,
    as_of: Option<DateTime<Utc>>,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<u64> {
    if as_of.is_some() && !matches!(what, What::Credits | What::Projects) {
        anyhow::bail!(
            "--as-of reads the versions kept of credit records and projects; {} keep none",
            what.table()
        );
    }
    write_tables(store, what, generated_at, as_of, vec![(format, out)]).await
}

/// Credit records page by page: the current ones in store order, or those held at a moment.
struct CreditPages<'s> {
    store: &'s dyn Store,
    as_of: Option<DateTime<Utc>>,
    after: Option<i64>,
    cursor: Option<String>,
    done: bool,
}

impl CreditPages<'_> {
    /// The next page; empty at the end.
    async fn next(&mut self) -> carbonmesh_store::StoreResult<Vec<CreditRecord>> {
        if self.done {
            return Ok(Vec::new());
        }
        match self.as_of {
            None => {
                let page = self.store.credits_page(self.after, PAGE).await?;
                self.after = page.last().map(|c| c.position);
                self.done = page.is_empty();
                Ok(page.into_iter().map(|c| c.record).collect())
            }
            Some(at) => {
                let filter = CreditFilter {
                    as_of: Some(at),
                    ..CreditFilter::default()
                };
                let page = self
                    .store
                    .query_credits(&filter, CreditOrder::Key, self.cursor.as_deref(), PAGE)
                    .await?;
                self.done = !page.has_next_page;
                self.cursor = page.items.last().map(|(cursor, _)| cursor.clone());
                Ok(page.items.into_iter().map(|(_, c)| c).collect())
            }
        }
    }
}

/// Projects page by page, as [`CreditPages`].
async fn project_page(
    store: &dyn Store,
    as_of: Option<DateTime<Utc>>,
    after: Option<&str>,
) -> carbonmesh_store::StoreResult<(Vec<Project>, Option<String>)> {
    match as_of {
        None => {
            let page = store.projects_page(after, PAGE).await?;
            let next = page.last().map(|(_, p)| p.id());
            Ok((page.into_iter().map(|(_, p)| p).collect(), next))
        }
        Some(at) => {
            let filter = ProjectFilter {
                as_of: Some(at),
                ..ProjectFilter::default()
            };
            let page = store
                .query_projects(&filter, ProjectOrder::Id, after, PAGE)
                .await?;
            let next = page
                .items
                .last()
                .filter(|_| page.has_next_page)
                .map(|(cursor, _)| cursor.clone());
            Ok((page.items.into_iter().map(|(_, p)| p).collect(), next))
        }
    }
}

/// Writes every record of `what` to each output in its format, reading the table once;
/// returns how many records each holds.
pub async fn export_many(
    store: &dyn Store,
    what: What,
    generated_at: DateTime<Utc>,
    outputs: Vec<(Format, &mut (dyn Write + Send))>,
) -> anyhow::Result<u64> {
    write_tables(store, what, generated_at, None, outputs).await
}

async fn write_tables(
    store: &dyn Store,
    what: What,
    generated_at: DateTime<Utc>,
    as_of: Option<DateTime<Utc>>,
    outputs: Vec<(Format, &mut (dyn Write + Send))>,
) -> anyhow::Result<u64> {
    let mut writer = Writers {
        cells: outputs.iter().any(|(f, _)| *f != Format::Jsonl),
        each: outputs
            .into_iter()
            .map(|(format, out)| Writer::new(format, out, what, generated_at))
            .collect::<anyhow::Result<_>>()?,
    };
    let mut written = 0;
    match what {
        What::Credits => {
            // The next page is read while this one is written: the database (a blocking
            // thread for SQLite, the server for PostgreSQL) works beside the encoding. At
            // most three pages are in memory.
            let (pages, mut received) = tokio::sync::mpsc::channel(1);
            let mut source = CreditPages {
                store,
                as_of,
                after: None,
                cursor: None,
                done: false,
            };
            let read = async move {
                loop {
                    let page = source.next().await;
                    let end = page.as_ref().map_or(true, Vec::is_empty);
                    if pages.send(page).await.is_err() || end {
                        return;
                    }
                }
            };
            // Owns the receiver, so that a failed write ends the read too.
            let (records, count) = (&mut writer, &mut written);
            let write = async move {
                while let Some(page) = received.recv().await {
                    let page = page.context("cannot read credit records")?;
                    for credit in &page {
                        records
                            .record(credit, || credit_row(credit))
                            .with_context(|| {
                                format!("credit record {} {}", credit.registry, credit.record_key)
                            })?;
                        *count += 1;
                    }
                }
                anyhow::Ok(())
            };
            let ((), wrote) = futures::join!(read, write);
            wrote?;
        }
        What::Projects => {
            let mut after: Option<String> = None;
            loop {
                let (page, next) = project_page(store, as_of, after.as_deref())
                    .await
                    .context("cannot read projects")?;
                for project in &page {
                    let line = ProjectLine::of(project);
                    writer.record(&line, || project_row(&line))?;
                    written += 1;
                }
                match next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        What::Rejected => {
            for r in store
                .rejected(u32::MAX)
                .await
                .context("cannot read rejected records")?
            {
                writer.record(&r, || {
                    vec![
                        Cell::text(&r.connector),
                        Cell::text(&r.source),
                        Cell::opt_uint(r.line),
                        Cell::opt_text(r.field.as_deref()),
                        Cell::text(&r.reason),
                        Cell::text(&r.raw),
                        r.run_id.map_or(Cell::Null, Cell::Int),
                        Cell::Time(r.rejected_at),
                        Cell::Time(r.last_seen_at),
                        Cell::uint(r.seen_count),
                    ]
                })?;
                written += 1;
            }
        }
        What::Runs => {
            for run in store.runs(u32::MAX).await.context("cannot read runs")? {
                writer.record(&run, || {
                    vec![
                        Cell::Int(run.id),
                        Cell::text(&run.connector),
                        Cell::text(&run.trigger),
                        Cell::text(run.status.to_string()),
                        Cell::Time(run.started_at),
                        Cell::opt_time(run.finished_at),
                        Cell::uint(run.counts.seen),
                        Cell::uint(run.counts.new),
                        Cell::uint(run.counts.changed),
                        Cell::uint(run.counts.unchanged),
                        Cell::uint(run.counts.rejected),
                        Cell::text(run.errors.join(" | ")),
                    ]
                })?;
                written += 1;
            }
        }
        What::Webhooks => {
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
                            Cell::text(&d.connector),
                            Cell::text(&d.id),
                            Cell::Time(d.received_at),
                            Cell::text(d.kind.to_string()),
                            Cell::text(&d.verification),
                            Cell::text(d.status.to_string()),
                            Cell::Int(d.attempts.into()),
                            Cell::opt_text(d.error.as_deref()),
                            Cell::opt_time(d.processed_at),
                            Cell::uint(d.payload.len() as u64),
                        ]
                    })?;
                    written += 1;
                }
            }
        }
        What::WebhookRejections => {
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
                        Cell::text(&r.connector),
                        Cell::text(&r.reason),
                        Cell::uint(r.count),
                        Cell::Time(r.last_at),
                    ]
                })?;
                written += 1;
            }
        }
        What::Alerts => {
            written = crate::alert_export::each_alert(store, PAGE, |alert| {
                writer.record(&alert, || alert.row())
            })
            .await?;
        }
        What::Notifications => {
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
                            Cell::Int(n.position),
                            Cell::text(&n.endpoint),
                            Cell::text(n.kind.to_string()),
                            Cell::text(&n.alert_id),
                            Cell::text(&n.message_id),
                            Cell::text(n.state.as_str().to_owned()),
                            Cell::Int(n.attempts.into()),
                            Cell::opt_text(n.last_error.as_deref()),
                            Cell::Time(n.last_attempt_at),
                            Cell::opt_time(n.delivered_at),
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

fn credit_row(c: &CreditRecord) -> Vec<Cell<'_>> {
    let range = c.serial_range.as_ref();
    vec![
        Cell::text(c.registry.to_string()),
        Cell::text(c.project_id()),
        Cell::text(&c.record_key),
        Cell::text(c.transaction_type.value.to_string()),
        Cell::text(&c.transaction_type.raw),
        Cell::Decimal(c.quantity),
        c.vintage.map_or(Cell::Null, |v| Cell::Int(v.into())),
        Cell::opt_text(c.serial.as_deref()),
        Cell::opt_text(range.map(|r| r.namespace.as_str())),
        Cell::opt_uint(range.map(|r| r.start)),
        Cell::opt_uint(range.map(|r| r.end)),
        c.event_date.map_or(Cell::Null, Cell::Date),
        Cell::text(c.status.value.to_string()),
        Cell::text(&c.status.raw),
        Cell::opt_text(c.account.as_deref()),
        Cell::opt_text(c.beneficiary.as_deref()),
        Cell::opt_text(c.reason.as_deref()),
        Cell::opt_text(c.note.as_deref()),
        Cell::opt_text(c.monitoring_period.as_ref().map(|p| {
            let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            format!("{}/{}", day(p.start), day(p.end))
        })),
    ]
}

/// A project as exported: the stored record and, beside its raw sector, category and type,
/// the harmonized category and type they map to now.
#[derive(Serialize)]
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

fn project_row<'a>(line: &ProjectLine<'a>) -> Vec<Cell<'a>> {
    let p = line.project;
    vec![
        Cell::text(p.registry.to_string()),
        Cell::text(p.id()),
        Cell::text(&p.registry_project_id),
        Cell::text(&p.name),
        Cell::opt_text(p.developer.as_deref()),
        Cell::opt_text(p.country.as_deref()),
        Cell::opt_text(p.country_raw.as_deref()),
        Cell::opt_text(p.status.as_ref().map(|s| s.value.to_string())),
        Cell::opt_text(p.status.as_ref().map(|s| s.raw.as_str())),
        Cell::opt_text(p.methodology.as_deref()),
        Cell::opt_text(p.sector.as_deref()),
        Cell::opt_text(p.category.as_deref()),
        Cell::opt_text(p.project_type.as_deref()),
        Cell::opt_text(line.harmonized_category),
        Cell::opt_text(line.harmonized_type),
        Cell::text(
            p.cross_references
                .iter()
                .map(|x| match x.registry {
                    Some(r) => format!("{r}:{}", x.id),
                    None => format!("other:{}", x.id),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ]
}

/// A JSON line: the record's fields, then `generated_at`.
#[derive(Serialize)]
struct Stamped<'a, T> {
    #[serde(flatten)]
    record: &'a T,
    generated_at: &'a str,
}

/// Several outputs of one table, each row computed once.
struct Writers<'a> {
    each: Vec<Writer<'a>>,
    /// Whether an output needs the row's cells (all but JSON lines do).
    cells: bool,
}

impl Writers<'_> {
    fn record<'r, T: serde::Serialize>(
        &mut self,
        value: &T,
        row: impl FnOnce() -> Vec<Cell<'r>>,
    ) -> anyhow::Result<()> {
        let cells = if self.cells { row() } else { Vec::new() };
        for writer in &mut self.each {
            writer.record(value, &cells)?;
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        self.each.into_iter().try_for_each(Writer::finish)
    }
}

/// CSV rows, JSON lines or a Parquet file, into one output.
enum Writer<'a> {
    Csv {
        csv: Box<csv::Writer<&'a mut (dyn Write + Send)>>,
        generated_at: String,
    },
    Jsonl {
        out: std::io::BufWriter<&'a mut (dyn Write + Send)>,
        generated_at: String,
    },
    Parquet(Box<ParquetWriter<&'a mut (dyn Write + Send)>>),
}

impl<'a> Writer<'a> {
    /// A writer of `what`'s rows; a CSV starts with its header row.
    fn new(
        format: Format,
        out: &'a mut (dyn Write + Send),
        what: What,
        generated_at: DateTime<Utc>,
    ) -> anyhow::Result<Self> {
        let stamp = rfc3339(generated_at);
        Ok(match format {
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                let names = what.columns().iter().map(|c| c.name);
                csv.write_record(names.chain([GENERATED_AT_COLUMN]))?;
                Writer::Csv {
                    csv: Box::new(csv),
                    generated_at: stamp,
                }
            }
            Format::Jsonl => Writer::Jsonl {
                out: std::io::BufWriter::with_capacity(1 << 16, out),
                generated_at: stamp,
            },
            Format::Parquet => Writer::Parquet(Box::new(ParquetWriter::new(
                out,
                what.table(),
                what.columns(),
                generated_at,
            )?)),
        })
    }

    fn record<T: serde::Serialize>(&mut self, value: &T, cells: &[Cell]) -> anyhow::Result<()> {
        match self {
            Writer::Csv { csv, generated_at } => {
                for cell in cells {
                    csv.write_field(cell.to_csv().as_bytes())?;
                }
                csv.write_field(generated_at.as_bytes())?;
                // Ends the record the fields above began.
                csv.write_record(std::iter::empty::<&[u8]>())?;
            }
            Writer::Jsonl { out, generated_at } => {
                let line = Stamped {
                    record: value,
                    generated_at,
                };
                serde_json::to_writer(&mut *out, &line)?;
                out.write_all(b"\n")?;
            }
            Writer::Parquet(parquet) => parquet.push(cells)?,
        }
        Ok(())
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Writer::Csv { mut csv, .. } => csv.flush()?,
            Writer::Jsonl { mut out, .. } => out.flush()?,
            Writer::Parquet(parquet) => parquet.finish()?.flush()?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod readme {
    use super::{CREDIT_COLUMNS, PROJECT_COLUMNS};
    use crate::export::cell::Column;

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

    /// The names of `columns`, then the `generated_at` every export ends with.
    fn names(columns: &[Column]) -> Vec<String> {
        columns
            .iter()
            .map(|c| c.name.to_owned())
            .chain(["generated_at".to_owned()])
            .collect()
    }

    #[test]
    fn the_readme_documents_the_export_columns() {
        assert_eq!(documented("projects"), names(&PROJECT_COLUMNS));
        assert_eq!(documented("credits"), names(&CREDIT_COLUMNS));
    }
}
