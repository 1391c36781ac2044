//! The records as they stood at a moment: derived tables with the columns of `credits` and
//! `projects`, holding of each record the version that was current then.
//!
//! A record's current row is taken when it was written at or before the moment; otherwise
//! its latest superseded version written by then (versions keep the time they were first
//! written); a record first written later is left out. Listings, counts and statistics run
//! their usual statements over these tables instead of the live ones, so every filter and
//! order works as of a moment too. Statistics then sum records, not the totals. A credit
//! record retracted by then carries its `retracted_at`, which the listings leave out as they
//! do on the live table.

use chrono::{DateTime, Utc};

use crate::db::Arg;
use crate::queries::Select;
use crate::records::columns::{CREDIT_CONTENT, PROJECT_CONTENT};

/// Columns after the content, in both the live tables and the version tables.
const TRAILING: [&str; 6] = [
    "content_hash",
    "raw_hash",
    "origin",
    "line",
    "version",
    "written_at",
];

/// The moment's placeholder. Add it before any other argument of the statement: SQLite
/// numbers parameters in order of appearance, and the derived tables come first (in `FROM`).
pub(crate) fn moment(q: &mut Select, at: DateTime<Utc>) -> String {
    q.arg(Arg::Instant(Some(at)))
}

/// `live.col` while the live row is the one, else `v.col`, for each column.
fn chosen(live: &str, fk: &str, columns: impl IntoIterator<Item = &'static str>) -> String {
    columns
        .into_iter()
        .map(|c| format!("CASE WHEN v.{fk} IS NULL THEN {live}.{c} ELSE v.{c} END AS {c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `credits` as of the moment `at` (a placeholder from [`moment`]), to be aliased by the
/// caller (`FROM {credits_at} c`).
pub(crate) fn credits_at(at: &str) -> String {
    let columns = chosen(
        "c",
        "credit",
        CREDIT_CONTENT
            .iter()
            .chain(&TRAILING)
            .chain(&["retracted_at"])
            .copied(),
    );
    format!(
        "(SELECT c.id, c.registry, c.key_hash, c.record_key, {columns}, \
         CASE WHEN v.credit IS NULL THEN c.serial_bucket END AS serial_bucket \
         FROM credits c LEFT JOIN credit_versions v ON c.written_at > {at} AND v.credit = c.id \
         AND v.version = (SELECT MAX(w.version) FROM credit_versions w \
         WHERE w.credit = c.id AND w.written_at <= {at}) \
         WHERE c.written_at <= {at} OR v.credit IS NOT NULL)"
    )
}

/// `projects` as of the moment `at`, as [`credits_at`].
pub(crate) fn projects_at(at: &str) -> String {
    let columns = chosen(
        "p",
        "project",
        PROJECT_CONTENT.iter().chain(&TRAILING).copied(),
    );
    format!(
        "(SELECT p.id, p.key, p.registry, p.registry_project_id, {columns} \
         FROM projects p LEFT JOIN project_versions v ON p.written_at > {at} \
         AND v.project = p.id AND v.version = (SELECT MAX(w.version) FROM project_versions w \
         WHERE w.project = p.id AND w.written_at <= {at}) \
         WHERE p.written_at <= {at} OR v.project IS NOT NULL)"
    )
}

/// The `credits` and `projects` sources of a statement: the live tables, or as of a moment
/// (whose placeholder this adds first).
pub(crate) struct Sources {
    pub credits: String,
    pub projects: String,
}

impl Sources {
    pub(crate) fn new(q: &mut Select, as_of: Option<DateTime<Utc>>) -> Self {
        match as_of {
            None => Self {
                credits: "credits".to_owned(),
                projects: "projects".to_owned(),
            },
            Some(at) => {
                let at = moment(q, at);
                Self {
                    credits: credits_at(&at),
                    projects: projects_at(&at),
                }
            }
        }
    }
}
